"""What another CPU changes, as the READMEs say it, held to three full-mode runs of the same notebook code
on three CPUs (results/cross-cpu/): the committed run of 05b81b4 on an AMD Zen 4 (AVX-512), and e69dcb5 on a Zen 5
(AVX-512) and on a Zen 3 (AVX2 only). Between 05b81b4 and e69dcb5 no code that computes these numbers changed."""

import json
import re
import statistics

import pytest

from notebook_access import ROOT, shows

RUNS = ROOT / "results" / "cross-cpu"


@pytest.fixture(scope="module")
def runs():
    return {name: json.loads((RUNS / f"metrics-{name}.json").read_text())
            for name in ("05b81b4-zen4-avx512", "e69dcb5-zen5-avx512", "e69dcb5-zen3-avx2")}


def numbers(metrics: dict) -> dict:
    """Every result that the three runs report alike: the original models' errors, the code-size study, the
    applications (no timings)."""
    # The sum of absolute errors per image was called mae_mean before issue 38 named it.
    models = {f"{model}.{key}": metrics["models"][model].get(key, metrics["models"][model].get("mae_mean"))
              for model in ("feedforward", "cnn") for key in ("original_metric_mean", "sae_mean", "mse")}
    study = {f"study.{row['model']}{'-original' if row['original'] else ''}-{row['code_size']}": row["mse"]
             for row in metrics["code_size_study"]}
    applications = {f"{section}.{key}": value for section in ("denoising", "anomaly", "vae")
                    for key, value in metrics[section].items() if key != "train_seconds" and not isinstance(value, dict)}
    return models | study | applications


def relative(runs, key: str) -> float:
    return numbers(runs["e69dcb5-zen5-avx512"])[key] / numbers(runs["e69dcb5-zen3-avx2"])[key] - 1


def test_two_cpus_with_the_same_vector_instructions_give_the_same_numbers_bit_for_bit(runs):
    assert numbers(runs["05b81b4-zen4-avx512"]) == numbers(runs["e69dcb5-zen5-avx512"])
    assert runs["e69dcb5-zen5-avx512"]["machine"]["cpu_capability"] == "AVX512"
    assert runs["e69dcb5-zen3-avx2"]["machine"]["cpu_capability"] == "AVX2"


def test_other_vector_instructions_change_only_the_convolutional_models(runs):
    avx512, avx2 = numbers(runs["e69dcb5-zen5-avx512"]), numbers(runs["e69dcb5-zen3-avx2"])
    changed = sorted(key for key in avx512 if avx512[key] != avx2[key])
    convolutional = ("cnn.", "study.cnn-", "denoising.")  # the original CNN, the study's, the denoiser
    assert changed and all(key.startswith(convolutional) for key in changed), changed
    assert not [key for key in avx512 if key.startswith(("feedforward.", "study.feedforward", "study.pca", "vae."))
                and key in changed]


def quoted_changes(text: str) -> tuple[str, str]:
    found = re.search(r"the CNN's original metric by (\d+)% \(([\d.]+) against ([\d.]+)\) and its MSE by ([\d.]+)%",
                      " ".join(text.split()))
    assert found, "the text no longer quotes what other vector instructions change"
    return found.groups()


@pytest.mark.parametrize("where", ["README.md", "experiments/README.md"])
def test_the_readmes_quote_what_the_runs_show(runs, where):
    original, avx2, avx512, mse = quoted_changes((ROOT / where).read_text())
    assert shows(original, 100 * relative(runs, "cnn.original_metric_mean"))
    assert shows(avx2, runs["e69dcb5-zen3-avx2"]["models"]["cnn"]["original_metric_mean"])
    assert shows(avx512, runs["e69dcb5-zen5-avx512"]["models"]["cnn"]["original_metric_mean"])
    assert shows(mse, 100 * relative(runs, "cnn.mse"))


def test_what_another_cpu_moves_in_the_original_cnn_is_within_its_spread_over_seeds(runs):
    # The original two models are trained as they were in e69dcb5 (the same code and recipe), so what another CPU
    # did to them then it does now; the seeds are this code's.
    seeds = [numbers(run["reproducible"]) for run in
             json.loads((ROOT / "results" / "seeds.json").read_text())["runs"].values()]
    avx512, avx2 = numbers(runs["e69dcb5-zen5-avx512"]), numbers(runs["e69dcb5-zen3-avx2"])
    changed = [key for key in avx512 if avx512[key] != avx2[key] and key.startswith(("cnn.", "feedforward."))]
    assert changed
    for key in changed:  # each change is smaller than the standard deviation of that number over the seeds
        assert abs(avx512[key] - avx2[key]) < statistics.stdev(seed[key] for seed in seeds), key
