"""Re-running the notebook gives the same numbers, a re-run with checkpoints trains nothing, and the seed
(AUTOENCODERS_SEED) decides the numbers."""

import re

import torch

from notebook_access import cell_text
from notebook_access import reproducible_numbers as numbers

# Every model the notebook trains: the original two, the six of the code-size study, and the denoising CNN, the
# anomaly detector (trained without class 8, Bag) and its twin trained on every class, the VAE, and section 16's two.
CHECKPOINTS = ["feedforward", "cnn", *(f"{kind}-{code}" for kind in ("cnn", "feedforward") for code in (2, 8, 32)),
               "denoising-cnn", "anomaly-without-class-8", "feedforward-all-classes", "vae", "wide-128-plain",
               "wide-128-sparse"]


def printed(notebook) -> str:
    return "".join(cell_text(cell) for cell in notebook.cells if cell.cell_type == "code")


def test_two_trainings_from_scratch_with_one_seed_give_identical_numbers(first_run, watched_retrain):
    # The first run in a fresh kernel, the second in this process with the first one's checkpoints in place.
    (first, _), (_, _, again) = first_run, watched_retrain
    assert first["seed"] == again["seed"] == 0
    assert not any(result["from_checkpoint"] for result in first["models"].values())
    assert not any(result["from_checkpoint"] for result in again["models"].values())
    assert numbers(again) == numbers(first)  # bit for bit: == on floats


def test_another_seed_gives_other_numbers_and_ignores_the_first_seeds_checkpoints(first_run, seed_one_run):
    (seed_zero, _), (notebook, seed_one) = first_run, seed_one_run
    assert seed_zero["seed"] == 0
    text = printed(notebook)
    # The anomaly detector's training images differ too: the seed draws the validation images it leaves out.
    assert len(re.findall(r"is not used: it was saved for another setup \(seed(?:, train_images)? differ\)", text)) \
        == len(CHECKPOINTS)
    for model in ("feedforward", "cnn"):  # other initial weights and another order of the training images
        for key in ("mse", "sae_mean", "original_metric_mean"):
            assert seed_one["models"][model][key] != seed_zero["models"][model][key]
    for section, key in [("denoising", "psnr_noisy"), ("anomaly", "roc_auc"), ("vae", "test_loss")]:
        assert seed_one[section][key] != seed_zero[section][key]  # other noise, another model


def test_a_rerun_with_checkpoints_trains_nothing_and_gives_identical_numbers(first_run, quick_run):
    (first, _), (notebook, rerun) = first_run, quick_run
    assert all(result["from_checkpoint"] for result in rerun["models"].values())
    text = printed(notebook)
    assert text.count("Loaded ") == len(CHECKPOINTS)
    assert all(f"{name}-quick.pt" in text for name in CHECKPOINTS)
    assert "Checkpoint " not in text  # no complaint about the checkpoints
    assert numbers(rerun) == numbers(first)
    for model in first["models"]:  # the loaded history carries the time the training took then
        assert rerun["models"][model]["train_seconds"] == first["models"][model]["train_seconds"]


def test_retraining_and_another_seed_replace_the_checkpoints(watched_retrain, seed_one_run, checkpoint_dir):
    # Both trained every model although checkpoints were there (AUTOENCODERS_RETRAIN=1; seed 0's checkpoints for
    # seed 1). What is left is the last run's: whole checkpoints only, no temporary files, each for seed 1.
    (_, _, retrained), (notebook, seed_one) = watched_retrain, seed_one_run
    assert not any(result["from_checkpoint"] for result in retrained["models"].values())
    assert "Loaded " not in printed(notebook)
    names = sorted(path.name for path in checkpoint_dir.iterdir())
    assert names == sorted(f"{name}-quick.pt" for name in CHECKPOINTS)
    for name in CHECKPOINTS:
        assert torch.load(checkpoint_dir / f"{name}-quick.pt", weights_only=True)["setup"]["seed"] == seed_one["seed"]
