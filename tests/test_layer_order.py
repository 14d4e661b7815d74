"""The CNN rectifies before it pools, as the original does. The five-seed study (results/seeds.json) ran an earlier
version that pooled first: the two orders compute the same function and the same gradients, bit for bit, so the
study's numbers hold for this order too."""

import torch
from torch import nn

from notebook import load_definitions


def pooling_first(encoder: nn.Sequential) -> nn.Sequential:
    layers = list(encoder)
    for i in range(len(layers) - 1):
        if isinstance(layers[i], nn.ReLU) and isinstance(layers[i + 1], nn.MaxPool2d):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
    return nn.Sequential(*layers)


def test_rectifying_first_as_the_original_gives_the_same_outputs_and_gradients_as_pooling_first():
    notebook = load_definitions()
    torch.manual_seed(0)
    ours = notebook["on_device"](notebook["make_cnn_autoencoder"]())
    assert all(isinstance(layer, kind) for layer, kind in zip(ours.encoder, [nn.Conv2d, nn.ReLU, nn.MaxPool2d]))
    theirs = type(ours)(pooling_first(ours.encoder), ours.decoder)  # the same parameters, the study's order
    assert all(isinstance(layer, kind) for layer, kind in zip(theirs.encoder, [nn.Conv2d, nn.MaxPool2d, nn.ReLU]))
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    images[:8, :, :14] = 0  # blank regions, where the pooled values tie
    images = images.to(notebook["DEVICE"]).contiguous(memory_format=torch.channels_last)
    gradients = []
    for model in (ours, theirs):
        model.zero_grad()
        output = model(images)
        ((output - images) ** 2).mean().backward()
        gradients.append((output.detach().clone(), [p.grad.clone() for p in model.parameters()]))
    (out_a, grads_a), (out_b, grads_b) = gradients
    assert torch.equal(out_a, out_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b))
