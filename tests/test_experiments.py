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
    found = re.search(r"the original metric per image came out from ([\d.]+) to ([\d.]+) and the SAE per image from "
                      r"([\d.]+) to ([\d.]+)", text)
    assert found, "experiments/README.md no longer quotes the original pipeline's range"
    for (low, high), key in zip([found.group(1, 2), found.group(3, 4)], ("original_metric_mean", "sae_mean")):
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


def test_the_recipes_tables_are_what_recipes_py_wrote():
    # experiments/README.md shows every run of the recipes files that measured validation MSE.
    from experiments import recipes

    text = (ROOT / "experiments" / "README.md").read_text()
    records = [json.loads(path.read_text()) for path in sorted((ROOT / "results").glob("recipes-*.json"))]
    measured = [record for record in records if any("validation_mse" in run for run in record["runs"])]
    assert measured, "no recipes measured on validation images"
    for record in measured:
        assert "\n".join(recipes.report(record)) in text
