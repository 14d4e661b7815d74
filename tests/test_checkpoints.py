"""Checkpoints: saved whole or not at all, reloaded exactly, never trusted when they do not fit."""

import os
from pathlib import Path

import pytest
import torch

from notebook import load_definitions


@pytest.fixture
def notebook(monkeypatch, tmp_path) -> dict:
    monkeypatch.setenv("AUTOENCODERS_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("AUTOENCODERS_RETRAIN", "0")
    return load_definitions()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.rand(320, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def fresh_model(notebook):
    torch.manual_seed(notebook["SEED"])
    return notebook["on_device"](notebook["make_cnn_autoencoder"]())


def train_or_load(notebook, model, images, epochs=1):
    return notebook["train_or_load"](model, "cnn", images.to(notebook["DEVICE"]), images.to(notebook["DEVICE"]),
                                     epochs=epochs)


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_a_reloaded_model_reconstructs_exactly_like_the_saved_one(notebook, images, capsys):
    trained = fresh_model(notebook)
    history = train_or_load(notebook, trained, images)
    assert history["from_checkpoint"] is False
    assert files_in(notebook["CHECKPOINT_DIR"]) == ["cnn-quick.pt"]  # no temporary file left behind

    reloaded = fresh_model(notebook)  # the initial weights, not the trained ones
    assert not torch.equal(notebook["reconstruct"](reloaded, images), notebook["reconstruct"](trained, images))
    reloaded_history = train_or_load(notebook, reloaded, images)
    assert reloaded_history["from_checkpoint"] is True
    assert "Loaded " in capsys.readouterr().out
    assert torch.equal(notebook["reconstruct"](reloaded, images), notebook["reconstruct"](trained, images))
    assert {k: v for k, v in reloaded_history.items() if k != "from_checkpoint"} == {
        k: v for k, v in history.items() if k != "from_checkpoint"}


def test_a_truncated_checkpoint_is_named_and_the_model_retrained(notebook, images, capsys):
    train_or_load(notebook, fresh_model(notebook), images)
    path = notebook["CHECKPOINT_DIR"] / "cnn-quick.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    capsys.readouterr()

    model = fresh_model(notebook)
    history = train_or_load(notebook, model, images)
    message = capsys.readouterr().out
    assert f"Checkpoint {path} cannot be read" in message and "training again" in message
    assert history["from_checkpoint"] is False
    assert files_in(notebook["CHECKPOINT_DIR"]) == ["cnn-quick.pt"]
    assert torch.load(path, weights_only=True)["setup"]["epochs"] == 1  # replaced by a whole checkpoint


def test_a_checkpoint_for_another_setup_is_not_used(notebook, images, capsys):
    train_or_load(notebook, fresh_model(notebook), images, epochs=1)
    capsys.readouterr()
    history = train_or_load(notebook, fresh_model(notebook), images, epochs=2)
    assert "was saved for another setup (epochs differ)" in capsys.readouterr().out
    assert history["from_checkpoint"] is False and len(history["train_loss"]) == 2


def test_a_checkpoint_for_another_task_or_loss_is_not_used(notebook, images, capsys):
    device_images = images.to(notebook["DEVICE"])
    notebook["train_or_load"](fresh_model(notebook), "cnn", device_images, device_images, epochs=1)
    denoising = notebook["train_or_load"](fresh_model(notebook), "cnn", device_images, device_images, epochs=1,
                                          task="denoise")
    assert denoising["from_checkpoint"] is False
    assert "(task differ)" in capsys.readouterr().out
    other_loss = notebook["train_or_load"](fresh_model(notebook), "cnn", device_images, device_images, epochs=1,
                                           task="denoise", loss_function=lambda model, x, y: ((model(x) - y) ** 2).sum())
    assert other_loss["from_checkpoint"] is False
    assert "(loss differ)" in capsys.readouterr().out


def test_a_quick_mode_checkpoint_is_never_used_in_full_mode(monkeypatch, tmp_path, images, capsys):
    monkeypatch.setenv("AUTOENCODERS_CHECKPOINT_DIR", str(tmp_path))
    monkeypatch.setenv("AUTOENCODERS_QUICK", "1")
    quick = load_definitions()
    train_or_load(quick, fresh_model(quick), images)
    (tmp_path / "cnn-full.pt").write_bytes((tmp_path / "cnn-quick.pt").read_bytes())  # even under the full name

    monkeypatch.setenv("AUTOENCODERS_QUICK", "0")
    full = load_definitions()
    history = train_or_load(full, fresh_model(full), images)
    assert history["from_checkpoint"] is False
    assert "was saved for another setup (mode differ)" in capsys.readouterr().out


def test_a_checkpoint_that_does_not_fit_the_model_leaves_its_initial_weights(notebook, images, capsys):
    model = fresh_model(notebook)
    setup = notebook["training_setup"](model, images, 1, 64, 1e-3, notebook["SEED"])
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    wrong = {k: torch.zeros_like(v) for k, v in weights.items()}
    wrong["decoder.2.weight"] = torch.zeros(3, 3)  # one tensor of the wrong shape, after others that fit
    path = notebook["CHECKPOINT_DIR"] / "cnn-quick.pt"
    path.parent.mkdir(parents=True)
    torch.save({"setup": setup, "state_dict": wrong, "history": {}}, path)
    assert notebook["load_checkpoint"](path, model, setup) is None
    assert "does not fit the model" in capsys.readouterr().out
    for name, value in model.state_dict().items():
        assert torch.equal(value, weights[name]), f"{name} was changed by a failed load"


class WritesAFile:
    """An object whose unpickling would run code: it would create the file named by `marker`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_checkpoint_cannot_run_code(notebook, images, tmp_path, capsys):
    model = fresh_model(notebook)
    marker = tmp_path / "code-ran"
    path = notebook["CHECKPOINT_DIR"] / "cnn-quick.pt"
    path.parent.mkdir(parents=True)
    torch.save({"setup": WritesAFile(marker), "state_dict": {}, "history": {}}, path)
    history = train_or_load(notebook, model, images)
    assert not marker.exists()
    assert "cannot be read (UnpicklingError" in capsys.readouterr().out
    assert history["from_checkpoint"] is False


def test_retrain_trains_even_with_a_matching_checkpoint(monkeypatch, notebook, images):
    train_or_load(notebook, fresh_model(notebook), images)
    monkeypatch.setenv("AUTOENCODERS_RETRAIN", "1")
    retraining = load_definitions()
    assert retraining["CHECKPOINT_DIR"] == notebook["CHECKPOINT_DIR"]
    assert train_or_load(retraining, fresh_model(retraining), images)["from_checkpoint"] is False
