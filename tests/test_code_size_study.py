"""The comparison at equal code size: PCA is computed correctly, and the study's numbers are consistent."""

import itertools
import json

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from notebook_access import ROOT, code_size_table_mismatches, study_row

STUDY_KEYS = {"model", "original", "code_size", "mse", "mae", "validation_mse", "parameters", "train_seconds"}


def rows(metrics, model, original=False):
    return {row["code_size"]: row for row in metrics["code_size_study"]
            if row["model"] == model and row["original"] == original}


def test_the_study_covers_every_model_at_every_code_size(quick_run):
    _, metrics = quick_run
    assert all(STUDY_KEYS <= set(row) for row in metrics["code_size_study"])
    assert sorted(rows(metrics, "pca")) == [2, 8, 32, 784]
    assert sorted(rows(metrics, "feedforward")) == [2, 8, 32]
    assert sorted(rows(metrics, "cnn")) == [2, 8, 32]
    assert sorted(rows(metrics, "feedforward", original=True)) == [2]
    assert sorted(rows(metrics, "cnn", original=True)) == [1568]


def test_the_original_models_appear_with_their_own_results(quick_run):
    _, metrics = quick_run
    for model, code in [("feedforward", 2), ("cnn", 1568)]:
        row, result = rows(metrics, model, original=True)[code], metrics["models"][model]
        assert (row["mse"], row["mae"], row["parameters"]) == (result["mse"], result["mae"], result["parameters"])
        assert row["validation_mse"] is None  # they trained on the validation images: nothing is chosen by them


def test_pca_error_falls_as_the_code_grows_and_vanishes_at_784(quick_run):
    _, metrics = quick_run
    pca = rows(metrics, "pca")
    mse = [pca[code]["mse"] for code in sorted(pca)]
    assert all(a > b for a, b in itertools.pairwise(mse)), mse
    assert pca[784]["mse"] < 1e-10  # as many directions as pixels: an exact copy


def test_the_displayed_code_size_table_shows_the_metrics_file(quick_run):
    notebook, metrics = quick_run
    assert code_size_table_mismatches(notebook, metrics) == []


def test_per_class_errors_average_to_the_overall_error(quick_run, notebook, data_root):
    _, metrics = quick_run
    # The class means weighted by how many of the quick run's test images (the first TEST_SIZE) each class has.
    _, labels = notebook["load_split"](data_root, train=False, device=torch.device("cpu"))
    images_per_class = torch.bincount(labels[:notebook["TEST_SIZE"]], minlength=10).double().numpy()
    for model in ("feedforward", "cnn"):
        by_class = metrics["per_class_mae"][model]
        assert len(by_class) == 10
        weighted_mean = np.average(list(by_class.values()), weights=images_per_class)
        assert weighted_mean == pytest.approx(metrics["models"][model]["mae"], rel=1e-9)


def test_the_notebooks_pca_agrees_with_scikit_learn(notebook, data_root):
    images, _ = notebook["load_split"](data_root, train=False, device=torch.device("cpu"))
    fit, held_out = images[:3000], images[3000:4000]
    mean, directions = notebook["fit_pca"](fit)
    for code in (2, 8, 32):
        ours = notebook["pca_reconstruct"](held_out, mean, directions, code)
        pca = PCA(n_components=code, svd_solver="full").fit(fit.flatten(1).double().numpy())
        theirs = np.clip(pca.inverse_transform(pca.transform(held_out.flatten(1).double().numpy())), 0, 1)
        np.testing.assert_allclose(ours.flatten(1).numpy(), theirs, atol=1e-4)


# A convolutional autoencoder as UvA's deep learning tutorial 9 builds one, with its 32 and 64 channels (the study's
# model has 24 and 48), trained with the original's recipe (Adam at 0.001, constant) on a code of 32 numbers, seed 0:
# its test MSE after 4, 6, 8, 10 and 12 epochs, as issue 26 measured it on an AMD Zen 5 (AVX-512). Re-running that
# design on this project's Zen 3 (AVX2) gave 0.00820, 0.00743, 0.00710, 0.00687 and 0.00669.
REFERENCE_CURVE_AT_32 = {4: 0.00820, 6: 0.00743, 8: 0.00708, 10: 0.00688, 12: 0.00667}


def test_the_studys_convolutional_model_is_no_straw_man():
    # Within 15% of the reference design after as many epochs or the next number measured (more training, so a
    # stricter bar), or it could not speak for convolutions.
    metrics = json.loads((ROOT / "results" / "metrics.json").read_text())
    row = next(row for row in metrics["code_size_study"] if (row["model"], row["code_size"], row["original"])
               == ("cnn", 32, False))
    reference = REFERENCE_CURVE_AT_32[min(epochs for epochs in REFERENCE_CURVE_AT_32 if epochs >= row["epochs"])]
    assert row["mse"] <= 1.15 * reference


# The study's test MSEs before the validation images and the one-cycle recipes (bb012a0's committed run remade on
# a 2-core AMD Zen 4, AVX-512, December 4): issue 38 let each move at most 2% up, for 5,000 fewer training images.
BEFORE_THE_VALIDATION_IMAGES = {("feedforward", 2): 0.02453, ("cnn", 2): 0.02789, ("feedforward", 8): 0.01250,
                                ("cnn", 8): 0.01333, ("feedforward", 32): 0.00811, ("cnn", 32): 0.00748}


def test_the_faster_recipes_cost_no_study_model_more_than_2_percent_of_test_mse():
    metrics = json.loads((ROOT / "results" / "metrics.json").read_text())
    if metrics["machine"]["cpu_capability"] != "AVX512":
        pytest.skip("the reference was measured with AVX-512; another CPU moves the convolutional models' digits")
    for (model, code), before in BEFORE_THE_VALIDATION_IMAGES.items():
        assert study_row(metrics, model, code)["mse"] <= 1.02 * before, (model, code)
