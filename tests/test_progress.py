"""Progress bars: a line of text redrawn in place for a person in Jupyter or Colab, one finished line for a script;
never a widget, which a saved notebook could show only with the kernel that drew it."""

import re
import types

from notebook_access import load_definitions, read_notebook


def shell_allowing_input(allowed: bool):
    return lambda: types.SimpleNamespace(kernel=types.SimpleNamespace(_allow_stdin=allowed))


def test_a_person_gets_a_live_line_and_a_script_a_finished_one(monkeypatch):
    notebook = load_definitions()
    assert notebook["is_watched"]() is False  # plain Python, as here: no IPython at all
    notebook["get_ipython"] = shell_allowing_input(True)  # Jupyter: a person can answer input requests
    assert notebook["is_watched"]() is True
    notebook["display"] = lambda *args, **options: types.SimpleNamespace(update=lambda *args, **options: None)
    assert notebook["progress_bar"](range(1)).__class__ is notebook["LiveProgressLine"]
    notebook["get_ipython"] = shell_allowing_input(False)  # jupyter execute, nbclient
    assert notebook["is_watched"]() is False
    assert notebook["progress_bar"](range(1)).__class__ is notebook["FinishedProgressLine"]
    monkeypatch.setitem(__import__("sys").modules, "google.colab", types.ModuleType("google.colab"))
    assert notebook["is_watched"]() is True  # Colab: a person


def test_a_script_gets_one_line_with_the_finished_bar(capsys):
    notebook = load_definitions()
    for _ in (progress := notebook["progress_bar"](range(30), desc="cnn", unit="epoch")):
        progress.set_postfix(test_loss=0.004)
    progress.close()  # a second close, as when the bar is garbage-collected, prints nothing more
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("cnn: 100%|██████████| 30/30 [") and "test_loss=0.004" in lines[0]


def test_a_person_sees_one_output_redrawn_as_text_until_it_holds_the_finished_bar(capsys):
    notebook = load_definitions()
    shown = []  # every state of the one output the bar displays: (mimetype bundle, raw?)

    class Output:
        def update(self, bundle, raw=False):
            shown.append((bundle, raw))

    def display(*objects, raw=False, display_id=None):
        assert display_id is True, "the bar must be an output that can be redrawn in place"
        shown.append((objects[0], raw))
        return Output()

    notebook["display"] = display
    notebook["get_ipython"] = shell_allowing_input(True)
    for _ in (progress := notebook["progress_bar"](range(3), desc="vae", unit="epoch", mininterval=0)):
        progress.set_postfix(test_loss=263.0)
    assert capsys.readouterr().out == ""  # nothing printed beside the output
    assert all(raw and set(bundle) == {"text/plain"} for bundle, raw in shown)  # text only: no widget
    frames = [bundle["text/plain"] for bundle, _ in shown]
    assert any(re.match(r"vae:  33%\|", frame) for frame in frames)  # it moved while the loop ran
    assert frames[-1].startswith("vae: 100%|██████████| 3/3 [") and "test_loss=263" in frames[-1]


def test_the_notebook_uses_no_widget_progress_bar():
    code = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")
    assert "tqdm.auto" not in code and "tqdm.notebook" not in code


def test_a_training_bar_moves_within_an_epoch_about_once_a_second():
    # A full-mode epoch of the study's convolutional model takes about 40 s on a 2-core CPU; a bar that moved only
    # between epochs would look hung. Here a fake clock advances 0.4 s per batch.
    notebook = load_definitions()
    now = [0.0]
    notebook["time"] = types.SimpleNamespace(monotonic=lambda: now[0], perf_counter=lambda: now[0])
    frames = []

    def display(*objects, raw=False, display_id=None):
        frames.append(objects[0]["text/plain"])
        return types.SimpleNamespace(update=lambda bundle, raw=False: frames.append(bundle["text/plain"]))

    notebook["display"] = display
    notebook["get_ipython"] = shell_allowing_input(True)
    progress = notebook["progress_bar"](total=2, desc="cnn-32", unit="epoch", mininterval=0)
    for _ in range(2):
        for _ in progress.through_epoch(list(range(30))):
            now[0] += 0.4
    progress.close()
    within = [frame for frame in frames if re.search(r"\| [01]\.\d+/2 \[", frame)]
    assert 8 <= len(within) <= 12  # 24 s of batches, a redraw at most once a second of them
    assert frames[-1].startswith("cnn-32: 100%|██████████| 2/2 [")


def test_a_bar_that_moved_within_epochs_still_finishes_on_whole_epochs(capsys):
    notebook = load_definitions()
    progress = notebook["progress_bar"](total=3, desc="vae", unit="epoch")
    for _ in range(3):
        for _ in progress.through_epoch(range(7)):
            pass
    progress.close()
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("vae: 100%|██████████| 3/3 [")
