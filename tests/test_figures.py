"""The figures say what they draw: each is read back from the matplotlib objects the watched quick run showed
(tests/conftest.py's `shown_figures`) and checked against what its text and its data say."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle


def figure_titled(shown_figures, start: str):
    found = [figure for title, figure in shown_figures if title.startswith(start)]
    assert found, f"no figure titled {start!r}: {[title for title, _ in shown_figures]}"
    return found[0]


def transposed_convolution_by_hand(pixels: np.ndarray, kernel: int, stride: int, padding: int,
                                   output_padding: int) -> np.ndarray:
    """Each input pixel adds itself times a kernel of ones to a patch of the output; then the borders are trimmed."""
    size = (len(pixels) - 1) * stride + kernel
    full = np.zeros((size + output_padding, size + output_padding))
    for (row, column), value in np.ndenumerate(pixels):
        full[row * stride:row * stride + kernel, column * stride:column * stride + kernel] += value
    end = len(full) - padding
    return full[padding:end, padding:end]


def test_the_transposed_convolution_figure_shows_what_the_layers_compute(shown_figures):
    figure = figure_titled(shown_figures, "Transposed convolutions")
    pixels = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = [pixels, transposed_convolution_by_hand(pixels, 2, 2, 0, 0),
                transposed_convolution_by_hand(pixels, 3, 2, 1, 0), transposed_convolution_by_hand(pixels, 3, 2, 1, 1)]
    assert [grid.shape for grid in expected[1:]] == [(4, 4), (3, 3), (4, 4)]  # 2 -> 4; 13 from 7 is 3 from 2; + 1
    assert len(figure.axes) == len(expected)
    for ax, grid in zip(figure.axes, expected):
        drawn = {(round(text.get_position()[1]), round(text.get_position()[0])): float(text.get_text())
                 for text in ax.texts}
        assert drawn == {index: value for index, value in np.ndenumerate(grid)}, ax.get_title()
    # And PyTorch's layers agree with the hand computation.
    torch_output = F.conv_transpose2d(torch.tensor(pixels)[None, None], torch.ones(1, 1, 3, 3, dtype=torch.float64),
                                      stride=2, padding=1, output_padding=1)[0, 0].numpy()
    np.testing.assert_array_equal(torch_output, expected[3])


def test_section_8s_figures_give_each_method_one_colour_and_whole_epochs(shown_figures, watched_retrain):
    _, namespace, _ = watched_retrain
    colours = namespace["METHOD_COLORS"]
    by_size = figure_titled(shown_figures, "Reconstruction error against code size")
    while_training = figure_titled(shown_figures, "Validation error while training")
    for figure in (by_size, while_training):
        lines = [line for ax in figure.axes for line in ax.get_lines() if len(line.get_xdata()) > 1]
        assert {line.get_color() for line in lines} <= set(colours.values()) | {"grey", "k"}
    epochs_axis = while_training.axes[0]
    ticks = [tick for tick in epochs_axis.get_xticks() if epochs_axis.get_xlim()[0] <= tick <= epochs_axis.get_xlim()[1]]
    assert all(float(tick).is_integer() for tick in ticks), ticks
    # One legend entry per method and per code size, not one per line.
    (legend,) = while_training.legends
    labels = [text.get_text() for text in legend.get_texts()]
    assert len(labels) == len(set(labels)) == 3 + len(namespace["CODE_SIZES"])


def test_section_11s_legend_names_each_method_code_size_and_codec_once(shown_figures, watched_retrain):
    _, namespace, _ = watched_retrain
    figure = figure_titled(shown_figures, "What each bit buys")
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert len(labels) <= 3 + len(namespace["CODE_SIZES"]) + 2
    assert len(labels) == len(set(labels))


def test_section_9s_grid_draws_each_image_centred_on_the_code_it_was_decoded_from(shown_figures, watched_retrain):
    _, namespace, _ = watched_retrain
    figure = figure_titled(shown_figures, "Images decoded from a grid over the code space")
    (image,) = [artist for artist in figure.axes[0].get_children() if isinstance(artist, AxesImage)]
    left, right, bottom, top = image.get_extent()
    steps = image.get_array().shape[1] // 28
    codes = namespace["codes_2d"]
    low, high = torch.quantile(codes, 0.01, dim=0).tolist(), torch.quantile(codes, 0.99, dim=0).tolist()
    # Tile i spans [left + i w, left + (i + 1) w]: its centre is the i-th decoded code.
    width, height = (right - left) / steps, (top - bottom) / steps
    centres_x = [left + (i + 0.5) * width for i in range(steps)]
    centres_y = [top - (j + 0.5) * height for j in range(steps)]
    np.testing.assert_allclose(centres_x, np.linspace(low[0], high[0], steps), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(centres_y, np.linspace(high[1], low[1], steps), rtol=1e-6, atol=1e-6)
    # The top-left tile is the decoder's image of the top-left code.
    decoded = namespace["decode"](namespace["feedforward"], torch.tensor([[low[0], high[1]]]).to(namespace["DEVICE"]))
    np.testing.assert_allclose(image.get_array()[:28, :28], decoded[0, 0].cpu().numpy(), atol=1e-6)


def test_section_14s_histograms_give_each_group_the_same_area(shown_figures):
    figure = figure_titled(shown_figures, "Anomaly scores of the test images")
    ax = figure.axes[0]
    bars = [patch for patch in ax.patches if isinstance(patch, Rectangle) and patch.get_width() > 0]
    # Two histograms over the same logarithmic bins, each a share of its own group's images: each sums to 1.
    groups = [list(group) for _, group in itertools.groupby(bars, key=lambda patch: patch.get_facecolor())]
    assert len(groups) == 2
    for group in groups:
        assert sum(patch.get_height() for patch in group) == pytest.approx(1.0, abs=1e-9)
    assert ax.get_ylabel() == "share of the group's images"


def test_the_retrieval_figure_is_short_and_its_prose_quotes_what_it_measures(shown_figures):
    figure = figure_titled(shown_figures, "Nearest training images")
    assert figure.get_size_inches()[1] * figure.dpi <= 800  # it was about 1,100 pixels tall, with more queries


def test_every_model_prints_as_pytorchs_own_layers(watched_retrain):
    _, namespace, _ = watched_retrain
    own = {"Autoencoder", "VariationalAutoencoder", "GaussianNoise"}  # the notebook's containers and noise layer
    models = [namespace[name] for name in ("feedforward", "cnn", "denoiser", "anomaly_detector", "plain_2d", "vae")]
    models += list(namespace["study_models"].values()) + list(namespace["wide_models"].values())
    for model in models:
        for module in model.modules():
            assert type(module).__module__.startswith("torch.nn") or type(module).__name__ in own, type(module)
    printed = repr(namespace["cnn"])
    assert "MaxPool2d(kernel_size=2" in printed and "ConvTranspose2d(32, 16, kernel_size=(2, 2), stride=(2, 2))" in printed
