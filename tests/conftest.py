import json
import os
import shutil
from pathlib import Path

import matplotlib
import nbformat
import pytest
from nbclient import NotebookClient

from notebook import NOTEBOOK_PATH, ROOT, load_definitions

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


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, local_copy) -> tuple[nbformat.NotebookNode, dict]:
    """The notebook executed top to bottom in quick mode, and the metrics file it wrote."""
    results = tmp_path_factory.mktemp("quick-results")
    notebook = nbformat.read(NOTEBOOK_PATH, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOENCODERS_QUICK", "1")
        patch.setenv("AUTOENCODERS_RESULTS_DIR", str(results))
        NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
                       ).execute()
    return notebook, json.loads((results / "metrics-quick.json").read_text())
