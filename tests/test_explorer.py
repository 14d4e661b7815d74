"""The code-space explorer of sections 9 and 15: the image it shows for a point is the decoder's output for that
point; a person's sliders move the point over the codes and a margin beyond them, and each move redraws the one
picture in place; a script gets the picture at the starting point and a line saying that it moves when run. (The
browser test moves it in JupyterLab; tests/stacks.py moves it with Colab's ipywidgets.)"""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from notebook import cell_text, read_notebook


@pytest.fixture(scope="module")
def parts():
    from notebook import load_definitions

    notebook = load_definitions()
    torch.manual_seed(0)
    model = notebook["on_device"](notebook["make_feedforward_autoencoder"]())
    codes = torch.randn(400, 2, generator=torch.Generator().manual_seed(1)) * torch.tensor([3.0, 1.5])
    labels = torch.randint(0, 10, (400,), generator=torch.Generator().manual_seed(2))
    return notebook, model, codes, labels


def decoder_output(notebook, model, x: float, y: float) -> np.ndarray:
    with torch.no_grad():
        return model.decoder(torch.tensor([[x, y]], device=notebook["DEVICE"]))[0, 0].cpu().numpy()


GREY_LEVEL = 2 / 255  # matplotlib's grey colour map has 256 levels, and the PNG 8 bits


def shown_pixels(explorer, picture) -> np.ndarray:
    """The 28 x 28 grey levels that the PNG shows where the explorer draws the decoded image: each image pixel is a
    square of screen pixels, read at its centre."""
    rgba = np.asarray(Image.open(io.BytesIO(picture.data)).convert("RGBA"))
    box = explorer.decoded.get_window_extent()  # in figure pixels, counted from the bottom
    columns = box.x0 + (np.arange(28) + 0.5) * box.width / 28
    rows = rgba.shape[0] - (box.y1 - (np.arange(28) + 0.5) * box.height / 28)
    return rgba[rows.astype(int)[:, None], columns.astype(int)[None, :], 0].astype(float) / 255


def test_the_image_shown_for_a_point_is_the_decoders_output_for_that_point(parts):
    notebook, model, codes, labels = parts
    explorer = notebook["CodeSpaceExplorer"](model, codes, labels, "a test map", start=(0.0, 0.0))
    for x, y in [(0.0, 0.0), (4.2, -1.3), (-9.0, 3.5)]:  # the last one beyond every code
        picture = explorer.picture(x, y)
        expected = decoder_output(notebook, model, x, y)
        np.testing.assert_array_equal(explorer.decoded.get_array(), expected)
        shown = shown_pixels(explorer, picture)
        assert np.abs(shown - expected).max() <= GREY_LEVEL
        assert np.abs(shown - decoder_output(notebook, model, x + 1, y)).max() > 5 * GREY_LEVEL  # not any image
        assert [list(values) for values in explorer.cross.get_data()] == [[x], [y]]
        assert explorer.caption.get_text() == f"decoded from ({x:.2f}, {y:.2f})"


class Output:
    def __init__(self):
        self.updates = []

    def update(self, picture):
        self.updates.append(picture)


def test_a_person_moves_the_point_with_two_sliders_and_the_one_picture_is_redrawn(parts, monkeypatch):
    notebook, model, codes, labels = parts
    shown, outputs = [], []

    def display(something, display_id=None, raw=False):
        shown.append(something)
        if display_id:
            outputs.append(Output())
            return outputs[-1]
        return None

    monkeypatch.setitem(notebook, "is_watched", lambda: True)
    monkeypatch.setitem(notebook, "display", display)
    explorer = notebook["CodeSpaceExplorer"](model, codes, labels, "a test map", start=(0.5, -0.5))
    explorer.show()
    picture, controls = shown  # the picture, in an output that can be redrawn in place, and the sliders under it
    assert isinstance(picture, notebook["IPythonImage"]) and len(outputs) == 1
    # The sliders' output: the widget for a live front end, a line instead of the widget's repr for any other.
    assert controls["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert controls["text/plain"].startswith("Two sliders here move the cross")
    sliders = explorer.sliders
    assert [slider.value for slider in sliders] == [0.5, -0.5]
    for slider, axis in zip(sliders, range(2)):  # the codes and a quarter of their range beyond, on either side
        low, high = codes[:, axis].min().item(), codes[:, axis].max().item()
        assert slider.min == pytest.approx(low - (high - low) / 4)
        assert slider.max == pytest.approx(high + (high - low) / 4)
    sliders[0].value = 2.0
    sliders[1].value = sliders[1].max
    (output,) = outputs
    assert len(output.updates) == 2  # each move redrew the one picture
    np.testing.assert_allclose(shown_pixels(explorer, output.updates[-1]),
                               decoder_output(notebook, model, 2.0, sliders[1].max), atol=GREY_LEVEL)


def test_a_script_gets_the_picture_at_the_start_and_a_line_saying_that_it_moves_when_run(parts, monkeypatch, capsys):
    notebook, model, codes, labels = parts
    shown = []
    monkeypatch.setitem(notebook, "display", lambda something, display_id=None: shown.append(something))
    notebook["CodeSpaceExplorer"](model, codes, labels, "a test map", start=(1.0, 1.0)).show()
    assert len(shown) == 1 and isinstance(shown[0], notebook["IPythonImage"])  # no sliders: nobody to move them
    assert capsys.readouterr().out == "Run the notebook in Jupyter or Colab to move the cross with two sliders.\n"


def test_the_committed_notebook_shows_both_explorers_as_still_pictures():
    calls = [cell for cell in read_notebook().cells if cell.cell_type == "code"
             and "CodeSpaceExplorer(" in cell.source and ".show()" in cell.source]
    assert len(calls) == 2  # sections 9 and 15
    for cell in calls:
        assert [list(output.get("data", {"stream": None})) for output in cell.outputs] == [
            ["image/png", "text/plain"], ["stream"]]
        assert "Run the notebook in Jupyter or Colab to move the cross" in cell_text(cell)
