"""The code-space explorer of sections 9 and 15: the image it shows for a point is the decoder's output for that
point. A script gets the picture at the starting point and a line saying that it moves when run. A person gets a page
that moves the cross itself, over a grid of points through the start and a margin beyond the codes, with the images
decoded there in advance: it holds the picture at the start (what shows where no script runs), those images, and
what its drawing needs, and no widget, so it needs no kernel once drawn. (The browser test moves it in JupyterLab
and Notebook 7, before and after saving, and in the HTML export.)"""

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from notebook_access import cell_text, read_notebook


@pytest.fixture(scope="module")
def parts():
    from notebook_access import load_definitions

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


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def shown_pixels(explorer, png: bytes) -> np.ndarray:
    """The 28 x 28 grey levels that the PNG shows where the explorer draws the decoded image: each image pixel is a
    square of screen pixels, read at its centre."""
    rgba = pixels(png)
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
        shown = shown_pixels(explorer, picture.data)
        assert np.abs(shown - expected).max() <= GREY_LEVEL
        assert np.abs(shown - decoder_output(notebook, model, x + 1, y)).max() > 5 * GREY_LEVEL  # not any image
        assert [list(values) for values in explorer.cross.get_data()] == [[x], [y]]
        assert explorer.caption.get_text() == f"decoded from ({x:.2f}, {y:.2f})"


def from_data_url(url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return base64.b64decode(url[len(prefix):])


def page_parts(html: str) -> tuple[bytes, dict]:
    """The picture a page shows before its script runs, and the data its script draws from."""
    (picture,) = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', html)
    spec = json.loads(re.search(r"spec = (\{.*?\});\n", html)[1])
    return from_data_url(picture), spec


@pytest.fixture(scope="module")
def person_page(parts):
    """The explorer a person's run shows, and what it displayed."""
    notebook, model, codes, labels = parts
    shown = []
    original = {name: notebook[name] for name in ("is_watched", "display")}
    notebook.update(is_watched=lambda: True, display=lambda *something: shown.append(something))
    try:
        explorer = notebook["CodeSpaceExplorer"](model, codes, labels, "a test map", start=(0.5, -0.5))
        explorer.show()
    finally:
        notebook.update(original)
    return explorer, shown


def test_a_person_gets_a_page_and_no_widget(parts, person_page):
    notebook, *_ = parts
    explorer, shown = person_page
    ((html,),) = shown  # one output, an HTML page
    assert isinstance(html, notebook["HTML"])
    code = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")
    assert "widgets" not in code  # nothing that a reopened notebook would need its kernel to draw
    picture, spec = page_parts(html.data)
    assert "Run the notebook in Jupyter or Colab to move the cross with two sliders." in html.data
    # Where no script runs, the page shows the picture at the start, as a script's run would.
    np.testing.assert_array_equal(pixels(picture), pixels(explorer.picture(0.5, -0.5).data))
    assert spec["xs"][spec["start"][0]] == 0.5 and spec["ys"][spec["start"][1]] == -0.5


def test_the_sliders_step_through_the_start_over_the_codes_and_a_margin(parts, person_page):
    _, _, codes, _ = parts
    explorer, shown = person_page
    _, spec = page_parts(shown[0][0].data)
    steps = explorer.GRID_STEPS
    for axis, values in enumerate([spec["xs"], spec["ys"]]):
        low, high = codes[:, axis].min().item(), codes[:, axis].max().item()
        margin_low, margin_high = low - (high - low) / 4, high + (high - low) / 4  # a quarter of the range
        step = (margin_high - margin_low) / steps
        assert np.allclose(np.diff(values), step)
        assert margin_low <= values[0] < margin_low + step and margin_high - step < values[-1] <= margin_high
        assert spec["limits"][0][axis] == pytest.approx(margin_low) and spec["limits"][1][axis] == pytest.approx(
            margin_high)


def test_each_image_the_page_can_show_is_the_decoders_output_at_its_point(parts, person_page):
    notebook, model, _, _ = parts
    _, shown = person_page
    _, spec = page_parts(shown[0][0].data)
    mosaic = pixels(from_data_url(spec["sprite"]))[:, :, 0].astype(float) / 255
    assert mosaic.shape == (28 * len(spec["ys"]), 28 * len(spec["xs"]))
    for j, y in enumerate(spec["ys"]):
        for i, x in enumerate(spec["xs"]):
            tile = mosaic[28 * j:28 * (j + 1), 28 * i:28 * (i + 1)]
            assert np.abs(tile - decoder_output(notebook, model, x, y)).max() <= GREY_LEVEL, (x, y)


def test_the_page_redraws_the_picture_where_the_notebook_draws_it(parts, person_page):
    explorer, shown = person_page
    picture, spec = page_parts(shown[0][0].data)
    # The start picture with the background patched over its cross, image and title is the background.
    canvas = pixels(picture).copy()
    for left, top, url in spec["patches"]:
        patch = pixels(from_data_url(url))
        canvas[top:top + patch.shape[0], left:left + patch.shape[1]] = patch
    explorer.canvas.restore_region(explorer.background)
    np.testing.assert_array_equal(canvas, np.asarray(explorer.canvas.buffer_rgba()))
    # The cross's point in canvas pixels is where matplotlib puts that point of the map.
    height = canvas.shape[0]
    (x0, y0), (x1, y1) = spec["limits"]
    left, top, width, box_height = spec["map"]
    for x, y in [(spec["xs"][0], spec["ys"][-1]), (0.5, -0.5), (spec["xs"][-1], spec["ys"][0])]:
        on_canvas = (left + (x - x0) / (x1 - x0) * width, top + (y1 - y) / (y1 - y0) * box_height)
        shown_at = explorer.map_ax.transData.transform((x, y))
        assert on_canvas == pytest.approx((shown_at[0], height - shown_at[1]), abs=1e-6)
    # The image goes where the notebook draws it.
    extent = explorer.decoded.get_window_extent()
    assert spec["image"] == pytest.approx([extent.x0, height - extent.y1, extent.width, extent.height])


def test_a_script_gets_the_picture_at_the_start_and_a_line_saying_that_it_moves_when_run(parts, monkeypatch, capsys):
    notebook, model, codes, labels = parts
    shown = []
    monkeypatch.setitem(notebook, "is_watched", lambda: False)
    monkeypatch.setitem(notebook, "display", lambda something: shown.append(something))
    notebook["CodeSpaceExplorer"](model, codes, labels, "a test map", start=(1.0, 1.0)).show()
    assert len(shown) == 1 and isinstance(shown[0], notebook["IPythonImage"])  # no page: nobody to move it
    assert capsys.readouterr().out == "Run the notebook in Jupyter or Colab to move the cross with two sliders.\n"


def test_the_committed_notebook_shows_both_explorers_as_still_pictures():
    calls = [cell for cell in read_notebook().cells if cell.cell_type == "code"
             and "CodeSpaceExplorer(" in cell.source and ".show()" in cell.source]
    assert len(calls) == 2  # sections 9 and 15
    for cell in calls:
        assert [list(output.get("data", {"stream": None})) for output in cell.outputs] == [
            ["image/png", "text/plain"], ["stream"]]
        assert "Run the notebook in Jupyter or Colab to move the cross" in cell_text(cell)
