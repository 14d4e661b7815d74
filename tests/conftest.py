import json
import os
import shutil
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import pytest
from nbclient import NotebookClient

from device_watch import AcceleratorWithoutFloat64
from notebook_access import NOTEBOOK_PATH, ROOT, execute_in_process, load_definitions, quick_retrain_settings

matplotlib.use("Agg")  # for definition cells executed in this process; the nbval kernel keeps its own backend

DEBIAN_COPY = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="session")
def local_copy() -> Path:
    """A local copy of the original FashionMNIST files (FASHION_MNIST_DIR, else Debian's package)."""
    folder = Path(os.environ.get("FASHION_MNIST_DIR") or DEBIAN_COPY)
    if not folder.is_dir():
        message = f"no local copy of FashionMNIST at {folder}: apt-get install dataset-fashion-mnist"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture
def copy_of_local_copy(local_copy, tmp_path) -> Path:
    """A private copy of the local files, for tests that damage them."""
    return Path(shutil.copytree(local_copy, tmp_path / "copy"))


@pytest.fixture
def notebook(monkeypatch, local_copy) -> dict:
    """The notebook's definitions, with its data source pointed at the local copy."""
    monkeypatch.setenv("FASHION_MNIST_DIR", str(local_copy))
    return load_definitions()


@pytest.fixture(scope="session")
def data_root(local_copy, tmp_path_factory) -> Path:
    """A data folder prepared once by the notebook's own code, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FASHION_MNIST_DIR", str(local_copy))
        load_definitions()["prepare_fashion_mnist"](root)
    return root


def execute_notebook(results: Path, **environment: str) -> tuple[nbformat.NotebookNode, dict]:
    """The notebook executed top to bottom in quick mode by a fresh kernel, and the metrics file it wrote."""
    notebook = nbformat.read(NOTEBOOK_PATH, as_version=4)
    # Agg, unlike Jupyter's inline backend, keeps every figure open after plt.show(), and matplotlib warns on stderr
    # past 20 open figures: a warning about this harness, not about the notebook, which these runs must not get.
    settings = results / "matplotlibrc"
    settings.write_text("figure.max_open_warning: 0\n")
    with pytest.MonkeyPatch.context() as patch:
        # nbval's run shows every figure; these runs are read for their numbers and tables, so their kernels draw
        # figures without rendering them into the notebook (matplotlib's Agg backend), about 6 s less a run.
        for name, value in {"AUTOENCODERS_QUICK": "1", "AUTOENCODERS_RESULTS_DIR": str(results),
                            "AUTOENCODERS_RETRAIN": "0", "AUTOENCODERS_SEED": "0", "MPLBACKEND": "agg",
                            "MATPLOTLIBRC": str(settings), **environment}.items():
            patch.setenv(name, value)
        NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
                       ).execute()
    return notebook, json.loads((results / "metrics-quick.json").read_text())


def nbvals_run() -> tuple[dict, Path] | None:
    """The metrics and checkpoints of nbval's run in this session, if it ran first and finished: a quick run of seed
    0 in a fresh kernel that trained every model (conftest.py gives it folders of this session's own)."""
    folders = json.loads(os.environ.get("AUTOENCODERS_TEST_FIRST_RUN", "{}"))
    metrics_path = Path(folders.get("results", "/nonexistent")) / "metrics-quick.json"
    if not metrics_path.is_file():
        return None
    metrics = json.loads(metrics_path.read_text())
    if (metrics["mode"], metrics["seed"]) != ("quick", 0) or any(r["from_checkpoint"] for r in metrics["models"].values()):
        return None
    return metrics, Path(folders["checkpoints"])


@pytest.fixture(scope="session")
def first_run(tmp_path_factory, local_copy) -> tuple[dict, Path]:
    """The metrics of a first quick run, which found no checkpoints and so trained every model and saved it, and the
    folder of those checkpoints: nbval's run when it ran first in this session (as `pytest` runs it), else a run of
    its own."""
    reused = nbvals_run()
    if reused is not None:
        return reused
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    _, metrics = execute_notebook(tmp_path_factory.mktemp("first-run"), AUTOENCODERS_CHECKPOINT_DIR=str(checkpoints))
    return metrics, checkpoints


@pytest.fixture(scope="session")
def checkpoint_dir(first_run) -> Path:
    return first_run[1]


@pytest.fixture(scope="session")
def quick_run(first_run, tmp_path_factory, checkpoint_dir):
    """The quick notebook executed again in a fresh kernel, with the first run's checkpoints in place: it trains
    nothing, and shows and saves every number of the first run."""
    return execute_notebook(tmp_path_factory.mktemp("quick-run"), AUTOENCODERS_CHECKPOINT_DIR=str(checkpoint_dir))


SHOWN_FIGURES = []  # every figure the watched run showed, in order, for tests/test_figures.py


def keep_and_close(*args, **kwargs):
    SHOWN_FIGURES.extend(plt.figure(number) for number in plt.get_fignums())
    plt.close("all")


@pytest.fixture(scope="session")
def watched_retrain(quick_run, tmp_path_factory, local_copy, checkpoint_dir):
    """Seed 0 again, told to train again although the first run's checkpoints are there, executed in this process
    under a watch that plays an accelerator without float64 (tests/device_watch.py). Returns the watch, the
    notebook's namespace and the metrics file it wrote; the figures it showed are kept in SHOWN_FIGURES."""
    watch, results = AcceleratorWithoutFloat64(), tmp_path_factory.mktemp("watched-retrain")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in quick_retrain_settings(local_copy, results, checkpoint_dir).items():
            patch.setenv(name, value)
        patch.setattr(plt, "show", keep_and_close)
        with watch.watching():
            namespace = execute_in_process()
    return watch, namespace, json.loads((results / "metrics-quick.json").read_text())


@pytest.fixture(scope="session")
def shown_figures(watched_retrain) -> list:
    """The figures of the watched run, by their suptitle or their first axes' title."""
    def title(figure) -> str:
        return figure.get_suptitle() or figure.axes[0].get_title()

    return [(title(figure), figure) for figure in SHOWN_FIGURES]


@pytest.fixture(scope="session")
def seed_one_run(watched_retrain, tmp_path_factory, checkpoint_dir):
    """A quick run with AUTOENCODERS_SEED=1 over seed 0's checkpoints, which it must not use."""
    return execute_notebook(tmp_path_factory.mktemp("seed-one"), AUTOENCODERS_CHECKPOINT_DIR=str(checkpoint_dir),
                            AUTOENCODERS_SEED="1")
