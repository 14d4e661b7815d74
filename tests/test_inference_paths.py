"""When no gradient is needed (every evaluation, every code), two layers of the convolutional models compute faster:
`MaxPool2x2` takes the maxima without recording where they were, and `ConvTranspose2x2` runs as a 1x1 convolution
followed by a pixel shuffle. They are the PyTorch modules they subclass, and they give the same numbers bit for bit,
so no result of the notebook depends on which path computed it."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from notebook import load_definitions

# The models built from these layers: the original CNN (also the denoiser's architecture), built from PyTorch's own
# layers and given the shortcuts by `with_inference_shortcuts` (which `on_device` applies). The code-size study's
# convolutional model has strided convolutions instead, and no shortcut.
MODELS = {"CNN": lambda notebook: notebook["with_inference_shortcuts"](notebook["make_cnn_autoencoder"]())}


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
    standard = [type(layer).__name__ for layer in [*cnn.encoder, *cnn.decoder]]
    assert standard == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",  # the original's layers, in its order
                        "ConvTranspose2d", "ReLU", "ConvTranspose2d", "Sigmoid"]
    parameters = [p.data_ptr() for p in cnn.parameters()]
    random_state = torch.get_rng_state()
    fast = notebook["with_inference_shortcuts"](cnn)
    assert [type(layer).__name__ for layer in [*fast.encoder, *fast.decoder]] == [
        "Conv2d", "ReLU", "MaxPool2x2", "Conv2d", "ReLU", "MaxPool2x2",
        "ConvTranspose2x2", "ReLU", "ConvTranspose2x2", "Sigmoid"]
    # The same modules and parameters, and no random number drawn: the numbers of every later cell are unchanged.
    assert [p.data_ptr() for p in fast.parameters()] == parameters
    assert torch.equal(torch.get_rng_state(), random_state)


def test_only_layers_with_the_shortcuts_settings_get_them(notebook):
    others = nn.Sequential(nn.MaxPool2d(3), nn.MaxPool2d(2, stride=1), nn.MaxPool2d(2, ceil_mode=True),
                           nn.ConvTranspose2d(4, 4, 3, stride=2), nn.ConvTranspose2d(4, 4, 2, stride=2, bias=False),
                           nn.ConvTranspose2d(4, 4, 2, stride=2, groups=2), notebook["make_conv_autoencoder"](8, 8))
    before = [type(module) for module in others.modules()]
    assert [type(module) for module in notebook["with_inference_shortcuts"](others).modules()] == before


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
