"""experiments/README.md quotes what the experiment scripts wrote into results/: the original's own pipeline over
five seeds, and the anomaly detector with every class held out in turn (the seed study: tests/test_seeds.py)."""

import json
import re

from experiments import seeds
from notebook_access import ROOT, shows


def readme_section(heading: str) -> str:
    text = " ".join((ROOT / "experiments" / "README.md").read_text().split())
    start = text.index(f"## {heading}")
    end = text.find("## ", start + 3)
    return text[start:end if end != -1 else None]


def test_the_original_pipelines_spread_is_what_original_pipeline_py_wrote():
    result = json.loads((ROOT / "results" / "original_pipeline-feedforward.json").read_text())
    runs = result["runs"].values()
    text = readme_section("The original's own pipeline")
    found = re.search(r"the original metric per image came out from ([\d.]+) to ([\d.]+) and the true MAE from "
                      r"([\d.]+) to ([\d.]+)", text)
    assert found, "experiments/README.md no longer quotes the original pipeline's range"
    for (low, high), key in zip([found.group(1, 2), found.group(3, 4)], ("original_metric_mean", "mae_mean")):
        assert shows(low, min(run[key] for run in runs)) and shows(high, max(run[key] for run in runs)), key
    assert f"torch {result['torch'].split('+')[0]}" in text and f"seeds 0 to {len(runs) - 1}" in text
    assert result["cpu_capability"] in text.replace("AVX-512", "AVX512")


def test_the_held_out_classes_are_what_anomaly_by_class_py_wrote():
    by_class = {row["held_out_class"]: row["roc_auc"]
                for row in json.loads((ROOT / "results" / "anomaly_by_class.json").read_text())["classes"]}
    found = re.search(r"Bags stand out \(ROC-AUC ([\d.]+)\), ankle boots and trousers less \(([\d.]+), ([\d.]+)\); "
                      r"shirts, sneakers and pullovers are barely told apart from the rest \(([\d.]+), ([\d.]+), ([\d.]+)\)",
                      readme_section("Every class held out in turn"))
    assert found, "experiments/README.md no longer quotes the held-out classes' ROC-AUC"
    for shown, name in zip(found.groups(), ["Bag", "Ankle boot", "Trouser", "Shirt", "Sneaker", "Pullover"]):
        assert shows(shown, by_class[name]), name


def test_an_interrupted_seed_is_resumed_only_with_this_code_on_this_machine(tmp_path):
    folder = tmp_path / "seed-3"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "cnn-full.pt").write_bytes(b"from a run of other code")
    assert seeds.prepare_folder(folder) is False  # no record of how it started: begun afresh
    assert not (folder / "checkpoints").exists()
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "cnn-full.pt").write_bytes(b"finished by the run just started")
    assert seeds.prepare_folder(folder) is True  # interrupted, then resumed with what it had finished
    assert (folder / "checkpoints" / "cnn-full.pt").is_file()
    started = json.loads((folder / "started.json").read_text())
    another_capability = "AVX2" if started["machine"]["cpu_capability"] == "AVX512" else "AVX512"
    for change in ({"notebook_code_sha256": "0" * 64}, {"machine": started["machine"] | {"cpu_capability": another_capability}}):
        (folder / "started.json").write_text(json.dumps(started | change))
        assert seeds.prepare_folder(folder) is False, change
        assert not (folder / "checkpoints").exists()
        (folder / "checkpoints").mkdir()


def test_the_recipes_table_is_what_recipes_py_wrote():
    # experiments/README.md shows every run of results/recipes-*.json beside the committed run's section 8.
    from experiments import recipes

    text = (ROOT / "experiments" / "README.md").read_text()
    reference = json.loads((ROOT / "results" / "metrics.json").read_text())
    paths = sorted((ROOT / "results").glob("recipes-*.json"))
    assert paths, "no committed recipes measurements"
    for path in paths:
        assert "\n".join(recipes.report(json.loads(path.read_text()), reference)) in text, path.name


def test_the_doubled_budget_table_is_what_doubled_budget_py_wrote():
    from experiments import doubled_budget

    record = json.loads((ROOT / "results" / "doubled-budget-avx2.json").read_text())
    reference = json.loads((ROOT / "results" / "metrics.json").read_text())
    assert doubled_budget.problems(record, reference) == []  # each first half is section 8's model, bit for bit
    assert "\n".join(doubled_budget.report(record, reference)) in (ROOT / "experiments" / "README.md").read_text()


def test_the_doubled_budget_conclusions_are_the_tables():
    from experiments import doubled_budget

    record = json.loads((ROOT / "results" / "doubled-budget-avx2.json").read_text())
    reference = json.loads((ROOT / "results" / "metrics.json").read_text())
    runs = doubled_budget.doubled_runs(record, reference)
    budgets = doubled_budget.budgets(reference)
    relative = doubled_budget.convolutional_against_feedforward(record, reference)

    def leads(code: int) -> list[float]:  # the winner's lead on each budget, in %
        return [100 * abs(relative[name, code]) for name, _, _ in budgets]

    found = re.search(r"the deeper feedforward model at 2 numbers \(by (\d+) to (\d+)%\), the convolutional one at 32 "
                      r"\(by (\d+) to (\d+)%\)\. At 8 numbers the feedforward model's lead of ([\d.]+)% shrinks to "
                      r"([\d.]+)% when the convolutional model alone trains twice as long \(([\d.]+) against ([\d.]+)\), "
                      r"a tie for practical purposes; both doubled, it is ([\d.]+)%", readme_section("Would more training"))
    assert found, "experiments/README.md no longer says what doubling the budget did"
    low_2, high_2, low_32, high_32, study, alone, ff_mse, cnn_mse, both = found.groups()
    assert shows(low_2, min(leads(2))) and shows(high_2, max(leads(2)))
    assert shows(low_32, min(leads(32))) and shows(high_32, max(leads(32)))
    at_8 = dict(zip([name for name, _, _ in budgets], leads(8)))
    assert shows(study, at_8["section 8"]) and shows(alone, at_8["convolutional doubled"])
    assert shows(both, at_8["both doubled"])
    assert shows(ff_mse, runs["feedforward", 8]["test_mse_by_epoch"][19])
    assert shows(cnn_mse, runs["cnn", 8]["test_mse_by_epoch"][15])
