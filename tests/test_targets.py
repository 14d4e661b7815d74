"""The target checks fail when a target is missed: a check that cannot fail would prove nothing."""

import copy
import json

import pytest

from notebook import ROOT, study_row
from targets import target_failures, target_margins


@pytest.fixture(scope="module")
def committed():
    return json.loads((ROOT / "results" / "metrics.json").read_text())


def worsened(metrics, change):
    metrics = copy.deepcopy(metrics)
    change(metrics)
    return metrics


MISSED = {  # a change that misses one target, and the start of the failure that must name it
    "cnn-mse": (lambda m: m["models"]["cnn"].update(mse=0.0048), "cnn mse <= 0.0047: missed by"),
    "feedforward-mae": (lambda m: m["models"]["feedforward"].update(mae_mean=90.0),
                        "feedforward mae_mean <= 81.0: missed by"),
    "cnn-vs-feedforward": (lambda m: m["models"]["cnn"].update(mae_per_pixel=0.2),
                           "the CNN beats the feedforward model on mae_per_pixel: missed by"),
    "worse-than-pca": (lambda m: study_row(m, "cnn", 8).update(mse=0.03), "cnn at code size 8 beats PCA on MSE"),
    "quick-mode": (lambda m: m.update(mode="quick"), "not a full-mode 30-epoch run: mode=quick"),
    "denoising-gain": (lambda m: m["denoising"].update(psnr_denoised=m["denoising"]["psnr_noisy"] + 2),
                       "the denoised PSNR is 3.0 dB above the noisy images': missed by"),
    "denoising-vs-plain-cnn": (lambda m: m["denoising"].update(psnr_plain_cnn=m["denoising"]["psnr_denoised"] + 0.1),
                               "the denoised PSNR beats the original CNN's on the same noisy images: missed by"),
    "roc-auc": (lambda m: m["anomaly"].update(roc_auc=0.85), "the ROC-AUC for held-out bags is at least 0.9: missed"),
    "vae-parts": (lambda m: m["vae"].update(kl=m["vae"]["kl"] + 1), "the VAE's test loss"),
    "vae-finite": (lambda m: m["vae"].update(reconstruction=float("nan")),
                   "the VAE's test loss, its parts and its MSE are not all finite and positive"),
    "vae-missing": (lambda m: m.pop("vae"), "the metrics have no vae"),
    "compression-missing": (lambda m: m.pop("compression"), "the metrics have no compression"),
    "code-quality-empty": (lambda m: m["code_quality"].update(rows=[]), "the metrics have no code_quality"),
    "original-metric": (lambda m: m["models"]["cnn"].update(original_metric_mean=9.0),
                        "cnn original_metric_mean <= 8.0: missed by"),
    "winner-at-32": (lambda m: study_row(m, "cnn", 32).update(mse=study_row(m, "feedforward", 32)["mse"] + 1e-4),
                     "cnn has a lower MSE than feedforward at code size 32: missed by"),
    "code-2-gain": (lambda m: study_row(m, "feedforward", 2).update(mse=0.027),
                    "the best MSE at code size 2 is 3% below the original feedforward model's: missed by"),
    "held-out-class": (lambda m: m["anomaly"].update(held_out_class="Shirt"),
                       "the anomaly detector held out Shirt, not the default Bag"),
    "probe-converged": (lambda m: m["code_quality"]["rows"][0].update(probe_converged=False),
                        "the linear probe did not converge on"),
}


@pytest.mark.parametrize("case", MISSED)
def test_a_missed_target_fails_and_is_named(committed, case):
    change, failure = MISSED[case]
    assert target_failures(committed) == []
    failures = target_failures(worsened(committed, change))
    assert [message for message in failures if message.startswith(failure)], failures


def test_every_margin_is_positive_exactly_when_its_target_holds(committed):
    margins = target_margins(committed)
    assert margins and all(margin > 0 for margin in margins.values())
    bad = worsened(committed, lambda m: m["models"]["cnn"].update(mse=0.005))
    assert [name for name, margin in target_margins(bad).items() if margin < 0] == ["cnn mse <= 0.0047"]
