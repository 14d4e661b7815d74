"""Each result is computed from the inputs its text names: recomputed here, independently, from the models and images
of a quick run of the whole notebook (the session's `watched_retrain`, executed in this process, so that its models
and images can be read), so that a cell fed the wrong images or labels fails a test even when every number it
prints looks plausible."""

import re

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from notebook_access import read_notebook


@pytest.fixture(scope="module")
def run(watched_retrain):
    _, namespace, metrics = watched_retrain
    return namespace, metrics


def per_image_mse(images: torch.Tensor, reconstructions: torch.Tensor) -> np.ndarray:
    clean, made = (tensor.detach().cpu().double().numpy().reshape(len(tensor), -1) for tensor in (images, reconstructions))
    return ((clean - made) ** 2).mean(axis=1)


def outputs_of(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[i:i + 500]) for i in range(0, len(images), 500)])


def test_the_denoised_psnr_is_the_denoisers_output_on_the_noisy_test_images(run):
    namespace, metrics = run
    clean = namespace["test_images"]
    # The noisy test images as section 13 describes them: N(0, 0.3^2) noise from seed SEED + 1, clipped to [0, 1].
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(namespace["SEED"] + 1)) * 0.3
    noisy = (clean.cpu() + noise).clamp(0, 1).to(clean.device)
    for key, model in [("denoised", namespace["denoiser"]), ("plain_cnn", namespace["cnn"])]:
        psnr = np.mean(10 * np.log10(1 / per_image_mse(clean, outputs_of(model, noisy))))
        assert metrics["denoising"][f"psnr_{key}"] == pytest.approx(psnr, rel=1e-5), key
    # The denoiser's output on the clean images would score otherwise: the check above can tell the two apart.
    clean_input_psnr = np.mean(10 * np.log10(1 / per_image_mse(clean, outputs_of(namespace["denoiser"], clean))))
    assert clean_input_psnr != pytest.approx(metrics["denoising"]["psnr_denoised"], rel=1e-3)


def test_both_roc_aucs_rank_the_held_out_class_by_the_named_models_errors(run):
    namespace, metrics = run
    anomaly, bag = metrics["anomaly"], namespace["CLASS_NAMES"].index("Bag")
    is_bag = (namespace["test_labels"] == bag).cpu().numpy()
    without_bags = per_image_mse(namespace["test_images"], outputs_of(namespace["anomaly_detector"], namespace["test_images"]))
    # The same layers and recipe trained on all ten classes (not the original model, whose recipe differs).
    all_classes = per_image_mse(namespace["test_images"], outputs_of(namespace["plain_2d"], namespace["test_images"]))
    assert anomaly["roc_auc"] == pytest.approx(roc_auc_score(is_bag, without_bags), abs=1e-4)
    assert anomaly["roc_auc_trained_on_all_classes"] == pytest.approx(roc_auc_score(is_bag, all_classes), abs=1e-4)
    assert anomaly["roc_auc"] > 0.5 and anomaly["roc_auc_trained_on_all_classes"] > 0.5  # both above chance


def test_the_threshold_is_the_percentile_of_the_normal_validation_images_scores(run):
    namespace, metrics = run
    bag = namespace["CLASS_NAMES"].index("Bag")
    validation_images, validation_labels = namespace["validation_images"], namespace["validation_labels"]
    normal = validation_images[validation_labels != bag]
    scores = per_image_mse(normal, outputs_of(namespace["anomaly_detector"], normal))
    assert metrics["anomaly"]["threshold"] == pytest.approx(np.percentile(scores, 99), rel=1e-4)
    flagged = per_image_mse(namespace["test_images"], outputs_of(namespace["anomaly_detector"],
                                                                 namespace["test_images"])) > np.percentile(scores, 99)
    assert metrics["anomaly"]["flagged"] == pytest.approx(flagged.sum(), abs=2)


def test_every_model_trained_on_the_training_images_it_names(run, checkpoint_dir):
    namespace, metrics = run
    train_size = namespace["TRAIN_SIZE"] or 60_000
    kept = train_size - namespace["VALIDATION_SIZE"]  # every model but the original two leaves the validation images out
    bag = namespace["CLASS_NAMES"].index("Bag")
    setups = {path.name: torch.load(path, weights_only=True)["setup"] for path in checkpoint_dir.glob("*-quick.pt")}

    def non_bags(seed: int) -> int:  # the seed draws the validation images, and so which bags are left to train on
        training, _ = namespace["validation_split"](train_size, namespace["VALIDATION_SIZE"], seed)
        return int((namespace["train_labels"].cpu()[training] != bag).sum())

    # The two originals, six study models, the denoiser, the anomaly detector and its all-classes twin, the VAE, and
    # the two wide models.
    assert len(setups) == 14
    for name, setup in setups.items():
        expected = train_size if name in {"feedforward-quick.pt", "cnn-quick.pt"} else non_bags(setup["seed"]) if (
            name.startswith("anomaly")) else kept
        assert setup["train_images"] == expected, name
    assert (metrics["train_images"], metrics["training_images"]) == (train_size, kept)
    # The validation images are none of the training images, and together they are the original's training set.
    rows = torch.cat([namespace["training_rows"], namespace["validation_rows"]]).cpu()
    assert torch.equal(rows.sort().values, torch.arange(train_size))
    assert torch.equal(namespace["validation_images"], namespace["train_images"][namespace["validation_rows"]])


def test_the_vae_test_loss_is_its_written_out_loss_on_the_test_images(run):
    namespace, metrics = run
    vae, images = namespace["vae"], namespace["test_images"]
    vae.eval()
    generator = torch.Generator(device=images.device).manual_seed(namespace["SEED"])
    losses, kls = [], []
    with torch.no_grad():
        for i in range(0, len(images), 256):  # vae_test_loss's batches, with its own generator
            batch = images[i:i + 256]
            mean, log_variance = vae.encoder(batch).chunk(2, dim=1)
            codes = mean + (0.5 * log_variance).exp() * torch.randn(mean.shape, generator=generator, device=images.device)
            p, x = vae.decoder(codes).double(), batch.double()
            # Binary cross-entropy as PyTorch defines it, each logarithm clamped at -100 (a pixel of exactly 0 or 1).
            losses.append(-(x * p.log().clamp(min=-100) + (1 - x) * (1 - p).log().clamp(min=-100)).flatten(1).sum(dim=1))
            kls.append(0.5 * (mean.double() ** 2 + log_variance.double().exp() - 1 - log_variance.double()).sum(dim=1))
    reconstruction, kl = torch.cat(losses).mean().item(), torch.cat(kls).mean().item()
    assert metrics["vae"]["reconstruction"] == pytest.approx(reconstruction, rel=1e-4)
    assert metrics["vae"]["kl"] == pytest.approx(kl, rel=1e-4)
    assert metrics["vae"]["test_loss"] == pytest.approx(reconstruction + kl, rel=1e-4)
    mse = per_image_mse(images, outputs_of(vae, images)).mean()  # from the mean codes
    assert metrics["vae"]["mse"] == pytest.approx(mse, rel=1e-4)


def test_the_device_is_the_one_asked_for_and_every_model_is_on_it(run):
    namespace, _ = run
    code = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")
    assert re.findall(r"^DEVICE = .*$", code, re.MULTILINE) == ["DEVICE = pick_device(REQUESTED_DEVICE)"]
    assert not re.search(r"\bDEVICE\s*=(?!=)", code.replace("DEVICE = pick_device(REQUESTED_DEVICE)", ""))
    for name in ("feedforward", "cnn", "denoiser", "anomaly_detector", "plain_2d", "vae"):
        assert all(p.device == namespace["DEVICE"] for p in namespace[name].parameters()), name
    for (kind, code_size), model in namespace["study_models"].items():
        assert all(p.device == namespace["DEVICE"] for p in model.parameters()), (kind, code_size)


def test_no_cell_writes_to_stderr(quick_run):
    notebook, _ = quick_run
    written = [(cell.source[:60], output.text[:200]) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs if output.output_type == "stream" and output.name == "stderr"]
    assert written == []
    assert not any(output.output_type == "error" for cell in notebook.cells for output in cell.get("outputs", []))


def trainings_held_out_on_test_images(code: str) -> list[str]:
    """The models that a notebook's code trains, beyond the original two, while watching the test images: a choice
    made from their curves (the epochs, the recipe) would be made on the images that judge them."""
    calls = re.findall(r"train_or_load\((\w+(?:\[[^\]]+\])?),\s*[^,]+,\s*(\w+(?:\[\w+\])?),\s*(\w+(?:\[\w+\])?)", code)
    assert len(calls) >= 8, calls
    return [model for model, _, held_out in calls if model not in {"feedforward", "cnn"} and "test" in held_out]


def test_every_choice_is_made_on_validation_images_and_a_choice_made_on_test_images_fails(run):
    namespace, _ = run
    code = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")
    assert trainings_held_out_on_test_images(code) == []
    # The original two watch the test images, as the original did; any other model that did is caught.
    watching_test = code.replace("training_images, validation_images, recipe=TWO_NUMBER_RECIPE",
                                 "training_images, test_images, recipe=TWO_NUMBER_RECIPE", 1)
    assert trainings_held_out_on_test_images(watching_test) != []
    # The notebook's "best" at a code size follows the validation images where the test images would pick the other.
    study = [{"model": "pca", "code_size": 2, "validation_mse": 0.05, "mse": 0.05},
             {"model": "feedforward", "code_size": 2, "validation_mse": 0.020, "mse": 0.030},
             {"model": "cnn", "code_size": 2, "validation_mse": 0.025, "mse": 0.010}]
    committed_study, namespace["code_size_study"] = namespace["code_size_study"], study  # what best_on_validation reads

    def picks_on_validation(choose) -> bool:
        return choose(2)["model"] == "feedforward"

    try:
        assert picks_on_validation(namespace["best_on_validation"])
    finally:
        namespace["code_size_study"] = committed_study
    chosen_on_test = lambda code: min((row for row in study if row["model"] != "pca"), key=lambda row: row["mse"])
    assert not picks_on_validation(chosen_on_test)
