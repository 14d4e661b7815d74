"""The committed notebook is one clean top-to-bottom full-mode run, and its numbers reach the targets."""

import json
import re

import pytest
import torch

from notebook_access import (
    NOTEBOOK_PATH,
    ROOT,
    TRAINING_CELLS,
    cell_text,
    code_quality_table_mismatches,
    code_size_table_mismatches,
    compression_table_mismatches,
    denoising_table_mismatches,
    editor_line_length,
    load_definitions,
    read_notebook,
    run_minutes,
    table_mismatches,
    training_cells,
)
from targets import target_failures

METRICS_PATH = ROOT / "results" / "metrics.json"


@pytest.fixture(scope="module")
def committed():
    return read_notebook(NOTEBOOK_PATH)


@pytest.fixture(scope="module")
def committed_metrics():
    return json.loads(METRICS_PATH.read_text())


def test_it_was_executed_top_to_bottom_without_errors(committed):
    code_cells = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    for cell in code_cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:80]


def test_it_has_the_metadata_colab_ruff_and_jupyterlab_need(committed):
    assert committed.metadata["kernelspec"]["name"] == "python3"
    # What JupyterLab writes: with anything else, merely opening the notebook marks it modified.
    assert committed.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert committed.metadata["language_info"]["name"] == "python"
    assert committed.metadata["accelerator"] == "GPU"


def test_it_ran_in_full_mode(committed):
    printed = "".join(cell_text(cell) for cell in committed.cells if cell.cell_type == "code")
    assert "Run mode: full (30 epochs on all training images, tested on all test images)" in printed


def test_its_table_shows_the_committed_metrics(committed, committed_metrics):
    assert committed_metrics["mode"] == "full"
    assert table_mismatches(committed, committed_metrics) == []


def test_its_code_size_table_shows_the_committed_metrics(committed, committed_metrics):
    assert code_size_table_mismatches(committed, committed_metrics) == []


def test_its_denoising_table_shows_the_committed_metrics(committed, committed_metrics):
    assert denoising_table_mismatches(committed, committed_metrics) == []


def test_its_compression_and_code_quality_tables_show_the_committed_metrics(committed, committed_metrics):
    assert compression_table_mismatches(committed, committed_metrics) == []
    assert code_quality_table_mismatches(committed, committed_metrics) == []


def test_the_committed_metrics_reach_the_targets(committed_metrics):
    assert target_failures(committed_metrics) == []


def test_its_page_shows_finished_progress_bars_and_no_widgets(committed):
    # GitHub shows the saved outputs without running anything: a widget there is only the text of its first frame.
    assert "widgets" not in committed.metadata
    code_cells = [cell for cell in committed.cells if cell.cell_type == "code"]
    for cell in code_cells:
        assert not [o for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        bars = [line for line in cell_text(cell).splitlines() if "%|" in line]
        assert all(re.search(r": 100%\|█+\| (\d+)/\1 \[", bar) for bar in bars), bars
    training = training_cells(committed)
    assert len(training) == TRAINING_CELLS
    assert all("100%|" in cell_text(cell) for cell in training)


def test_no_code_line_is_wider_than_the_editor_shows():
    # pyproject.toml's line length, which tests/test_browser.py measures in JupyterLab's editor.
    width = editor_line_length()
    code_cells = [cell for cell in read_notebook(NOTEBOOK_PATH).cells if cell.cell_type == "code"]
    wide = [line for cell in code_cells for line in cell.source.splitlines() if len(line) > width]
    assert wide == []


# Trainings of one architecture in one run, on different images: (section of the metrics file, what it trains).
SAME_ARCHITECTURE = {
    "the original feedforward model": [("models.feedforward", "all training images"),
                                       ("anomaly", "the training images of nine classes (section 14)")],
    "the original CNN": [("models.cnn", "all training images"), ("denoising", "noisy training images (section 13)")],
}
TIME_AGREEMENT = 0.25  # a quiet run measured them within a few percent; a run beside other work, 2 times apart


def seconds_per_training_image(metrics: dict, section: str, training_images: int) -> float:
    result = metrics["models"][section.split(".")[1]] if section.startswith("models.") else metrics[section]
    epochs = metrics["epochs"] if section.startswith("models.") else result["epochs"]
    return result["train_seconds"] / (epochs * training_images)


def training_set_sizes(metrics: dict, training_labels: torch.Tensor, class_names: list[str]) -> dict[str, int]:
    # The original two train on every training image; the denoiser on those left after the validation images; the
    # anomaly detector on those of the nine normal classes among them (about nine tenths).
    held_out = class_names.index(metrics["anomaly"]["held_out_class"])
    normal_share = float((training_labels != held_out).double().mean())
    assert abs(metrics["anomaly"]["train_images"] / metrics["training_images"] - normal_share) < 0.01
    return {"models.feedforward": metrics["train_images"], "models.cnn": metrics["train_images"],
            "denoising": metrics["training_images"], "anomaly": metrics["anomaly"]["train_images"]}


def disturbed_trainings(metrics: dict, sizes: dict[str, int]) -> list[str]:
    """Every pair of trainings of one architecture whose times per training image disagree by more than
    TIME_AGREEMENT: the sign of a run that shared its CPU with other work (benchmarks/README.md, "A training that
    shares its CPU"), whose times would mislead whoever reads them."""
    problems = []
    for architecture, trainings in SAME_ARCHITECTURE.items():
        (first, first_images), (second, second_images) = trainings
        times = [seconds_per_training_image(metrics, section, sizes[section]) for section in (first, second)]
        if max(times) > (1 + TIME_AGREEMENT) * min(times):
            problems.append(f"{architecture}: {1e6 * times[0]:.1f} µs per image trained on {first_images}, "
                            f"{1e6 * times[1]:.1f} µs on {second_images}: was something else running?")
    return problems


@pytest.fixture(scope="module")
def training_sizes(committed_metrics, data_root) -> dict[str, int]:
    """How many images each training of the committed run saw, from the training labels and the notebook's code."""
    notebook = load_definitions()
    _, labels = notebook["load_split"](data_root, train=True, device=torch.device("cpu"))
    assert committed_metrics["train_images"] == len(labels)
    return training_set_sizes(committed_metrics, labels, notebook["CLASS_NAMES"])


def test_it_was_made_alone_on_its_machine(committed_metrics, training_sizes):
    # Section 8 compares designs per second of training: those seconds must not include other people's work.
    assert disturbed_trainings(committed_metrics, training_sizes) == []


def test_a_run_that_shared_its_cpu_is_caught(committed_metrics, training_sizes):
    sizes = training_sizes
    assert 0.89 * 55_000 < sizes["anomaly"] < 0.91 * 55_000  # nine classes of ten, less the validation images
    for section in ("models.feedforward", "anomaly", "models.cnn", "denoising"):
        disturbed = json.loads(json.dumps(committed_metrics))
        result = disturbed["models"][section.split(".")[1]] if "." in section else disturbed[section]
        result["train_seconds"] *= 2  # as in 331f50f's committed run: 6.28 s per feedforward epoch against 3.09
        (problem,) = disturbed_trainings(disturbed, sizes)
        assert problem.startswith("the original feedforward model" if section in {"models.feedforward", "anomaly"}
                                  else "the original CNN"), section


def test_section_one_states_how_long_this_run_took(committed, committed_metrics):
    (setup,) = [cell for cell in committed.cells if cell.cell_type == "markdown" and cell.source.startswith("## 1.")]
    text = " ".join(setup.source.split())
    quoted = re.search(r"about (\d+) minutes in all on a (\d+)-core CPU", text)
    assert quoted, "section 1 no longer says how long the full run took"
    assert abs(int(quoted[1]) - run_minutes(committed)) <= 0.5
    assert int(quoted[2]) == committed_metrics["machine"]["cpu_threads"]
