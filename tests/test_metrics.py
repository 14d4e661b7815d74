"""The notebook's error measures are what they say they are, checked against an independent computation."""

import numpy as np
import pytest
import torch


def test_the_original_metric_lets_signed_errors_cancel_and_the_absolute_errors_do_not(notebook):
    image = torch.full((1, 1, 28, 28), 0.5)
    reconstruction = image.clone()
    reconstruction.view(-1)[0::2] += 0.1  # half the pixels too bright ...
    reconstruction.view(-1)[1::2] -= 0.1  # ... half too dark, by the same amount
    errors = notebook["reconstruction_errors"](image, reconstruction)
    assert errors["original_metric"].item() == pytest.approx(0, abs=1e-4)
    assert errors["sae"].item() == pytest.approx(784 * 0.1, rel=1e-5)  # a sum over the pixels
    assert errors["mae"].item() == pytest.approx(0.1, rel=1e-5)  # a mean over the pixels
    assert errors["mse"].item() == pytest.approx(0.01, rel=1e-5)


@pytest.fixture(scope="module")
def test_set_reconstructions(data_root):
    """Test images and their reconstructions by a seeded, briefly trained CNN, all made by the notebook's code."""
    from notebook_access import load_definitions

    notebook = load_definitions()
    cpu = torch.device("cpu")
    images, _ = notebook["load_split"](data_root, train=False, device=cpu)
    train_images, _ = notebook["load_split"](data_root, train=True, device=cpu)
    torch.manual_seed(0)
    model = notebook["make_cnn_autoencoder"]()
    notebook["train_autoencoder"](model, train_images[:1024], recipe=notebook["Recipe"](epochs=1))
    return notebook, images, notebook["reconstruct"](model, images), model


def test_per_image_errors_agree_with_an_independent_computation(test_set_reconstructions):
    notebook, images, reconstructions, _ = test_set_reconstructions
    errors = notebook["reconstruction_errors"](images, reconstructions)
    x = images.numpy().reshape(len(images), -1).astype(np.float64)
    x_hat = reconstructions.numpy().reshape(len(images), -1).astype(np.float64)
    original = np.array([abs(np.sum(a - b)) for a, b in zip(x, x_hat)])  # the original notebook's loop, per image
    sae = np.array([np.sum(np.abs(a - b)) for a, b in zip(x, x_hat)])
    mae = np.array([np.mean(np.abs(a - b)) for a, b in zip(x, x_hat)])
    mse = np.array([np.mean((a - b) ** 2) for a, b in zip(x, x_hat)])
    np.testing.assert_allclose(errors["original_metric"].numpy(), original, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(errors["sae"].numpy(), sae, rtol=1e-5)
    np.testing.assert_allclose(errors["mae"].numpy(), mae, rtol=1e-5)
    np.testing.assert_allclose(errors["mse"].numpy(), mse, rtol=1e-5)
    assert np.all(original <= sae + 1e-3)  # |sum| <= sum of |.|: the original metric can only understate


def test_the_summary_is_means_of_the_per_image_errors_and_the_originals_total(test_set_reconstructions):
    notebook, images, reconstructions, _ = test_set_reconstructions
    errors = notebook["reconstruction_errors"](images, reconstructions)
    summary = notebook["summarize_errors"](errors)
    difference = (images - reconstructions).double()
    assert summary["sae_mean"] == pytest.approx(difference.abs().sum().item() / 10_000, rel=1e-6)
    assert summary["mae"] == pytest.approx(difference.abs().mean().item(), rel=1e-6)
    assert summary["sae_mean"] == pytest.approx(784 * summary["mae"], rel=1e-9)
    assert summary["original_metric_mean"] == pytest.approx(summary["original_metric_total"] / 10_000, rel=1e-12)
    assert summary["mse"] == pytest.approx(difference.pow(2).mean().item(), rel=1e-6)


def test_batched_reconstruction_equals_one_image_at_a_time(test_set_reconstructions):
    notebook, images, reconstructions, model = test_set_reconstructions
    # The original evaluated one image per forward pass; evaluating in batches must not change the answer.
    for i in [0, 1, 4_999, 9_999]:
        one = notebook["reconstruct"](model, images[i:i + 1])
        torch.testing.assert_close(one[0], reconstructions[i], rtol=1e-5, atol=1e-6)
