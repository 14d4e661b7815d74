"""A quick-mode run of the whole notebook: it writes its metrics, and they show that training works."""

import pytest

from notebook_access import table_mismatches

MODEL_KEYS = {"original_metric_total", "original_metric_mean", "sae_mean", "mae", "mse", "code_size", "parameters",
              "train_seconds"}


def test_the_metrics_file_has_the_promised_shape(quick_run):
    _, metrics = quick_run
    assert metrics["mode"] == "quick" and metrics["epochs"] == 2 and metrics["device"] in {"cpu", "cuda", "mps"}
    assert metrics["torch"]
    assert set(metrics["models"]) == {"feedforward", "cnn"}
    for model in metrics["models"].values():
        assert MODEL_KEYS <= set(model)
        for series in ("train_loss", "held_out_loss", "held_out_mae", "held_out_original_metric_mean"):
            assert len(model["history"][series]) == 2, series


def test_the_models_are_the_original_architectures(quick_run):
    _, metrics = quick_run
    ff, cnn = metrics["models"]["feedforward"], metrics["models"]["cnn"]
    # 784-128-2-128-784 and conv(1->16->32) + two transposed convs: counts follow from the layer shapes.
    assert (ff["code_size"], ff["parameters"]) == (2, (784 * 128 + 128) + (128 * 2 + 2) + (2 * 128 + 128)
                                                   + (128 * 784 + 784))
    assert (cnn["code_size"], cnn["parameters"]) == (32 * 7 * 7, (16 * 9 + 16) + (32 * 16 * 9 + 32)
                                                     + (32 * 16 * 4 + 16) + (16 * 4 + 1))


@pytest.mark.parametrize("key", ["original_metric_mean", "sae_mean", "mae", "mse"])
def test_the_cnn_reconstructs_better_than_the_feedforward_model(quick_run, key):
    _, metrics = quick_run
    assert metrics["models"]["cnn"][key] < metrics["models"]["feedforward"][key]


@pytest.mark.parametrize("model", ["feedforward", "cnn"])
def test_training_beats_the_untrained_model(quick_run, model):
    _, metrics = quick_run
    result = metrics["models"][model]
    assert result["mse"] < 0.5 * result["untrained_mse"]
    assert result["sae_mean"] < 0.5 * result["untrained_sae_mean"]
    # The original two models are measured on the test images after every epoch, as the original did: the errors
    # recorded after the last epoch are those of the final evaluation.
    assert result["history"]["held_out_loss"][-1] == pytest.approx(result["mse"], rel=1e-6)
    assert result["history"]["held_out_mae"][-1] == pytest.approx(result["mae"], rel=1e-6)
    assert result["history"]["held_out_original_metric_mean"][-1] == pytest.approx(result["original_metric_mean"],
                                                                                   rel=1e-6)


def test_the_displayed_table_shows_the_metrics_file(quick_run):
    notebook, metrics = quick_run
    assert table_mismatches(notebook, metrics) == []
