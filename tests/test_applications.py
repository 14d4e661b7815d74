"""Denoising, anomaly detection and the variational autoencoder: their numbers are computed as promised.

The functions are the notebook's own (its definition cells); the quick run is the whole notebook in quick mode.
"""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from notebook_access import denoising_table_mismatches


def random_images(count, seed=0):
    return torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_noise_is_seeded_clipped_and_as_strong_as_asked(notebook):
    grey = torch.full((2000, 1, 28, 28), 0.5)
    noisy = notebook["add_noise"](grey, seeded(1), 0.05)
    assert torch.equal(noisy, notebook["add_noise"](grey, seeded(1), 0.05))
    assert not torch.equal(noisy, notebook["add_noise"](grey, seeded(2), 0.05))
    assert (noisy - grey).std().item() == pytest.approx(0.05, rel=0.01)  # 10 standard deviations from clipping
    assert abs((noisy - grey).mean().item()) < 1e-3
    strong = notebook["add_noise"](grey, seeded(1), 3.0)
    assert strong.min() == 0 and strong.max() == 1  # clipped to the range of the images
    assert notebook["NOISE_STD"] == 0.3


@pytest.mark.parametrize("std", [-0.1, float("nan")])
def test_a_bad_noise_level_is_refused(notebook, std):
    with pytest.raises(ValueError, match="noise standard deviation"):
        notebook["add_noise"](random_images(2), seeded(0), std)


def test_the_noise_layer_draws_fresh_noise_every_batch_in_training_only(notebook):
    images = random_images(64)
    layer = notebook["GaussianNoise"](0.3, seed=5)
    first, second = layer(images), layer(images)  # a new module is in training mode
    assert not torch.equal(first, second)  # a fresh draw every batch ...
    again = notebook["GaussianNoise"](0.3, seed=5)
    assert torch.equal(again(images), first) and torch.equal(again(images), second)  # ... from its own seed
    assert torch.equal(first, notebook["add_noise"](images, seeded(5), 0.3))
    layer.eval()
    assert layer(images) is images  # in evaluation it passes its input through


def test_the_denoiser_is_the_original_cnn_behind_a_noise_layer(notebook):
    torch.manual_seed(0)
    denoiser = notebook["make_denoiser"]()
    torch.manual_seed(0)
    cnn = notebook["make_cnn_autoencoder"]()
    noise, *encoder = denoiser.encoder
    assert isinstance(noise, notebook["GaussianNoise"]) and noise.std == notebook["NOISE_STD"]
    assert repr(torch.nn.Sequential(*encoder)) == repr(cnn.encoder) and repr(denoiser.decoder) == repr(cnn.decoder)
    # The same initial weights as the original CNN under the same seed: the noise layer draws nothing at building.
    assert all(torch.equal(a, b) for a, b in zip(denoiser.parameters(), cnn.parameters()))


def test_psnr_matches_an_independent_computation(notebook):
    clean, noisy = random_images(50, seed=1), random_images(50, seed=2)
    mse = ((clean.numpy().astype(np.float64) - noisy.numpy()) ** 2).reshape(50, -1).mean(axis=1)
    expected = np.mean(10 * np.log10(1.0 / mse))
    measured = notebook["psnr"](notebook["reconstruction_errors"](clean, noisy)["mse"])
    assert measured == pytest.approx(expected, rel=1e-6)  # the errors are computed in float32
    # Averaged in decibels, the PSNR is that of the geometric mean of the images' MSE (section 11 says so): 3 dB more
    # halves that mean, not the arithmetic one.
    geometric_mean = np.exp(np.log(mse).mean())
    assert measured == pytest.approx(10 * np.log10(1 / geometric_mean), rel=1e-6)
    assert measured > 10 * np.log10(1 / mse.mean())
    # Halving the squared error gains 10 * log10(2) = 3.01 dB.
    assert notebook["psnr"](torch.full((3,), 0.01)) == pytest.approx(20.0)
    assert notebook["psnr"](torch.full((3,), 0.005)) == pytest.approx(20.0 + 10 * math.log10(2))


def test_precision_and_recall_agree_with_scikit_learn(notebook):
    generator = torch.Generator().manual_seed(0)
    actual = torch.rand(500, generator=generator) < 0.1
    flagged = torch.rand(500, generator=generator) < 0.2
    precision, recall = notebook["precision_recall"](flagged, actual)
    assert precision == pytest.approx(precision_score(actual.numpy(), flagged.numpy()))
    assert recall == pytest.approx(recall_score(actual.numpy(), flagged.numpy()))
    assert notebook["precision_recall"](torch.zeros(5, dtype=torch.bool), actual[:5]) == (0.0, 0.0)


def test_the_anomaly_report_sets_its_threshold_from_normal_scores_only(notebook):
    generator = torch.Generator().manual_seed(0)
    normal_validation = torch.rand(10_000, generator=generator)                 # normal scores: uniform on [0, 1]
    test_scores = torch.cat([torch.rand(9_000, generator=generator), 0.5 + torch.rand(1_000, generator=generator)])
    is_anomaly = torch.arange(10_000) >= 9_000                                   # anomalies: uniform on [0.5, 1.5]
    report = notebook["anomaly_report"](test_scores, is_anomaly, normal_validation)
    assert report["roc_auc"] == pytest.approx(roc_auc_score(is_anomaly.numpy(), test_scores.numpy()))
    assert report["threshold_percentile"] == 99 and report["threshold"] == pytest.approx(0.99, abs=0.005)
    flagged = test_scores > report["threshold"]
    assert report["flagged"] == flagged.sum().item()
    assert report["false_positive_rate"] == pytest.approx(0.01, abs=0.005)    # about 1% of normal images
    assert report["recall"] == pytest.approx(0.51, abs=0.04)                  # anomalies above ~0.99
    assert (report["precision"], report["recall"]) == notebook["precision_recall"](flagged, is_anomaly)
    assert report["anomaly_share"] == pytest.approx(0.1)  # what the precision depends on


def test_training_learns_the_targets_not_the_inputs(notebook):
    inputs = random_images(256)
    targets = 1 - inputs  # a task no copying model can do
    torch.manual_seed(0)
    model = notebook["make_feedforward_autoencoder"](code_size=32)
    before = notebook["reconstruction_mse"](model, inputs, targets).item()
    history = notebook["train_autoencoder"](model, inputs, inputs, train_targets=targets, held_out_targets=targets,
                                            recipe=notebook["Recipe"](epochs=20, batch_size=32, learning_rate=3e-3))
    after = notebook["reconstruction_mse"](model, inputs, targets).item()
    assert after < 0.8 * before
    assert history["held_out_loss"][-1] == pytest.approx(after, rel=1e-5)


def test_mismatched_targets_are_refused_with_a_clear_error(notebook):
    model = notebook["make_feedforward_autoencoder"]()
    with pytest.raises(ValueError, match="one target image per input image"):
        notebook["train_autoencoder"](model, random_images(64), train_targets=random_images(32),
                                      recipe=notebook["Recipe"](epochs=1))


def test_the_vae_loss_is_summed_binary_cross_entropy_plus_the_kl_divergence(notebook):
    torch.manual_seed(0)
    vae = notebook["make_variational_autoencoder"]()
    images = random_images(16)
    reconstruction, kl = notebook["vae_loss_terms"](vae, images, images, torch.Generator().manual_seed(3))
    # The same quantities written out independently, with the same random sample of the codes.
    mean, log_variance = vae.encoder(images).chunk(2, dim=1)
    codes = mean + (0.5 * log_variance).exp() * torch.randn(mean.shape, generator=torch.Generator().manual_seed(3))
    p = vae.decoder(codes)
    expected_reconstruction = -(images * p.log() + (1 - images) * (1 - p).log()).flatten(1).sum(dim=1)
    prior = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    expected_kl = torch.distributions.kl_divergence(torch.distributions.Normal(mean, (0.5 * log_variance).exp()),
                                                    prior).sum(dim=1)
    assert reconstruction.shape == kl.shape == (16,)
    torch.testing.assert_close(reconstruction, expected_reconstruction, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(kl, expected_kl, rtol=1e-4, atol=1e-5)
    assert (kl >= 0).all()


def test_the_vae_reconstructs_from_the_mean_code(notebook):
    torch.manual_seed(0)
    vae = notebook["make_variational_autoencoder"]()
    images = random_images(8)
    mean, _ = vae.latent_distribution(images)
    torch.testing.assert_close(notebook["reconstruct"](vae, images), vae.decoder(mean).detach())
    test_loss = notebook["vae_test_loss"](vae, images)
    assert test_loss == notebook["vae_test_loss"](vae, images)  # its own generator: the same every time


def test_the_metrics_file_has_every_application(quick_run):
    _, metrics = quick_run
    promised = {
        "denoising": {"noise_std", "psnr_noisy", "psnr_denoised", "psnr_plain_cnn", "mse_noisy", "mse_denoised"},
        "anomaly": {"held_out_class", "roc_auc", "threshold", "precision", "recall"},
        "vae": {"test_loss", "reconstruction", "kl", "mse"},
    }
    for section, keys in promised.items():
        assert keys <= set(metrics[section]), section
        for key in keys - {"held_out_class"}:
            assert math.isfinite(metrics[section][key]), (section, key)


def test_the_denoising_numbers_describe_the_noisy_test_images(quick_run, data_root, notebook):
    _, metrics = quick_run
    denoising = metrics["denoising"]
    assert denoising["noise_std"] == 0.3
    # The noisy test images re-made from their description: N(0, 0.3^2) noise from seed 0 + 1, clipped to [0, 1]; a
    # quick run tests on the first TEST_SIZE test images.
    test_images, _ = notebook["load_split"](data_root, train=False, device=torch.device("cpu"))
    test_images = test_images[:notebook["TEST_SIZE"]]
    noise = torch.randn(test_images.shape, generator=torch.Generator().manual_seed(1)) * 0.3
    noisy = (test_images + noise).clamp(0, 1).double().numpy()
    mse = ((noisy - test_images.double().numpy()) ** 2).reshape(len(noisy), -1).mean(axis=1)
    assert denoising["mse_noisy"] == pytest.approx(mse.mean(), rel=1e-6)
    assert denoising["psnr_noisy"] == pytest.approx(np.mean(10 * np.log10(1 / mse)), rel=1e-6)
    for key in ("noisy", "plain_cnn", "denoised"):  # the mean of the logarithms is at least the log of the mean
        assert denoising[f"psnr_{key}"] >= 10 * math.log10(1 / denoising[f"mse_{key}"]) - 1e-9


def test_the_denoising_table_shows_the_metrics_file(quick_run):
    notebook, metrics = quick_run
    assert denoising_table_mismatches(notebook, metrics) == []


def test_anomaly_detection_beats_chance(quick_run):
    _, metrics = quick_run
    anomaly = metrics["anomaly"]
    assert anomaly["held_out_class"] == "Bag"
    assert anomaly["roc_auc"] > 0.5
    assert 0 <= anomaly["precision"] <= 1 and 0 < anomaly["recall"] <= 1
    assert anomaly["threshold"] > 0 and anomaly["threshold_percentile"] == 99
    # The threshold flags about 1% of the normal validation images, so a small share of the normal test images.
    assert anomaly["false_positive_rate"] < 0.05


def test_the_vae_loss_parts_are_finite_and_positive(quick_run):
    # What they are worth is recomputed from the VAE itself in tests/test_what_the_cells_feed_in.py.
    _, metrics = quick_run
    vae = metrics["vae"]
    assert vae["kl"] > 0 and vae["reconstruction"] > 0 and math.isfinite(vae["test_loss"])
    assert 0 < vae["mse"] < 1
