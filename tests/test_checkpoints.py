"""Checkpoints: saved whole or not at all, reloaded exactly, never trusted when they do not fit."""

import json
import os
import re
from pathlib import Path

import pytest
import torch

from notebook_access import load_definitions


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
                                     recipe=notebook["Recipe"](epochs=epochs))


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def valid_history(epochs: int) -> dict:
    return {"seconds": 1.5, "train_loss": [0.1] * epochs, "held_out_loss": [0.1] * epochs,
            "held_out_mae": [0.1] * epochs, "held_out_original_metric_mean": [5.0] * epochs,
            "elapsed_seconds": [1.5 * (epoch + 1) / epochs for epoch in range(epochs)]}


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
    device_images, one_epoch = images.to(notebook["DEVICE"]), notebook["Recipe"](epochs=1)
    notebook["train_or_load"](fresh_model(notebook), "cnn", device_images, device_images, recipe=one_epoch)
    denoising = notebook["train_or_load"](fresh_model(notebook), "cnn", device_images, device_images, recipe=one_epoch,
                                          task="denoise")
    assert denoising["from_checkpoint"] is False
    assert "(task differ)" in capsys.readouterr().out
    other_loss = notebook["train_or_load"](fresh_model(notebook), "cnn", device_images, device_images, recipe=one_epoch,
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
    assert re.search(r"was saved for another setup \(mode(, \w+)* differ\)", capsys.readouterr().out)


def test_a_checkpoint_that_does_not_fit_the_model_leaves_its_initial_weights(notebook, images, capsys):
    model = fresh_model(notebook)
    setup = notebook["training_setup"](model, images, notebook["Recipe"](epochs=1), notebook["SEED"])
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    wrong = {k: torch.zeros_like(v) for k, v in weights.items()}
    wrong["decoder.2.weight"] = torch.zeros(3, 3)  # one tensor of the wrong shape, after others that fit
    path = notebook["CHECKPOINT_DIR"] / "cnn-quick.pt"
    path.parent.mkdir(parents=True)
    torch.save({"setup": setup, "state_dict": wrong, "history": valid_history(epochs=1)}, path)
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


def broken(checkpoint: dict, part: str, value) -> dict:
    """The checkpoint with one part replaced: "setup", "state_dict" or "history", or "a.b" for an entry of a part."""
    checkpoint = {key: dict(value) if isinstance(value, dict) else value for key, value in checkpoint.items()}
    if "." in part:
        outer, inner = part.split(".", 1)
        if value is None:
            del checkpoint[outer][inner]
        else:
            checkpoint[outer][inner] = value
    else:
        checkpoint[part] = value
    return checkpoint


# Each loads without error under weights_only=True, but the notebook could not use it.
BROKEN = {
    "setup is a list": (lambda c: broken(c, "setup", [1, 2]), "its setup is a list, not a dict"),
    "setup lacks a key": (lambda c: broken(c, "setup.seed", None), "another setup (seed differ)"),
    "not a dict": (lambda c: [c["setup"], c["state_dict"]], "it is not a checkpoint"),
    "no history": (lambda c: {k: v for k, v in c.items() if k != "history"}, "it is not a checkpoint"),
    "history is a list": (lambda c: broken(c, "history", [0.1]), "its history is not a dict"),
    "history lacks the time": (lambda c: broken(c, "history.seconds", None), "training time in seconds"),
    "history lacks a curve": (lambda c: broken(c, "history.held_out_mae", None), "no held_out_mae"),
    "a curve too short": (lambda c: broken(c, "history.train_loss", []), "no train_loss with one finite number"),
    "a curve of text": (lambda c: broken(c, "history.held_out_loss", ["0.1"]), "no held_out_loss with one finite number"),
    "a curve with NaN": (lambda c: broken(c, "history.train_loss", [float("nan")]), "no train_loss"),
    "weights are a list": (lambda c: broken(c, "state_dict", [1.0]), "its state_dict is not a dict of tensors"),
    "weights with NaN": (lambda c: broken(c, "state_dict.decoder.0.bias",
                                          torch.full_like(c["state_dict"]["decoder.0.bias"], float("nan"))),
                         "its weights hold NaN or infinity (decoder.0.bias)"),
    "weights with infinity": (lambda c: broken(c, "state_dict.encoder.0.weight",
                                               c["state_dict"]["encoder.0.weight"] / 0),
                              "its weights hold NaN or infinity (encoder.0.weight)"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_checkpoint_of_the_wrong_structure_is_named_and_the_model_trained_from_its_initial_weights(
        notebook, images, capsys, case):
    trained = fresh_model(notebook)
    train_or_load(notebook, trained, images)
    path = notebook["CHECKPOINT_DIR"] / "cnn-quick.pt"
    damage, reason = BROKEN[case]
    torch.save(damage(torch.load(path, weights_only=True)), path)
    capsys.readouterr()

    model = fresh_model(notebook)
    history = train_or_load(notebook, model, images)
    message = capsys.readouterr().out
    assert f"Checkpoint {path} is not used: " in message and reason in message and "training again" in message
    assert history["from_checkpoint"] is False
    # Trained from the untouched initial weights: the same model as the first training, bit for bit.
    assert torch.equal(notebook["reconstruct"](model, images), notebook["reconstruct"](trained, images))
    assert torch.load(path, weights_only=True)["history"]["train_loss"] == history["train_loss"]  # replaced


def test_a_failed_checkpoint_write_leaves_the_old_file_and_no_temporary_one(notebook, images, monkeypatch):
    train_or_load(notebook, fresh_model(notebook), images)
    path = notebook["CHECKPOINT_DIR"] / "cnn-quick.pt"
    before = path.read_bytes()

    def fails_half_way(data, file):
        Path(file).write_bytes(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", fails_half_way)
    with pytest.raises(OSError, match="disk full"):
        notebook["save_checkpoint"](path, fresh_model(notebook), {}, {})
    assert files_in(path.parent) == ["cnn-quick.pt"] and path.read_bytes() == before


def test_a_failed_json_write_leaves_no_file(notebook, tmp_path):
    path = tmp_path / "results" / "metrics.json"
    with pytest.raises(TypeError):
        notebook["write_json"](path, {"not saveable": object()})
    assert not path.parent.exists()  # it failed before anything was written
    notebook["write_json"](path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1} and files_in(path.parent) == ["metrics.json"]


def test_two_writers_of_one_file_do_not_mix_their_bytes(notebook, tmp_path):
    # The second writer starts and finishes while the first is half-way through writing: each writes to a
    # temporary file of its own, so the result is one writer's whole file, and no temporary file is left.
    path = tmp_path / "checkpoint.pt"
    temporaries = []

    def first(temporary):
        temporaries.append(temporary)
        temporary.write_bytes(b"first-" * 1000)
        notebook["write_atomically"](path, second)
        with temporary.open("ab") as file:
            file.write(b"end of first")

    def second(temporary):
        temporaries.append(temporary)
        temporary.write_bytes(b"second" * 500)

    notebook["write_atomically"](path, first)
    assert temporaries[0] != temporaries[1]
    assert path.read_bytes() == b"first-" * 1000 + b"end of first"
    assert files_in(tmp_path) == ["checkpoint.pt"]
