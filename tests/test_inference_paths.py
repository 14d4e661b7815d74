"""When no gradient is needed (every evaluation, every code), two layers of the convolutional models compute faster:
`MaxPool2x2` takes the maxima without recording where they were, and `ConvTranspose2x2` runs as a 1x1 convolution
followed by a pixel shuffle. They are the PyTorch modules they subclass, and they give the same numbers bit for bit,
so no result of the notebook depends on which path computed it."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from notebook import load_definitions

# The models built from these layers: the original CNN (also the denoiser's architecture). The code-size study's
# convolutional model has strided convolutions instead, and no shortcut.
MODELS = {"CNN": lambda notebook: notebook["make_cnn_autoencoder"]()}


@pytest.fixture(scope="module")
def notebook() -> dict:
    return load_definitions()


def images_with_ties(device: torch.device) -> torch.Tensor:
    images = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    images[:100, :, :14] = 0  # blank regions, where neighbouring maxima tie
    return images.to(device)


def test_the_fast_layers_are_the_modules_of_the_original(notebook):
    pool, transposed = notebook["MaxPool2x2"](), notebook["ConvTranspose2x2"](32, 16)
    assert isinstance(pool, nn.MaxPool2d)
    assert (pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode) == (2, 2, 0, 1, False)
    assert isinstance(transposed, nn.ConvTranspose2d)
    assert (transposed.in_channels, transposed.out_channels) == (32, 16)
    assert (transposed.kernel_size, transposed.stride, transposed.padding) == ((2, 2), (2, 2), (0, 0))
    cnn = notebook["make_cnn_autoencoder"]()
    assert [type(layer).__name__ for layer in [*cnn.encoder, *cnn.decoder]] == [
        "Conv2d", "MaxPool2x2", "ReLU", "Conv2d", "MaxPool2x2", "ReLU",
        "ConvTranspose2x2", "ReLU", "ConvTranspose2x2", "Sigmoid"]


@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("memory_format", [torch.channels_last, torch.contiguous_format],
                         ids=["channels-last (CPU, CUDA)", "contiguous (MPS)"])
def test_inference_gives_the_training_paths_numbers_bit_for_bit(notebook, model_name, memory_format):
    torch.manual_seed(0)
    model = MODELS[model_name](notebook).to(notebook["DEVICE"], memory_format=memory_format)
    images = images_with_ties(notebook["DEVICE"])
    with torch.inference_mode():
        fast_reconstructions, fast_codes = model(images), model.encoder(images)
    with torch.enable_grad():  # the modules' own computation, as in training
        reconstructions, codes = model(images), model.encoder(images)
    assert reconstructions.requires_grad
    assert torch.equal(fast_codes, codes)
    assert torch.equal(fast_reconstructions, reconstructions)


def test_inference_takes_the_fast_path(notebook, monkeypatch):
    # Without this, the test above would also pass if the fast path were never taken.
    def not_expected(*args, **kwargs):
        raise AssertionError("the module's own computation ran, although no gradient was needed")

    torch.manual_seed(0)
    model = notebook["on_device"](notebook["make_cnn_autoencoder"]())
    monkeypatch.setattr(F, "max_pool2d", not_expected)
    monkeypatch.setattr(F, "conv_transpose2d", not_expected)
    reconstructions = notebook["reconstruct"](model, images_with_ties(notebook["DEVICE"]))
    assert reconstructions.shape == (300, 1, 28, 28)
    with pytest.raises(AssertionError, match="the module's own computation ran"):
        model(images_with_ties(notebook["DEVICE"]))
