"""A ledger of the notebook's comparative claims that no other test holds: each sentence as it stands in the prose,
and the numbers that make it true: the committed run's (results/metrics.json), those the experiments measured on
its models (results/anomaly_by_class.json, results/probe-convergence.json, results/code-spaces.json), or the data's
own. A sentence whose claim is reversed or weakened no longer matches, and numbers that no longer bear it out fail.
(The numbers quoted in prose are held by tests/test_prose.py, the seed study's claims by tests/test_seeds.py.)"""

import io
import itertools
import json
import re
import statistics

import pytest
import torch
from PIL import Image

from notebook_access import ROOT, code_quality_row, codec, quantized, read_notebook, shows, study_row
from prose import quoted


@pytest.fixture(scope="module")
def metrics():
    return json.loads((ROOT / "results" / "metrics.json").read_text())


@pytest.fixture(scope="module")
def prose() -> str:
    markdown = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "markdown")
    return " ".join(re.sub(r"^> ", "", markdown, flags=re.MULTILINE).split())  # a "Try it" quote reads as prose


def says(prose: str, sentence: str) -> None:
    assert sentence in prose, f"the notebook no longer says {sentence!r}"


def test_the_cnns_test_loss_is_several_times_lower_after_every_epoch(prose, metrics):
    says(prose, "After every epoch the CNN's test loss is several times lower.")
    ff, cnn = (metrics["models"][model]["history"]["test_loss"] for model in ("feedforward", "cnn"))
    assert min(a / b for a, b in zip(ff, cnn)) >= 3


def test_the_true_mae_is_several_times_the_original_metric_for_both_models(prose, metrics):
    says(prose, "For both models the true MAE per image is several times the original metric")
    says(prose, "most pixel errors cancel in the signed sum")  # what is left of them is a third or less
    assert all(metrics["models"][model]["mae_mean"] >= 3 * metrics["models"][model]["original_metric_mean"]
               for model in ("feedforward", "cnn"))


def test_the_cnns_errors_are_several_times_smaller_and_more_even_across_classes(prose, metrics):
    says(prose, "The CNN's errors are several times smaller and more even across classes")
    ff, cnn = metrics["per_class_mae"]["feedforward"], metrics["per_class_mae"]["cnn"]
    assert all(ff[name] >= 2 * cnn[name] for name in ff)
    spread = {name: statistics.pstdev(errors.values()) / statistics.fmean(errors.values())
              for name, errors in (("feedforward", ff), ("cnn", cnn))}
    assert spread["cnn"] < spread["feedforward"]


def test_the_feedforward_model_reconstructs_sneakers_and_trousers_best_and_bags_worst(prose, metrics, notebook, data_root):
    says(prose, "it reconstructs best the classes whose shapes vary least (sneakers and trousers), and worst bags, "
                "whose shapes vary most.")
    ff = metrics["per_class_mae"]["feedforward"]
    assert sorted(ff, key=ff.get)[:2] == ["Sneaker", "Trouser"] and max(ff, key=ff.get) == "Bag"
    # How much a class's shapes vary: the variance of each pixel over the class's training images, averaged.
    images, labels = notebook["load_split"](data_root, train=True, device=torch.device("cpu"))
    variation = {name: images[labels == k].flatten(1).var(dim=0).mean().item()
                 for k, name in enumerate(notebook["CLASS_NAMES"])}
    assert set(sorted(variation, key=variation.get)[:2]) == {"Sneaker", "Trouser"}
    assert max(variation, key=variation.get) == "Bag"


def test_two_numbers_lose_a_lot_and_pcas_two_most(prose, metrics):
    says(prose, "Two numbers lose a lot, and PCA's two numbers most.")
    for model in ("pca", "feedforward", "cnn"):
        assert code_quality_row(metrics, model, 32)["knn_accuracy"] - code_quality_row(metrics, model, 2)["knn_accuracy"] > 0.1
    two = [("pca", 2, False), ("feedforward", 2, True), ("feedforward", 2, False), ("cnn", 2, False)]
    for key in ("knn_accuracy", "probe_accuracy"):
        assert min(two, key=lambda code: code_quality_row(metrics, *code)[key])[0] == "pca", key


def test_bags_stand_out_most_and_shirts_sneakers_and_pullovers_least(prose):
    says(prose, "Bags stand out most; shirts, sneakers and pullovers are barely told from the rest")
    rows = json.loads((ROOT / "results" / "anomaly_by_class.json").read_text())["classes"]
    auc = {row["held_out_class"]: row["roc_auc"] for row in rows}
    assert max(auc, key=auc.get) == "Bag"
    assert set(sorted(auc, key=auc.get)[:3]) == {"Shirt", "Sneaker", "Pullover"}


def test_the_retrieval_uses_the_best_32_number_model_the_convolutional_one(prose, metrics):
    says(prose, "by the 32-number codes of the best model (the convolutional one)")
    rows = [row for row in metrics["code_size_study"] if row["code_size"] == 32 and row["model"] != "pca"]
    assert min(rows, key=lambda row: row["mse"])["model"] == "cnn"


def test_claims_that_the_numbers_never_showed_stay_out():
    # Found wrong or unmeasured (issue 31), kept out.
    text = " ".join((ROOT / "README.md").read_text().split())
    notebook = " ".join("\n".join(cell.source for cell in read_notebook().cells).split())
    for claim in ("came from its code", "edge came from", "Most of the separation comes from novelty",
                  "decodes to plausible images everywhere", "this one has none", "under 40 seconds",
                  "run fastest on CPUs and NVIDIA GPUs", "tens of percent", "plain, common shapes",
                  "carry most of what the labels say", "ghost of both", "within about two standard deviations",
                  "find garments of the query's kind", "smooth silhouettes"):
        assert claim not in text and claim not in notebook, claim


def test_the_copying_cnn_removes_some_noise_but_keeps_most_and_the_denoiser_had_a_sixth_of_the_training(prose, metrics):
    says(prose, "The original CNN, trained only to copy, removes some of it")
    says(prose, "but keeps most of the speckle")
    says(prose, "The denoising CNN, with the same architecture and a sixth of the training")
    denoising = metrics["denoising"]
    assert 0.5 < denoising["mse_plain_cnn"] / denoising["mse_noisy"] < 1  # most of the squared error stays
    assert 6 * denoising["epochs"] == metrics["epochs"]


def test_the_probes_accuracies_are_settled_to_about_two_tenths_of_a_point(prose, metrics):
    says(prose, "The probe's accuracies on the pixels and the CNN's code are settled to about two tenths of a point: a "
                "test of convergence a hundred times tighter moves about a hundred test images to another class.")
    # experiments/probe_convergence.py, on the committed run's original CNN
    convergence = json.loads((ROOT / "results" / "probe-convergence.json").read_text())
    assert convergence["tighter_tolerance"] == pytest.approx(convergence["tolerance"] / 100)
    for name, row_key in (("pixels", ("pixels", 784)), ("cnn", ("cnn", 1568, True))):
        row = convergence["representations"][name]
        assert row["accuracy"] == pytest.approx(code_quality_row(metrics, *row_key)["probe_accuracy"], abs=1e-6)  # the committed run's probe
        assert 0.1 <= abs(row["difference_points"]) <= 0.3
        assert 50 <= row["images_changing_class"] <= 200


def test_the_cnn_has_about_30_times_fewer_parameters_and_a_code_twice_the_image(prose, metrics):
    says(prose, "so this model has about 30 times fewer parameters than the feedforward one")
    says(prose, "32 × 7 × 7 = **1,568 numbers, twice as many as the 784 pixels**")
    ff, cnn = metrics["models"]["feedforward"], metrics["models"]["cnn"]
    assert 27 <= ff["parameters"] / cnn["parameters"] <= 33
    assert cnn["code_size"] == 32 * 7 * 7 == 2 * 28 * 28


def test_test_and_training_loss_stay_close_and_neither_model_overfits(prose, metrics):
    says(prose, "Test and training loss stay close for both models")
    says(prose, "neither overfits in 30 epochs")
    for model in ("feedforward", "cnn"):
        history = metrics["models"][model]["history"]
        # The training loss is the mean over an epoch, so in the first epoch it carries the untrained start.
        assert max(test / train for test, train in zip(history["test_loss"], history["train_loss"])) < 1.05, model
        assert len(history["test_loss"]) == 30 and history["test_loss"][-1] < 1.01 * min(history["test_loss"]), model


def test_five_epochs_give_most_of_the_gain_and_the_same_table(prose, metrics):
    # With one learning rate throughout, a 5-epoch run of seed 0 is this run's first 5 epochs.
    says(prose, "Set `EPOCHS = 5` in the settings cell (section 1) and run the notebook again: most of the gain comes "
                "in the first few epochs, so the table of section 7 tells the same story.")
    models = metrics["models"]
    for model in ("feedforward", "cnn"):
        start, losses = models[model]["untrained_mse"], models[model]["history"]["test_loss"]
        assert (start - losses[4]) / (start - losses[-1]) > 0.9, model
    for key in ("test_loss", "test_mae_mean", "test_original_metric_mean"):  # section 7's three errors
        assert models["cnn"]["history"][key][4] < models["feedforward"]["history"][key][4], key


def test_the_original_metric_moves_by_tens_of_percent_over_the_last_epochs_and_the_true_mae_by_one_or_two(prose, metrics):
    found = quoted(prose, r"Over the last 10 epochs the original metric moved by (\d+)% \(feedforward\) and "
                                  r"(\d+)% \(CNN\), the true MAE by (\d+) and (\d+)%\.")

    def moved(model: str, key: str) -> float:
        last = metrics["models"][model]["history"][key][-10:]
        return 100 * (max(last) - min(last)) / min(last)

    expected = [moved("feedforward", "test_original_metric_mean"), moved("cnn", "test_original_metric_mean"),
                moved("feedforward", "test_mae_mean"), moved("cnn", "test_mae_mean")]
    assert all(map(shows, found, expected)), (found, expected)


def test_no_codec_makes_a_file_as_small_as_a_quantised_code_and_jpegs_smallest_are_mostly_header(prose, metrics,
                                                                                                 notebook, data_root):
    says(prose, "The codecs cannot make a file that small: for about the same quality WebP's smallest file takes")
    says(prose, "**At 28 × 28 pixels JPEG's fixed cost dominates**: even at quality 5 its file is")
    says(prose, "bytes, mostly header and tables.")
    compression = metrics["compression"]
    code = quantized(metrics, "feedforward", 32, 4)
    codecs = compression["codecs"]
    assert min(point["bytes_mean"] for point in codecs) > 2 * code["entropy_bits"] / 8
    smallest_webp = min((point for point in codecs if point["codec"] == "WEBP"), key=lambda point: point["bytes_mean"])
    smallest_jpeg_as_good = min((point for point in codecs if point["codec"] == "JPEG" and point["psnr"] >= code["psnr"]),
                                key=lambda point: point["bytes_mean"])
    for point in (smallest_webp, smallest_jpeg_as_good):  # "about the same quality": within 1 dB
        assert abs(point["psnr"] - code["psnr"]) < 1, point
    # A JPEG file's header and tables are everything before its entropy-coded data, which starts after the
    # start-of-scan segment (marker FFDA and its length).
    images, _ = notebook["load_split"](data_root, train=False, device=torch.device("cpu"))
    headers = []
    for pixels in (images[:20, 0] * 255).round().to(torch.uint8).numpy():
        file = io.BytesIO()
        Image.fromarray(pixels).save(file, format="JPEG", quality=5)
        data = file.getvalue()
        start_of_scan = data.index(b"\xff\xda")
        headers.append(start_of_scan + 2 + int.from_bytes(data[start_of_scan + 2:start_of_scan + 4], "big"))
    jpeg_5 = codec(metrics, "JPEG", 5)
    assert len(set(headers)) == 1 and headers[0] > 0.5 * jpeg_5["bytes_mean"], (headers, jpeg_5["bytes_mean"])


def test_a_changed_held_out_class_comes_out_near_the_tables_row(prose, metrics):
    says(prose, "the ROC-AUC should come out near the table's")
    rows = json.loads((ROOT / "results" / "anomaly_by_class.json").read_text())["classes"]
    bag = next(row for row in rows if row["held_out_class"] == "Bag")  # the committed run's held-out class
    assert abs(bag["roc_auc"] - metrics["anomaly"]["roc_auc"]) < 0.01


@pytest.fixture(scope="module")
def code_spaces() -> dict:
    # experiments/code_spaces.py: sections 9's and 15's maps, measured on the committed run's models.
    return json.loads((ROOT / "results" / "code-spaces.json").read_text())


def test_the_code_spaces_were_measured_on_the_committed_runs_models(code_spaces, metrics):
    assert code_spaces["feedforward"]["test_mse"] == pytest.approx(metrics["models"]["feedforward"]["mse"], rel=1e-6)
    assert code_spaces["vae"]["test_mse"] == pytest.approx(metrics["vae"]["mse"], rel=1e-6)


def test_down_the_trousers_arm_the_decoder_draws_ever_brighter_sharper_trousers(prose, code_spaces):
    says(prose, "Move the cross down (`code 2`) into the trousers' arm of the map and past its end: the trousers grow "
                "brighter and sharper, and stay trousers to the edge of the map, far below every code.")
    space = code_spaces["feedforward"]
    walk = space["trousers_walk"]  # from the trousers' median code down to the map's lowest point
    assert walk[-1]["code"][1] == pytest.approx(space["map_low"][1])
    assert walk[-1]["code"][1] < space["lowest_code_2"]["trousers"] < walk[0]["code"][1]
    assert all(point["judged_class"] == "Trouser" for point in walk)
    for key in ("brightness", "sharpness"):
        values = [point[key] for point in walk]
        assert all(earlier < later for earlier, later in itertools.pairwise(values)), key
    lowest = min(space["lowest_code_2"]["test"], space["lowest_code_2"]["training"])
    assert lowest - space["map_low"][1] > (space["map_high"][1] - space["map_low"][1]) / 8  # "far below every code"


def test_the_bottom_left_corner_of_the_feedforward_map_is_empty(prose, code_spaces):
    says(prose, "Then put it in the empty bottom-left corner, where no training image has its code")
    says(prose, "Section 9's map had an empty corner")
    counts = code_spaces["feedforward"]["training_codes_per_map_cell"]  # [column from the left][row from the bottom]
    assert counts[0][0] == 0 and sum(map(sum, counts)) == 60_000


def test_the_vaes_mean_codes_lie_within_three_deviations_with_a_hole_at_the_centre(prose, code_spaces):
    within_3, within_half, prior_half = quoted(
        prose, r"Nearly all of the VAE's mean codes \((\d+)%\) lie within three standard deviations of the origin.*"
               r"And few images have codes near the origin, the prior's most likely point \((\d+)% within half a "
               r"standard deviation, where the prior puts (\d+)%\): a hole in the map, where draws decode to faint, "
               r"vague shapes")
    share = code_spaces["vae"]["share_within"]
    assert shows(within_3, 100 * share["3.0"]["codes"]) and share["3.0"]["codes"] > 0.95
    assert shows(within_half, 100 * share["0.5"]["codes"]) and shows(prior_half, 100 * share["0.5"]["prior"])
    assert share["0.5"]["codes"] < share["0.5"]["prior"] / 2  # "few"
    directions = code_spaces["vae"]["directions"]
    for name, by_radius in directions.items():  # "faint": less contrast near the origin than further out
        assert by_radius["0.5"]["contrast"] < by_radius["2.0"]["contrast"], name
    assert code_spaces["vae"]["centre"]["contrast"] < min(row["2.0"]["contrast"] for row in directions.values())


def test_out_from_the_vaes_centre_the_direction_decides_the_garment_and_it_grows_bolder(prose, code_spaces):
    says(prose, "At the centre of the VAE's plane, the most likely code under the prior, the decoder draws a faint, "
                "vague top: few images have codes there. Move the cross out: from about one and a half standard "
                "deviations on, the direction decides the garment (ankle boots along `code 1`, pullovers up, trousers "
                "down to the left, sandals down, sneakers between), and further out the same garment only grows "
                "bolder.")
    vae = code_spaces["vae"]
    assert vae["centre"]["judged_class"] in {"T-shirt/top", "Pullover", "Shirt", "Coat"}
    named = {"right": "Ankle boot", "up": "Pullover", "down left": "Trouser", "down": "Sandal", "down right": "Sneaker"}
    for direction, garment in named.items():
        assert [vae["directions"][direction][radius]["judged_class"] for radius in ("1.5", "2.0", "2.5")] == [garment] * 3
    for direction, by_radius in vae["directions"].items():
        contrast = [by_radius[radius]["contrast"] for radius in ("1.5", "2.0", "2.5")]
        assert all(earlier < later for earlier, later in itertools.pairwise(contrast)), direction


def test_experiments_readme_shows_the_code_spaces(code_spaces):
    text = (ROOT / "experiments" / "README.md").read_text()
    text = text[text.index("## What the explorers show"):]
    shares = re.search(r"\| the VAE's mean codes \| (.*) \|\n *\| the prior \| (.*) \|", text)
    for shown, kind in ((shares[1], "codes"), (shares[2], "prior")):
        for cell, radius in zip(shown.split(" | "), ("0.5", "1.0", "2.0", "3.0"), strict=True):
            assert shows(cell.rstrip("%"), 100 * code_spaces["vae"]["share_within"][radius][kind]), (kind, radius)
    vae = code_spaces["vae"]
    rows = dict(re.findall(r"^ *\| ((?:right|up|left|down)[a-z ]*?|centre)(?: \(.*?\))? \| (.*) \|$", text, re.MULTILINE))
    assert set(rows) == {"centre", *vae["directions"]}
    for name, cells in rows.items():
        images = [vae["centre"]] if name == "centre" else [vae["directions"][name][r] for r in ("0.5", "1.0", "1.5", "2.0", "2.5")]
        shown = [cell.strip() for cell in cells.split("|") if cell.strip()]
        assert len(shown) == len(images), name
        for cell, image in zip(shown, images):
            judged, contrast = cell.rsplit(", ", 1)
            assert judged == image["judged_class"] and shows(contrast, image["contrast"]), (name, cell)


def test_the_original_metric_moves_several_times_as_much_from_seed_to_seed_as_the_true_errors(prose):
    says(prose, "the original metric moves several times as much from seed to seed as the true errors")
    headline = json.loads((ROOT / "results" / "seeds.json").read_text())["headline"]

    def spread(model: str, key: str) -> float:
        numbers = headline[f"models.{model}.{key}"]
        return numbers["std"] / numbers["mean"]

    for model in ("feedforward", "cnn"):
        assert spread(model, "original_metric_mean") >= 3 * max(spread(model, "mae_mean"), spread(model, "mse")), model


def test_the_summary_says_the_two_designs_are_close_at_8_numbers(prose, metrics):
    # "... with the study's epochs and with twice as many; at 8 numbers the two are close": tied after 8 epochs each,
    # and within 1% once the convolutional model has 16 (experiments/doubled_budget.py).
    from experiments import doubled_budget

    says(prose, "with the study's epochs and with twice as many; at 8 numbers the two are close (section 8)")
    record = json.loads((ROOT / "results" / "doubled-budget-avx2.json").read_text())
    relative = doubled_budget.convolutional_against_feedforward(record, metrics)
    assert min(abs(relative[name, 8]) for name, _, _ in doubled_budget.budgets(metrics)) < 0.01
    ff, cnn = (study_row(metrics, model, 8) for model in ("feedforward", "cnn"))
    assert abs(cnn["test_mse_by_epoch"][7] / ff["test_mse_by_epoch"][7] - 1) < 0.005


def test_the_vae_has_the_original_feedforward_models_layers_and_recipe_and_only_its_loss_differs(prose, metrics,
                                                                                                   notebook):
    says(prose, "The VAE has the original feedforward model's layers, optimiser and epochs; only the loss differs.")

    def shapes(model) -> list[tuple[int, ...]]:
        return [tuple(parameter.shape) for parameter in model.parameters()]

    plain, vae = notebook["make_feedforward_autoencoder"](), notebook["make_variational_autoencoder"]()
    assert shapes(vae.decoder) == shapes(plain.decoder)
    # The encoder's last layer gives a mean and a log-variance for each of the 2 code numbers.
    (*hidden, (last_out, last_in), (bias,)) = shapes(vae.encoder)
    assert hidden == shapes(plain.encoder)[:-2] and (last_out, last_in, bias) == (2 * 2, 128, 2 * 2)
    code = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")
    trainings = re.findall(r"train_or_load\((feedforward|vae), .*?\)\n", code, re.DOTALL)
    assert trainings == ["feedforward", "vae"]
    assert re.search(r'train_or_load\(vae, "vae", training_images, test_images, epochs=EPOCHS, loss_function=vae_loss,'
                     r'\s+task="[^"]*"\)', code)  # the same data, epochs and training function; only the loss
    assert metrics["vae"]["epochs"] == metrics["epochs"] == 30


def test_the_cnn_reproduces_the_images_nearly_exactly(prose, metrics):
    says(prose, "The CNN reproduces the images nearly exactly, stripes and lettering included.")
    cnn = metrics["models"]["cnn"]
    assert cnn["mae_per_pixel"] < 0.05 and cnn["mse"] < 0.005  # off by under 5% of the pixel range, on average


def test_the_vaes_reconstructions_are_a_little_worse_than_the_plain_models(prose, metrics):
    says(prose, "Its reconstructions are a little worse than the plain model's with the same layers")
    assert 1 < metrics["vae"]["mse"] / metrics["vae"]["mse_plain_autoencoder"] < 1.1
