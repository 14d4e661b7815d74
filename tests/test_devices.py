"""Devices: the notebook runs where it is asked to, keeps float64 off the accelerator (Apple's MPS has none), and
uses no operation that lacks a deterministic CUDA implementation.

No Mac and no GPU are available to the tests, so the float64 test runs the quick notebook on the CPU (the session's
`watched_retrain`) under a TorchDispatchMode that plays the accelerator (tests/device_watch.py says which tensors
count as on the device). Every operation that takes or makes float64 must have host inputs only, and `.numpy()` must
only see host tensors. What it cannot see: tensors made by a factory function with `device=DEVICE` (on the CPU they
cannot be told from host ones, so they count as host), and MPS's other gaps (operations that MPS does not implement
at all)."""

import pytest
import torch

from device_watch import AcceleratorWithoutFloat64
from notebook import load_definitions

# Operations without a deterministic CUDA implementation (the list in torch.use_deterministic_algorithms' docs: with
# warn_only=True each of them warns in every cell that calls it on a GPU), as aten operator names.
NONDETERMINISTIC_ON_CUDA = {
    "avg_pool3d_backward", "adaptive_avg_pool2d_backward", "_adaptive_avg_pool2d_backward",
    "adaptive_avg_pool3d_backward", "_adaptive_avg_pool3d_backward", "adaptive_max_pool2d_backward",
    "fractional_max_pool2d_backward", "fractional_max_pool3d_backward", "max_unpool1d", "max_unpool2d",
    "max_unpool3d", "upsample_linear1d_backward", "upsample_bilinear2d_backward", "upsample_bicubic2d_backward",
    "upsample_trilinear3d_backward", "reflection_pad1d_backward", "reflection_pad2d_backward",
    "reflection_pad3d_backward", "nll_loss2d_forward", "nll_loss_forward", "_ctc_loss_backward",
    "_embedding_bag_backward", "_embedding_bag_dense_backward", "put_", "put", "histc", "bincount", "median",
    "grid_sampler_2d_backward", "grid_sampler_3d_backward", "scatter_reduce", "kthvalue",
}


def test_float64_is_computed_on_the_host_only(watched_retrain):
    mode, namespace, _ = watched_retrain
    assert "metrics" in namespace  # the whole notebook ran
    assert mode.tagged_on_device > 10_000, "little was seen on the device: the watch is not working"
    assert mode.problems == []


def test_the_watch_catches_float64_on_the_device():
    # The mistakes it is there for: the VAE's test loss used to call .double() before .cpu(), and numpy() needs
    # the host; .cpu() first is right.
    with AcceleratorWithoutFloat64().watching() as mode:
        on_device = torch.ones(3).to("cpu", dtype=torch.float32).to(torch.device("cpu"))
        on_device.double().mean()
        on_device.numpy()
        assert len(mode.problems) == 3
        on_device.cpu().double().mean().item()
        on_device.cpu().numpy()
        assert len(mode.problems) == 3
    assert "numpy() of a tensor on the device" in mode.problems[-1]


def test_no_operation_lacks_a_deterministic_cuda_implementation(watched_retrain):
    mode, _, _ = watched_retrain
    assert {"convolution_backward", "max_pool2d_with_indices_backward", "_fused_adam_"} <= mode.operators
    assert mode.operators & NONDETERMINISTIC_ON_CUDA == set()


@pytest.mark.parametrize("value", ["gpu", "CUDA:0", "tpu", "1"])
def test_a_bad_device_setting_names_the_variable_the_value_and_the_choices(monkeypatch, value):
    monkeypatch.setenv("AUTOENCODERS_DEVICE", value)
    with pytest.raises(ValueError) as error:
        load_definitions()
    message = str(error.value)
    assert "AUTOENCODERS_DEVICE" in message and repr(value) in message and "auto, cpu, cuda, mps" in message


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_asking_for_a_missing_device_names_it_and_what_is_available(monkeypatch, device):
    if device in load_definitions()["available_devices"]():
        pytest.skip(f"this machine has {device}")
    monkeypatch.setenv("AUTOENCODERS_DEVICE", device)
    with pytest.raises(ValueError, match=f"AUTOENCODERS_DEVICE={device} asks for a device that this machine does not "
                                         r"have \(available here: .*cpu\)"):
        load_definitions()


@pytest.mark.parametrize(("value", "expected"), [("cpu", "cpu"), ("CPU", "cpu"), ("", None), ("auto", None)])
def test_the_device_setting_picks_the_device(monkeypatch, value, expected):
    monkeypatch.setenv("AUTOENCODERS_DEVICE", value)
    notebook = load_definitions()
    assert notebook["DEVICE"].type == (expected or notebook["available_devices"]()[0])
