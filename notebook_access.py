"""The notebook as a library, for every test, experiment and benchmark, so that none of them copies what it does.

Cells tagged `definitions` (imports, settings, functions, models) are executed in a fresh namespace in this
process; cells that load data or train are not. Outputs are read from the notebook file with nbformat. Import it from
the repository's root: pytest puts the root on the path (conftest.py), and the scripts run as modules from there
(`python -m experiments.seeds`).
"""

import contextlib
import hashlib
import io
import itertools
import os
import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import nbformat

ROOT = Path(__file__).resolve().parent
NOTEBOOK_PATH = ROOT / "autoencoders.ipynb"


def read_notebook(path: Path = NOTEBOOK_PATH) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def notebook_code_fingerprint(path: Path = NOTEBOOK_PATH) -> str:
    """SHA-256 of a notebook's code cells: what decides its numbers (its prose and outputs do not)."""
    code = "\n\n".join(cell.source for cell in read_notebook(path).cells if cell.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()


def editor_line_length() -> int:
    """The widest code line the notebook may have: ruff's line length (pyproject.toml), which is what JupyterLab's
    editor shows in tests/test_browser.py's window."""
    return int(re.search(r"^line-length = (\d+)", (ROOT / "pyproject.toml").read_text(), re.MULTILINE)[1])


# The original two models, the code-size study, denoising, anomaly detection (and its all-classes reference), the
# VAE, and the sparse autoencoder with its plain twin.
TRAINING_CELLS = 7


def training_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells that train models (each shows one progress bar per model)."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and "train_or_load(" in cell.source
            and "def train_or_load" not in cell.source]


def tagged_cells(notebook: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]


def load_definitions() -> dict:
    """Execute the notebook's definition cells, reading settings from the current environment."""
    namespace = {"__name__": "autoencoders_notebook"}
    for index, cell in enumerate(read_notebook().cells):
        if "definitions" in cell.get("metadata", {}).get("tags", []):
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"autoencoders.ipynb, cell {index}", "exec"), namespace)  # noqa: S102 (our own notebook)
    return namespace


def notebook_and_images(labels: bool = False):
    """The notebook's definitions in full mode, and its training and test images on its device, prepared by its own
    code (and their labels, if asked for)."""
    os.environ.setdefault("AUTOENCODERS_QUICK", "0")
    notebook = load_definitions()
    data_root = notebook["DATA_ROOT"] if notebook["DATA_ROOT"].is_absolute() else ROOT / notebook["DATA_ROOT"]
    notebook["prepare_fashion_mnist"](data_root)
    train_images, train_labels = notebook["load_split"](data_root, train=True, device=notebook["DEVICE"])
    test_images, test_labels = notebook["load_split"](data_root, train=False, device=notebook["DEVICE"])
    if labels:
        return notebook, train_images, train_labels, test_images, test_labels
    return notebook, train_images, test_images


def notebook_and_data() -> tuple[dict, SimpleNamespace]:
    """The notebook's definitions in full mode, and its images and labels on its device, split as section 2 splits
    them: `train_*` (all training images: the original two models'), `training_*` and `validation_*` (every other
    model's), and `test_*`."""
    notebook, train_images, train_labels, test_images, test_labels = notebook_and_images(labels=True)
    split = notebook["validation_split"](len(train_images), notebook["VALIDATION_SIZE"], notebook["SEED"])
    training, validation = (rows.to(notebook["DEVICE"]) for rows in split)
    return notebook, SimpleNamespace(
        train_images=train_images, train_labels=train_labels, test_images=test_images, test_labels=test_labels,
        training_images=train_images[training], training_labels=train_labels[training],
        validation_images=train_images[validation], validation_labels=train_labels[validation])


def committed_model(notebook: dict, make: str, name: str, *arguments):
    """The committed run's model `name` (checkpoints/<name>-full.pt), built by the notebook's `make` function (called
    with `arguments`) and put on its device as the notebook does; stops with what to do when the checkpoint is not
    there."""
    import torch  # only here: the tests that read files need no PyTorch

    checkpoint = ROOT / "checkpoints" / f"{name}-full.pt"
    if not checkpoint.is_file():
        raise SystemExit(f"{checkpoint} is missing: run the notebook in full mode first (it trains and saves it).")
    model = notebook["on_device"](notebook[make](*arguments))
    model.load_state_dict(torch.load(checkpoint, map_location=notebook["DEVICE"], weights_only=True)["state_dict"])
    return model


def quick_retrain_settings(local_copy: Path, results: Path, checkpoints: Path) -> dict[str, str]:
    """The environment of a quick run of seed 0 that trains every model again, in folders of its own."""
    return {"AUTOENCODERS_QUICK": "1", "AUTOENCODERS_RETRAIN": "1", "AUTOENCODERS_SEED": "0",
            "FASHION_MNIST_DIR": str(local_copy), "AUTOENCODERS_RESULTS_DIR": str(results),
            "AUTOENCODERS_CHECKPOINT_DIR": str(checkpoints)}


def execute_in_process(edits: dict[str, str] | None = None) -> dict:
    """Execute every code cell of the notebook top to bottom in this process (settings from the environment, figures
    to matplotlib's current backend), for tests that watch what the code does from inside; returns the namespace.
    `edits` changes the code first, as a reader would: each text to replace (it must occur exactly once) and its
    replacement."""
    cells = [cell for cell in read_notebook().cells if cell.cell_type == "code"]
    sources = [cell.source for cell in cells]
    for old, new in (edits or {}).items():
        found = [i for i, source in enumerate(sources) if old in source]
        assert len(found) == 1 and sources[found[0]].count(old) == 1, f"{old!r} is not in exactly one code cell"
        sources[found[0]] = sources[found[0]].replace(old, new)
    namespace = {"__name__": "autoencoders_notebook"}
    for index, source in enumerate(sources):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"autoencoders.ipynb, code cell {index}", "exec"), namespace)  # noqa: S102 (our own notebook)
    return namespace


def cell_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in {"execute_result", "display_data"}:
            parts.append(output.data.get("text/markdown") or output.data.get("text/plain", ""))
    return "".join(parts)


def displayed_table(notebook: nbformat.NotebookNode, tag: str) -> list[dict[str, str]]:
    """The markdown table displayed by the cell tagged `tag`, as a list of {column name: cell text}."""
    (cell,) = tagged_cells(notebook, tag)
    markdown = next(o.data["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {}))
    return markdown_table_rows(markdown)


def markdown_table_rows(markdown: str) -> list[dict[str, str]]:
    """The first table in a markdown text, as a list of {column name: cell text} (bold marks removed)."""
    lines = [line.strip() for line in markdown.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    split = [[part.strip().strip("*") for part in line.strip("|").split("|")] for line in table]
    header, rows = split[0], split[2:]
    return [dict(zip(header, row)) for row in rows]


def metrics_table(notebook: nbformat.NotebookNode) -> dict[str, dict[str, str]]:
    """The results table the notebook displayed, as {row name: {column name: cell text}}."""
    return {row["Model"]: row for row in displayed_table(notebook, "metrics-table")}


def displayed_number(text: str) -> tuple[float, float]:
    """A number as the table shows it, and half the unit of its last displayed digit (its rounding tolerance)."""
    text = text.replace(",", "")
    match = re.fullmatch(r"-?\d+(?:\.(\d+))?", text)
    assert match, f"{text!r} is not a number"
    return float(text), 0.5 * 10 ** -len(match.group(1) or "")


def shows(text: str, value: float) -> bool:
    """Whether a table cell shows `value`, up to the rounding of its last displayed digit."""
    shown, tolerance = displayed_number(text)
    return abs(shown - value) <= tolerance + 1e-9 * abs(value)


TABLE_COLUMNS = {  # column of the displayed table -> key in metrics.json
    "Code size (input: 784)": "code_size",
    "Parameters": "parameters",
    "Training time (s)": "train_seconds",
    "Original metric, total": "original_metric_total",
    "Original metric, per image": "original_metric_mean",
    "SAE per image": "sae_mean",
    "MAE per pixel": "mae",
    "MSE per pixel": "mse",
}
TABLE_ROWS = {"Feedforward": "feedforward", "CNN": "cnn"}


def table_mismatches(notebook: nbformat.NotebookNode, metrics: dict) -> list[str]:
    """Every number of the displayed table that differs from the metrics file (beyond display rounding)."""
    table = metrics_table(notebook)
    problems = []
    for row, model in TABLE_ROWS.items():
        if row not in table:
            problems.append(f"the table has no row {row!r}")
            continue
        for column, key in TABLE_COLUMNS.items():
            expected = metrics["models"][model][key]
            if not shows(table[row][column], expected):
                problems.append(f"{row} / {column}: the table shows {table[row][column]}, metrics say {expected}")
    return problems


NOT_REPRODUCIBLE = {"train_seconds", "elapsed_seconds", "from_checkpoint"}  # timings, and where the weights came from
APPLICATIONS = ("denoising", "anomaly", "vae", "sparse")  # the sections on what autoencoders are for
RESULT_SECTIONS = ("models", "code_size_study", "per_class_mae", "compression", "code_quality", *APPLICATIONS)


def drop_timings(section: dict) -> dict:
    """A section of a metrics file without its timings, at any depth (the sparse autoencoder keeps one per model)."""
    return {key: drop_timings(value) if isinstance(value, dict) else value for key, value in section.items()
            if key not in NOT_REPRODUCIBLE}


def reproducible_numbers(metrics: dict) -> dict:
    """Every result of a metrics file that two runs on the same machine must reproduce bit for bit: all sections
    of the file but its run description, without timings."""
    return {
        "models": {model: {key: value for key, value in result.items() if key not in NOT_REPRODUCIBLE}
                   for model, result in metrics["models"].items()},
        "code_size_study": [{key: value for key, value in row.items() if key not in NOT_REPRODUCIBLE}
                            for row in metrics.get("code_size_study", [])],
        "per_class_mae": metrics.get("per_class_mae"),
        "best_on_validation": metrics.get("best_on_validation"),
        **{section: drop_timings(metrics.get(section, {})) for section in APPLICATIONS},
        "compression": metrics.get("compression"),  # no timings in these two
        "code_quality": metrics.get("code_quality"),
    }


def study_row(metrics: dict, model: str, code: int, original: bool = False) -> dict:
    """The code-size study's row of a model at a code size, in a metrics file or a seed's reproducible numbers."""
    return next(row for row in metrics["code_size_study"]
                if (row["model"], row["code_size"], row["original"]) == (model, code, original))


def code_quality_row(metrics: dict, model: str, code: int, original: bool = False) -> dict:
    """Section 12's row of a representation (a model's codes at a code size, PCA's, or the pixels)."""
    return next(row for row in metrics["code_quality"]["rows"]
                if (row["model"], row["code_size"], row["original"]) == (model, code, original))


def quantized(metrics: dict, method: str, code: int, bits: int) -> dict:
    """Section 11's point of a model's code at a code size, quantised to `bits` per number."""
    return next(point for point in metrics["compression"]["quantized"]
                if (point["method"], point["code_size"], point["bits_per_number"]) == (method, code, bits))


def codec(metrics: dict, name: str, quality: int) -> dict:
    """Section 11's point of a codec (Pillow's format name) at a quality."""
    return next(point for point in metrics["compression"]["codecs"] if (point["codec"], point["quality"]) == (name, quality))


# Section 12's codes of 2 numbers, as (model, code size, original): the study's models and PCA.
TWO_NUMBER_CODES = [("feedforward", 2, True), ("feedforward", 2, False), ("cnn", 2, False), ("pca", 2, False)]


def study_label(row: dict) -> str:
    """A code-size study row (or code-quality row) named by its model, e.g. 'feedforward-original-2', 'cnn-8'."""
    return f"{row['model']}{'-original' if row['original'] else ''}-{row['code_size']}"


def headline_numbers(reproducible: dict) -> dict[str, float]:
    """The numbers the notebook's conclusions rest on, from one run's reproducible numbers, by name: the results
    table, every MSE of the code-size study and the best 2-D model's gain, the rate-distortion and code-quality
    figures, and the denoising, anomaly and VAE results."""
    numbers = {f"models.{model}.{key}": reproducible["models"][model][key]
               for model in ("feedforward", "cnn") for key in ("original_metric_mean", "sae_mean", "mse")}
    study = reproducible["code_size_study"]
    numbers |= {f"code_size_study.{study_label(row)}.mse": row["mse"] for row in study}
    best_at_2 = min((row for row in study if row["code_size"] == 2 and row["validation_mse"] is not None
                     and row["model"] != "pca"), key=lambda row: row["validation_mse"])["mse"]
    numbers["code_size_study.best_2d_gain_percent"] = 100 * (1 - best_at_2 / reproducible["models"]["feedforward"]["mse"])
    numbers |= {f"compression.{method}.best_psnr_within_256_bits": point["best_psnr_within_256_bits"]
                for method, point in reproducible["compression"]["operating_points"].items()
                if point["best_psnr_within_256_bits"] is not None}
    numbers |= {f"code_quality.{study_label(row)}.{key}": row[key]
                for row in reproducible["code_quality"]["rows"] for key in ("knn_accuracy", "probe_accuracy")}
    for section, keys in {"denoising": ("psnr_noisy", "psnr_plain_cnn", "psnr_denoised"),
                          "anomaly": ("roc_auc", "roc_auc_trained_on_all_classes", "precision", "recall"),
                          "vae": ("test_loss", "kl", "mse", "mse_plain_autoencoder")}.items():
        numbers |= {f"{section}.{key}": reproducible[section][key] for key in keys}
    numbers |= {f"sparse.{model}.{key}": reproducible["sparse"][model][key]
                for model in ("plain", "sparse") for key in ("mse", "active_units_mean")}
    return numbers


def last_epochs_original_metric(metrics: dict, epochs: int = 10) -> dict[str, list[float]]:
    """The original metric per image after each of the last `epochs` epochs, for both original models."""
    return {model: metrics["models"][model]["history"]["held_out_original_metric_mean"][-epochs:]
            for model in ("feedforward", "cnn")}


def code_size_table_mismatches(notebook: nbformat.NotebookNode, metrics: dict) -> list[str]:
    """Every number of the displayed code-size table that differs from `code_size_study` in the metrics file."""
    table = displayed_table(notebook, "code-size-table")
    study = metrics["code_size_study"]
    if len(table) != len(study):
        return [f"the table has {len(table)} rows, the metrics file {len(study)}"]
    problems = []
    for shown, row in zip(table, study):  # both sorted by code size, then model
        for column, key in [("Code size", "code_size"), ("Test MSE", "mse"), ("MAE per pixel", "mae"),
                            ("Parameters", "parameters"), ("Training time (s)", "train_seconds")]:
            if not shows(shown[column], row[key]):
                problems.append(f"{shown['Model']} at {shown['Code size']} / {column}: {shown[column]} vs {row[key]}")
    return problems


DENOISING_ROWS = {"Noisy input": "noisy", "Original CNN (trained to copy)": "plain_cnn", "Denoising CNN": "denoised"}


def denoising_table_mismatches(notebook: nbformat.NotebookNode, metrics: dict) -> list[str]:
    """Every number of the displayed denoising table that differs from `denoising` in the metrics file."""
    table = displayed_table(notebook, "denoising-table")
    problems = [] if len(table) == len(DENOISING_ROWS) else [f"the table has {len(table)} rows"]
    for shown in table:
        key = DENOISING_ROWS.get(shown["Test images, compared with the clean ones"])
        if key is None:
            problems.append(f"unexpected row {shown}")
            continue
        for column, prefix in [("MSE per pixel", "mse"), ("PSNR (dB)", "psnr")]:
            if not shows(shown[column], metrics["denoising"][f"{prefix}_{key}"]):
                problems.append(f"{key} / {column}: {shown[column]} vs {metrics['denoising'][f'{prefix}_{key}']}")
    return problems


# The compression table names methods as the notebook's figures do; the metrics file keeps the names it always had.
METHOD_LABELS_IN_METRICS = {"Feedforward, deeper": "deeper feedforward AE", "Convolutional (UvA's design)": "convolutional AE",
                            "WebP": "WEBP"}


def metrics_method_name(label: str) -> str:
    """The metrics file's name of a method as the compression table shows it, e.g. 'WebP' -> 'WEBP'."""
    for shown, name in METHOD_LABELS_IN_METRICS.items():
        if label == shown or label.startswith(shown + ", "):
            return name + label[len(shown):]
    return label


def compression_table_mismatches(notebook: nbformat.NotebookNode, metrics: dict) -> list[str]:
    """Every operating point of the displayed compression table that differs from the metrics file."""
    table = {metrics_method_name(row["Method"]): row for row in displayed_table(notebook, "compression-table")}
    points = metrics["compression"]["operating_points"]
    problems = [] if table.keys() == points.keys() else [f"rows {sorted(table)} vs {sorted(points)}"]
    for name, point in points.items():
        for column, key, missing in [("Best PSNR (dB) within 256 bits per image", "best_psnr_within_256_bits", "none"),
                                     ("Bits per image for 20 dB", "bits_for_20_db", "never")]:
            shown = table.get(name, {}).get(column)
            if not (shown == missing if point[key] is None else shown not in (None, missing) and shows(shown, point[key])):
                problems.append(f"{name} / {column}: {shown} vs {point[key]}")
    return problems


def code_quality_table_mismatches(notebook: nbformat.NotebookNode, metrics: dict) -> list[str]:
    """Every accuracy of the displayed code-quality table that differs from the metrics file."""
    table, rows = displayed_table(notebook, "code-quality-table"), metrics["code_quality"]["rows"]
    if len(table) != len(rows):
        return [f"the table has {len(table)} rows, the metrics file {len(rows)}"]
    return [f"{shown['Representation']} / {column}: {shown[column]} vs {row[key]}" for shown, row in zip(table, rows)
            for column, key in [("5-nearest-neighbour accuracy", "knn_accuracy"), ("Linear probe accuracy", "probe_accuracy")]
            if not shows(shown[column], row[key])]


# What the original's README published (its metric only): (model, key) -> the figure as it printed it.
PUBLISHED = {("feedforward", "original_metric_mean"): "8.11", ("cnn", "original_metric_mean"): "3.29"}
SEED_TABLE_ROWS = {"Feedforward": "feedforward", "CNN": "cnn"}
SEED_TABLE_METRICS = {"original metric per image": "original_metric_mean", "SAE per image": "sae_mean",
                      "MSE per pixel": "mse"}


def spread_cell_mismatches(where: str, text: str, numbers: dict, kind: str) -> list[str]:
    """Whether a table cell shows a spread of seeds.json: kind "mean ± std" ("8.61 ± 0.31") or "min–max"."""
    parts = [part.strip() for part in re.split(r"±|–", text)]
    expected = (numbers["mean"], numbers["std"]) if kind == "mean ± std" else (numbers["min"], numbers["max"])
    if len(parts) != 2:
        return [f"{where}: {text!r} is not a {kind}"]
    if not all(shows(part, value) for part, value in zip(parts, expected)):
        return [f"{where}: shows {text}, seeds.json says {kind} = {expected}"]
    return []


# The table of spreads in the notebook's summary and experiments/README.md: row name -> headline number of seeds.json.
README_SPREAD_ROWS = {
    "Deeper feedforward, code of 2: MSE": "code_size_study.feedforward-2.mse",
    "Convolutional, code of 2: MSE": "code_size_study.cnn-2.mse",
    "Deeper feedforward, code of 8: MSE": "code_size_study.feedforward-8.mse",
    "Convolutional, code of 8: MSE": "code_size_study.cnn-8.mse",
    "Deeper feedforward, code of 32: MSE": "code_size_study.feedforward-32.mse",
    "Convolutional, code of 32: MSE": "code_size_study.cnn-32.mse",
    "Best 2-number code: MSE below the original feedforward model's (%)": "code_size_study.best_2d_gain_percent",
    "Deeper feedforward, code of 32: 5-NN accuracy": "code_quality.feedforward-32.knn_accuracy",
    "Convolutional, code of 32: 5-NN accuracy": "code_quality.cnn-32.knn_accuracy",
    "Denoising: PSNR of the noisy images (dB)": "denoising.psnr_noisy",
    "Denoising: PSNR, original CNN (dB)": "denoising.psnr_plain_cnn",
    "Denoising: PSNR, denoising CNN (dB)": "denoising.psnr_denoised",
    "Anomaly detection: ROC-AUC, bags held out": "anomaly.roc_auc",
    "Anomaly detection: ROC-AUC, trained on all classes": "anomaly.roc_auc_trained_on_all_classes",
    "Anomaly detection: precision at the threshold": "anomaly.precision",
    "Anomaly detection: recall at the threshold": "anomaly.recall",
    "VAE: test loss per image": "vae.test_loss",
    "VAE: KL term": "vae.kl",
    "VAE: test MSE": "vae.mse",
    "VAE: test MSE of the plain model with its layers": "vae.mse_plain_autoencoder",
    "Sparse autoencoder: active code units per image": "sparse.sparse.active_units_mean",
    "Sparse autoencoder: test MSE": "sparse.sparse.mse",
    "Plain wide autoencoder: test MSE": "sparse.plain.mse",
}


def run_minutes(notebook) -> float:
    """The wall time of a notebook's run, from its first code cell's start to its last one's end, as the cells'
    execution metadata (which `jupyter execute` writes) records them."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    start = datetime.fromisoformat(code_cells[0].metadata.execution["iopub.execute_input"])
    end = datetime.fromisoformat(code_cells[-1].metadata.execution["shell.execute_reply"])
    return (end - start).total_seconds() / 60
