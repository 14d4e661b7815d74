"""The target checks fail when a target is missed: a check that cannot fail would prove nothing."""

import copy
import json

import pytest

from notebook import ROOT
from targets import target_failures, target_margins


@pytest.fixture(scope="module")
def committed():
    return json.loads((ROOT / "results" / "metrics.json").read_text())


def worsened(metrics, change):
    metrics = copy.deepcopy(metrics)
    change(metrics)
    return metrics


def study_row(metrics, model, code, original=False):
    return next(row for row in metrics["code_size_study"]
                if (row["model"], row["code_size"], row["original"]) == (model, code, original))


@pytest.mark.parametrize("change", [
    lambda m: m["models"]["cnn"].update(mse=0.0048),                     # the CNN's MSE misses its figure
    lambda m: m["models"]["feedforward"].update(mae_mean=90.0),          # the feedforward MAE misses its figure
    lambda m: m["models"]["cnn"].update(mae_per_pixel=0.2),              # the CNN no longer beats the feedforward
    lambda m: study_row(m, "cnn", 8).update(mse=0.03),                   # an autoencoder loses to PCA
    lambda m: m.update(mode="quick"),                                    # not a full run
    lambda m: m["denoising"].update(psnr_denoised=m["denoising"]["psnr_noisy"] + 2),  # not clearly less noisy
    lambda m: m["denoising"].update(psnr_plain_cnn=m["denoising"]["psnr_denoised"] + 0.1),  # no better than copying
    lambda m: m["anomaly"].update(roc_auc=0.85),                          # bags not told apart well enough
    lambda m: m["vae"].update(kl=m["vae"]["kl"] + 1),                     # the loss is not the sum of its parts
    lambda m: m["vae"].update(reconstruction=float("nan")),               # a part of the loss is not finite
    lambda m: m.pop("vae"),                                               # a section is missing
    lambda m: m["models"]["cnn"].update(original_metric_mean=9.0),        # the original metric beyond its spread
    lambda m: study_row(m, "feedforward", 2).update(mse=0.027),          # no 3% gain at code size 2
    lambda m: m["anomaly"].update(held_out_class="Shirt"),                # not the default held-out class
    lambda m: m["code_quality"]["rows"][0].update(probe_converged=False),  # a probe stopped before converging
], ids=["cnn-mse", "feedforward-mae", "cnn-vs-feedforward", "worse-than-pca", "quick-mode", "denoising-gain",
        "denoising-vs-plain-cnn", "roc-auc", "vae-parts", "vae-finite", "vae-missing", "original-metric",
        "code-2-gain", "held-out-class", "probe-converged"])
def test_a_missed_target_fails(committed, change):
    assert target_failures(committed) == []
    assert target_failures(worsened(committed, change))


def test_every_margin_is_positive_exactly_when_its_target_holds(committed):
    margins = target_margins(committed)
    assert margins and all(margin > 0 for margin in margins.values())
    bad = worsened(committed, lambda m: m["models"]["cnn"].update(mse=0.005))
    assert [name for name, margin in target_margins(bad).items() if margin < 0] == ["cnn mse <= 0.0047"]
