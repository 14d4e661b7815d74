"""experiments/README.md quotes what the experiment scripts wrote into results/: the original's own pipeline over
five seeds, and the anomaly detector with every class held out in turn (the seed study: tests/test_seeds.py)."""

import json
import re

from experiments import seeds
from notebook_access import ROOT, markdown_table_rows, shows


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
    rows = json.loads((ROOT / "results" / "anomaly_by_class.json").read_text())["classes"]
    text = (ROOT / "experiments" / "README.md").read_text()
    table = markdown_table_rows(text[text.index("| held-out class |"):])
    assert [row["held-out class"] for row in table] == [row["held_out_class"] for row in sorted(rows, key=lambda r: -r["roc_auc"])]
    for shown, row in zip(table, sorted(rows, key=lambda r: -r["roc_auc"])):
        for column, key in [("ROC-AUC, trained without it", "roc_auc"), ("ROC-AUC, trained on all ten", "roc_auc_trained_on_all_classes"),
                            ("precision", "precision"), ("recall", "recall")]:
            assert shows(shown[column], row[key]), (row["held_out_class"], column)


def test_the_code_spaces_are_what_code_spaces_py_wrote():
    spaces = json.loads((ROOT / "results" / "code-spaces.json").read_text())
    text = readme_section("What the explorers show")
    cells = r"((?:[\d.]+% \| ){3}[\d.]+%)"
    shares = re.search(rf"\| the VAE's mean codes \| {cells} \| \| the prior \| {cells} \|", text)
    for shown, kind in ((shares[1], "codes"), (shares[2], "prior")):
        for cell, radius in zip(shown.split(" | "), ("0.5", "1.0", "2.0", "3.0"), strict=True):
            assert shows(cell.rstrip("%"), 100 * spaces["vae"]["share_within"][radius][kind]), (kind, radius)
    corner = spaces["feedforward"]["bottom_left_corner"]
    assert f"an image judged {corner['judged_class']} (contrast {corner['contrast']:.2f})" in text


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


def test_the_fresh_noise_table_is_what_fixed_noise_py_wrote():
    result = json.loads((ROOT / "results" / "fixed-noise.json").read_text())
    metrics = json.loads((ROOT / "results" / "metrics.json").read_text())
    assert result["fresh"]["test_psnr"] == metrics["denoising"]["psnr_denoised"]  # the committed run's denoiser
    text = readme_section("Fresh noise or one fixed draw?")
    for name, row in [("fresh every batch", result["fresh"]), ("one fixed draw", result["fixed"])]:
        found = re.search(rf"\| {name}[^|]* \| ([\d.]+) \| ([\d.]+) \|", text)
        assert found and shows(found[1], row["validation_mse"]) and shows(found[2], row["test_psnr"]), name
    (change,) = re.findall(r"changed the test PSNR by ([\d.]+) dB", text)
    assert shows(change, abs(result["fresh"]["test_psnr"] - result["fixed"]["test_psnr"]))


def test_the_try_it_tables_are_what_try_its_py_wrote():
    result = json.loads((ROOT / "results" / "try-its.json").read_text())
    text = readme_section('The "Try it" prompts, followed as written')
    for name, key in [("PCA", "pca"), ("deeper feedforward", "feedforward"), ("convolutional", "cnn")]:
        (test_mse,) = re.findall(rf"^\| {name} \|\s*[\d.]*\s*\| ([\d.]+) \|$", (ROOT / "experiments" / "README.md").read_text(),
                                 re.MULTILINE)
        assert shows(test_mse, result["code_size_128"][key]["test_mse"]), name
    for std, row in result["noise_std"].items():
        found = re.search(rf"\| {std} \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", text)
        assert found and all(shows(shown, row[key]) for shown, key in zip(found.groups(), ("noisy", "plain_cnn", "denoised")))


def test_section_14s_table_of_held_out_classes_is_what_anomaly_by_class_py_wrote():
    from notebook_access import read_notebook

    rows = sorted(json.loads((ROOT / "results" / "anomaly_by_class.json").read_text())["classes"], key=lambda r: -r["roc_auc"])
    (cell,) = [cell for cell in read_notebook().cells if cell.cell_type == "markdown" and "| Held-out class |" in cell.source]
    table = markdown_table_rows(cell.source[cell.source.index("| Held-out class |"):])
    assert [row["Held-out class"] for row in table] == [row["held_out_class"] for row in rows]
    for shown, row in zip(table, rows):
        for column, key in [("ROC-AUC, trained without it", "roc_auc"), ("ROC-AUC, trained on all ten classes",
                                                                         "roc_auc_trained_on_all_classes"),
                            ("Precision", "precision"), ("Recall", "recall")]:
            assert shows(shown[column], row[key]), (row["held_out_class"], column)
