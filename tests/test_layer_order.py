"""The CNN pools before it rectifies, where the original rectified first: the two orders compute the same function
and the same gradients, bit for bit, so the original's numbers are unchanged."""

import torch
from torch import nn

from notebook import load_definitions


def original_order(encoder: nn.Sequential) -> nn.Sequential:
    layers = list(encoder)
    for i in range(len(layers) - 1):
        if isinstance(layers[i], nn.MaxPool2d) and isinstance(layers[i + 1], nn.ReLU):
            layers[i], layers[i + 1] = nn.ReLU(), layers[i]
    return nn.Sequential(*layers)


def test_pooling_first_gives_the_same_outputs_and_gradients_bit_for_bit():
    notebook = load_definitions()
    torch.manual_seed(0)
    ours = notebook["on_device"](notebook["make_cnn_autoencoder"]())
    assert all(isinstance(layer, kind) for layer, kind in zip(ours.encoder, [nn.Conv2d, nn.MaxPool2d, nn.ReLU]))
    theirs = type(ours)(original_order(ours.encoder), ours.decoder)  # the same parameters, the original order
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
