"""What a full-mode run must reach: the figures measured by re-running the original on the project's CPU.

Used by the tests on the committed notebook and, as a script, by CI on a fresh full run (the second file, if
given, is compared with the first: same machine and PyTorch, same numbers):

    python tests/targets.py FRESH/metrics.json results/metrics.json
"""

import json
import math
import sys
from pathlib import Path

from notebook import APPLICATIONS, reproducible_numbers

# Re-running the original's models and pipeline (REFERENCE.md, 30 epochs, seed 0) gave: feedforward 8.06 original
# metric per image, true MAE 73.5, MSE 0.0274; CNN 2.80, 24.6, 0.0039. A full run must land within about 10% of
# these on the true MAE and the MSE (lower is fine).
# The original metric, |sum(x - x_hat)| per image, is dominated by the reconstructions' overall brightness offset,
# which drifts from epoch to epoch: over the last 10 of 30 epochs, the CNN's ranged from 3.2 to 4.7 with the
# original's DataLoader pipeline and from 3.5 to 4.9 in two runs of the notebook's (same initialisation, measured
# on this machine), the feedforward model's from 8.2 to 9.5. The limits cover that range, not one run's value.
UPPER_LIMITS = {
    "feedforward": {"original_metric_mean": 9.5, "mae_mean": 81.0, "mse": 0.030},
    "cnn": {"original_metric_mean": 5.0, "mae_mean": 27.0, "mse": 0.0043},
}
COMPARED = ("original_metric_mean", "mae_mean", "mae_per_pixel", "mse")


def target_failures(metrics: dict, *, noisy: bool = True) -> list[str]:
    """Everything in a full-mode metrics file that misses the targets (an empty list when all hold).

    With noisy=False, the two targets that sit within run-to-run noise of their limits are left out: the original
    metric (it swings by 15-35% from one epoch to the next) and the 10% gain at code size 2 (met by 0.007 points in
    the committed run). The committed metrics must meet them all; a fresh run on other hardware or another PyTorch
    version must meet the rest."""
    failures = []
    if metrics.get("mode") != "full" or metrics.get("epochs") != 30:
        failures.append(f"not a full-mode 30-epoch run: mode={metrics.get('mode')}, epochs={metrics.get('epochs')}")
    models = metrics["models"]
    for model, limits in UPPER_LIMITS.items():
        for key, limit in limits.items():
            if key == "original_metric_mean" and not noisy:
                continue
            value = models[model][key]
            if not 0 < value <= limit:
                failures.append(f"{model} {key} = {value:.4g}, should be in (0, {limit}]")
    for key in COMPARED:
        if not models["cnn"][key] < models["feedforward"][key]:
            failures.append(f"the CNN does not beat the feedforward model on {key}")
    return failures + code_size_failures(metrics, noisy=noisy) + application_failures(metrics)


def code_size_failures(metrics: dict, *, noisy: bool = True) -> list[str]:
    """The code-size study's targets: every autoencoder whose code is smaller than the image beats PCA at the same
    code size, and with a code of 2 numbers the best model's MSE is at least 10% below the original feedforward
    model's."""
    study = metrics.get("code_size_study")
    if not study:
        return ["the metrics have no code_size_study"]
    failures = []
    pca = {row["code_size"]: row["mse"] for row in study if row["model"] == "pca"}
    for row in study:
        if row["model"] != "pca" and row["code_size"] < 28 * 28 and not row["mse"] < pca[row["code_size"]]:
            failures.append(f"{row['model']} (original: {row['original']}) at code size {row['code_size']}: MSE "
                            f"{row['mse']:.4f} does not beat PCA's {pca[row['code_size']]:.4f}")
    best_at_2 = min(row["mse"] for row in study if row["code_size"] == 2 and row["model"] != "pca")
    original = metrics["models"]["feedforward"]["mse"]
    if noisy and not best_at_2 <= 0.9 * original:
        failures.append(f"best MSE at code size 2 is {best_at_2:.4f}, not 10% below the original feedforward "
                        f"model's {original:.4f} (limit {0.9 * original:.4f})")
    return failures


# "Clearly higher" PSNR: at least 3 dB, which halves the squared error.
CLEAR_PSNR_GAIN_DB = 3.0
MIN_ROC_AUC = 0.90  # for the default held-out class, Bag


def application_failures(metrics: dict) -> list[str]:
    """The targets of the sections on denoising, anomaly detection and the VAE."""
    missing = [section for section in APPLICATIONS if section not in metrics]
    if missing:
        return [f"the metrics have no {', '.join(missing)}"]
    failures = []
    denoising, anomaly, vae = metrics["denoising"], metrics["anomaly"], metrics["vae"]
    if denoising["noise_std"] != 0.3:
        failures.append(f"denoising was measured with noise of std {denoising['noise_std']}, not the default 0.3")
    if not denoising["psnr_denoised"] >= denoising["psnr_noisy"] + CLEAR_PSNR_GAIN_DB:
        failures.append(f"denoised PSNR {denoising['psnr_denoised']:.2f} dB is not {CLEAR_PSNR_GAIN_DB} dB above "
                        f"the noisy images' {denoising['psnr_noisy']:.2f} dB")
    if not denoising["psnr_denoised"] > denoising["psnr_plain_cnn"]:
        failures.append(f"denoised PSNR {denoising['psnr_denoised']:.2f} dB does not beat the original CNN's "
                        f"{denoising['psnr_plain_cnn']:.2f} dB on the same noisy images")
    if anomaly["held_out_class"] != "Bag" or not anomaly["roc_auc"] >= MIN_ROC_AUC:
        failures.append(f"ROC-AUC for held-out {anomaly['held_out_class']} is {anomaly['roc_auc']:.3f}, "
                        f"the target is at least {MIN_ROC_AUC} for Bag")
    parts = [vae["test_loss"], vae["reconstruction"], vae["kl"], vae["mse"]]
    if not all(math.isfinite(part) and part > 0 for part in parts):
        failures.append(f"the VAE's test loss, its parts and its MSE are not all finite and positive: {parts}")
    elif not math.isclose(vae["test_loss"], vae["reconstruction"] + vae["kl"], rel_tol=1e-9):
        failures.append(f"the VAE's test loss {vae['test_loss']} is not its reconstruction term plus its KL term")
    return failures


def report_reproduction(fresh: dict, committed: dict) -> None:
    """Say whether a fresh run reproduced the committed numbers (informative: other hardware may differ)."""
    fresh_numbers, committed_numbers = reproducible_numbers(fresh), reproducible_numbers(committed)
    if fresh_numbers == committed_numbers:
        print("the fresh run reproduces results/metrics.json bit for bit (timings aside)")
        return
    print("the fresh run differs from results/metrics.json (expected only on other hardware or PyTorch):")
    for model, results in committed_numbers["models"].items():
        for key, value in results.items():
            if key != "history" and fresh_numbers["models"][model].get(key) != value:
                print(f"  {model} {key}: committed {value}, fresh {fresh_numbers['models'][model].get(key)}")
    for section in ("code_size_study", "per_class_mae", *APPLICATIONS):
        if fresh_numbers[section] != committed_numbers[section]:
            print(f"  {section} differs")


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "results/metrics.json")
    metrics = json.loads(path.read_text())
    failures = target_failures(metrics, noisy=False)
    for failure in failures:
        print(f"TARGET MISSED: {failure}")
    for failure in target_failures(metrics):
        if failure not in failures:
            print(f"NOTE, not failing (a target within run-to-run noise of its limit): {failure}")
    if not failures:
        print(f"{path}: every full-mode target holds" + ("" if failures == target_failures(metrics) else
                                                         ", except the noisy ones noted above"))
    if len(sys.argv) > 2:
        report_reproduction(metrics, json.loads(Path(sys.argv[2]).read_text()))
    sys.exit(1 if failures else 0)
