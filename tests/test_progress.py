"""Progress bars: a live widget for a person in Jupyter or Colab, one finished line for a script."""

import types

from notebook import load_definitions


def shell_allowing_input(allowed: bool):
    return lambda: types.SimpleNamespace(kernel=types.SimpleNamespace(_allow_stdin=allowed))


def test_a_person_gets_a_widget_and_a_script_a_line(monkeypatch):
    notebook = load_definitions()
    assert notebook["is_watched"]() is False  # plain Python, as here: no IPython at all
    notebook["get_ipython"] = shell_allowing_input(True)  # Jupyter: a person can answer input requests
    assert notebook["is_watched"]() is True
    assert notebook["progress_bar"](range(1)).__class__ is notebook["widget_progress_bar"]
    notebook["get_ipython"] = shell_allowing_input(False)  # jupyter execute, nbclient
    assert notebook["is_watched"]() is False
    monkeypatch.setitem(__import__("sys").modules, "google.colab", types.ModuleType("google.colab"))
    assert notebook["is_watched"]() is True  # Colab shows widgets


def test_a_script_gets_one_line_with_the_finished_bar(capsys):
    notebook = load_definitions()
    for _ in (progress := notebook["progress_bar"](range(30), desc="cnn", unit="epoch")):
        progress.set_postfix(test_loss=0.004)
    progress.close()  # a second close, as when the bar is garbage-collected, prints nothing more
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("cnn: 100%|██████████| 30/30 [") and "test_loss=0.004" in lines[0]
