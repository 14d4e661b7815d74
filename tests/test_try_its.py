"""Every "Try it" that changes a constant, followed as written: the notebook runs with the change (in quick mode, all
of them in one run) and its figures say what the changed setting is, with no label left over from the default."""

import re

import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

from notebook_access import execute_in_process, quick_retrain_settings, read_notebook

# The changes the prompts ask for (a class whose name has a slash and one that ends in s; a fourth code size).
EDITS = {
    "CODE_SIZES = [2, 8, 32]": "CODE_SIZES = [2, 8, 32, 128]",
    "NOISE_STD = 0.3\n": "NOISE_STD = 0.5\n",
    'HELD_OUT_CLASS = CLASS_NAMES.index("Bag")': 'HELD_OUT_CLASS = CLASS_NAMES.index("Dress")',
    "EPOCHS = 2 if QUICK else 30": "EPOCHS = 3 if QUICK else 30",
}


def test_every_constant_a_try_it_names_is_one_of_these():
    prompts = re.findall(r"> \*\*Try it\.\*\* (.*?)(?:\n\n|\Z)", "\n".join(
        cell.source for cell in read_notebook().cells if cell.cell_type == "markdown"), re.DOTALL)
    named = {name for prompt in prompts for name in re.findall(r"`([A-Z][A-Z0-9_]*)(?: = [^`]+)?`", prompt)}
    assert named == {"EPOCHS", "CODE_SIZES", "NOISE_STD", "HELD_OUT_CLASS"}


def label_sizes(figure) -> dict[str, float]:
    """The font size in points of every legend entry, legend title, axis label and title of a figure, by its text."""
    texts = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend())]
    sizes = {text.get_text(): text.get_fontsize() for legend in texts for text in [*legend.get_texts(), legend.get_title()]}
    for ax in figure.axes:
        for text in (ax.xaxis.label, ax.yaxis.label, ax.title):
            sizes[text.get_text()] = text.get_fontsize()
    if figure.get_suptitle():
        sizes[figure.get_suptitle()] = figure._suptitle.get_fontsize()  # matplotlib has no public getter for it
    return {text: size for text, size in sizes.items() if text}


def points_under_legends(figure) -> int:
    """How many data points (of lines and scatters) lie under a legend drawn inside its axes."""
    count = 0
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent()
        for line in ax.get_lines():
            if len(line.get_xydata()) and line.get_visible() and line.get_label() and not line.get_label().startswith("_"):
                points = ax.transData.transform(line.get_xydata())
                count += int(sum(box.contains(x, y) for x, y in points))
        for collection in ax.collections:
            if len(collection.get_offsets()):
                points = ax.transData.transform(collection.get_offsets())
                count += int(sum(box.contains(x, y) for x, y in points))
    return count


@pytest.fixture(scope="module")
def figures(tmp_path_factory, local_copy):
    """The text and line colours of every figure that the edited notebook shows, in order."""
    shown = []

    def record(*args, **kwargs):
        for number in plt.get_fignums():
            figure = plt.figure(number)
            figure.canvas.draw()
            texts = [text.get_text() for text in figure.findobj(Text) if text.get_text()]
            colours = [line.get_color() for ax in figure.axes for line in ax.get_lines()]
            shown.append({"texts": texts, "colours": colours, "width_pixels": figure.get_size_inches()[0] * figure.dpi,
                          "label_points": label_sizes(figure), "under_legends": points_under_legends(figure)})
        plt.close("all")

    folder = tmp_path_factory.mktemp("try-its")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in quick_retrain_settings(local_copy, folder, folder / "checkpoints").items():
            patch.setenv(name, value)
        patch.setattr(plt, "show", record)
        namespace = execute_in_process(EDITS)
    return shown, namespace


def with_text(figures, pattern: str) -> list[dict]:
    return [figure for figure in figures if any(re.search(pattern, text) for text in figure["texts"])]


def test_the_code_size_try_it_draws_the_fourth_size_with_a_marker_of_its_own(figures):
    shown, namespace = figures
    assert namespace["CODE_SIZES"] == [2, 8, 32, 128]
    (curves,) = with_text(shown, r"^Validation error while training")
    (bits,) = with_text(shown, r"^What each bit buys")
    for figure in (curves, bits):
        for code in (2, 8, 32, 128):
            assert any(text.endswith(f"code of {code}") for text in figure["texts"]), code
    markers = {namespace["code_size_marker"](code) for code in (2, 8, 32, 128)}
    assert len(markers) == 4


def test_the_held_out_class_try_it_names_that_class_everywhere(figures):
    shown, namespace = figures
    assert namespace["anomaly"]["held_out_class"] == "Dress"
    (anomaly,) = with_text(shown, r"^ROC curve")
    texts = " | ".join(anomaly["texts"])
    assert "ROC curve: Dress against the rest" in texts and "recall (share of Dress images flagged)" in texts
    assert "trained without Dress" in texts and "Dress (held out" in texts
    assert not re.search(r"[Bb]ags?\b|Dresss", texts), texts


def test_the_noise_and_epochs_try_its_take_effect(figures):
    _, namespace = figures
    assert namespace["denoising"]["noise_std"] == 0.5
    assert namespace["EPOCHS"] == 3 and len(namespace["histories"]["CNN"]["held_out_loss"]) == 3


JUPYTERLAB_WIDTH = 930  # pixels an output image gets at most in JupyterLab at 1366 x 768 (tests/test_browser.py)


def test_every_label_reads_at_least_9_pixels_tall_in_jupyterlab_and_no_legend_covers_data(figures):
    shown, _ = figures
    assert len(shown) >= 20
    for figure in shown:
        scale = min(1, JUPYTERLAB_WIDTH / figure["width_pixels"]) * 100 / 72  # inline figures are drawn at 100 dpi
        small = {text: size for text, size in figure["label_points"].items() if size * scale < 9}
        assert small == {}, figure["texts"][:3]
        assert figure["under_legends"] == 0, figure["texts"][:3]


def test_the_compression_figure_names_methods_as_the_rest_of_the_notebook(figures):
    shown, _ = figures
    (bits,) = with_text(shown, r"^What each bit buys")
    texts = " | ".join(bits["texts"])
    assert "WebP (quality" in texts and "WEBP" not in texts  # Pillow's name for the format is not the format's
    # One legend entry per method and one per code size (a colour is a method, a marker a code size).
    assert "Convolutional (UvA's design)" in texts and "Feedforward, deeper" in texts and "code of 32" in texts
    assert "convolutional AE" not in texts and "feedforward AE" not in texts
    assert texts.count("code of 32") == 1
