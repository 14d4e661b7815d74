"""FashionMNIST comes from a verified local copy or a download, and a bad source never leaves a file behind."""

import gzip
import hashlib
from pathlib import Path

import pytest
import torch
import torchvision

# The published MD5s of the four original, uncompressed files (REFERENCE.md), written out here rather than read
# from the notebook, so that a wrong checksum in the notebook cannot pass unnoticed.
ORIGINAL_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}


def everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_the_notebook_checks_the_published_checksums(notebook):
    assert notebook["FASHION_MNIST_MD5"] == ORIGINAL_MD5


def test_a_local_copy_is_found_verified_and_stored(notebook, tmp_path):
    raw = notebook["prepare_fashion_mnist"](tmp_path)
    assert raw == tmp_path / "FashionMNIST" / "raw"
    assert everything_under(tmp_path) == ["FashionMNIST", "FashionMNIST/raw"] + [
        f"FashionMNIST/raw/{name}" for name in sorted(ORIGINAL_MD5)]
    for name, md5 in ORIGINAL_MD5.items():
        assert hashlib.md5((raw / name).read_bytes()).hexdigest() == md5


def test_verified_files_are_reused_without_the_local_copy(notebook, monkeypatch, tmp_path):
    notebook["prepare_fashion_mnist"](tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("FASHION_MNIST_DIR", str(empty))  # would fail loudly if the notebook looked there again
    assert notebook["prepare_fashion_mnist"](tmp_path) == tmp_path / "FashionMNIST" / "raw"


def test_the_images_become_one_float_tensor_in_0_1(notebook, data_root):
    images, labels = notebook["load_split"](data_root, train=False, device=torch.device("cpu"))
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() == 0 and images.max() == 1
    assert torch.equal(torch.bincount(labels), torch.full((10,), 1_000))
    train_images, _ = notebook["load_split"](data_root, train=True, device=torch.device("cpu"))
    assert train_images.shape == (60_000, 1, 28, 28)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def change_one_byte_of_the_content(path: Path) -> None:
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[-1] ^= 0xFF
    # A valid .gz whose content is not the original; the fastest level, as the 47 MB of training images at the
    # default level took 17 s to compress.
    path.write_bytes(gzip.compress(bytes(content), compresslevel=1))


def replace_with_uncompressed_garbage(path: Path) -> None:
    path.unlink()
    path.with_suffix("").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 100)


@pytest.mark.parametrize("damage", [truncate, change_one_byte_of_the_content, replace_with_uncompressed_garbage])
@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_a_corrupt_copy_is_named_and_leaves_nothing_behind(notebook, monkeypatch, copy_of_local_copy, tmp_path,
                                                            damage, name):
    damage(copy_of_local_copy / f"{name}.gz")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(copy_of_local_copy))
    data = tmp_path / "data"
    with pytest.raises(notebook["DatasetError"], match="is corrupt or truncated") as error:
        notebook["prepare_fashion_mnist"](data)
    assert name in str(error.value)
    assert everything_under(data) == ["FashionMNIST", "FashionMNIST/raw"]  # no file, no staging folder


def test_a_corrupt_file_in_the_data_folder_is_replaced(notebook, tmp_path):
    raw = notebook["prepare_fashion_mnist"](tmp_path)
    truncate(raw / "t10k-images-idx3-ubyte")
    notebook["prepare_fashion_mnist"](tmp_path)
    assert hashlib.md5((raw / "t10k-images-idx3-ubyte").read_bytes()).hexdigest() == ORIGINAL_MD5[
        "t10k-images-idx3-ubyte"]


def test_an_incomplete_copy_names_the_missing_file(notebook, monkeypatch, copy_of_local_copy, tmp_path):
    (copy_of_local_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("FASHION_MNIST_DIR", str(copy_of_local_copy))
    with pytest.raises(notebook["DatasetError"], match="has no t10k-labels-idx1-ubyte"):
        notebook["prepare_fashion_mnist"](tmp_path / "data")
    assert everything_under(tmp_path / "data") == ["FashionMNIST", "FashionMNIST/raw"]


def test_a_fashion_mnist_dir_that_does_not_exist_is_refused(notebook, monkeypatch, tmp_path):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="FASHION_MNIST_DIR=.*nowhere.* does not exist"):
        notebook["prepare_fashion_mnist"](tmp_path / "data")


def test_no_copy_and_no_network_gives_one_error_naming_both_fixes(notebook, monkeypatch, tmp_path):
    monkeypatch.delenv("FASHION_MNIST_DIR")
    monkeypatch.setitem(notebook, "DEBIAN_COPY", tmp_path / "no-debian-copy")
    # A mirror that refuses every connection: the same failure as no network, on any machine.
    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    data = tmp_path / "data"
    with pytest.raises(notebook["DatasetError"]) as error:
        notebook["prepare_fashion_mnist"](data)
    message = str(error.value)
    assert "downloading it failed" in message and "Connection refused" in message
    assert "connect to the internet" in message and "set FASHION_MNIST_DIR" in message
    assert everything_under(data) == ["FashionMNIST", "FashionMNIST/raw"]
