"""Devices: the notebook runs where it is asked to, keeps float64 off the accelerator (Apple's MPS has none), never
mixes tensors on the accelerator with host tensors, and uses no operation that lacks a deterministic CUDA
implementation.

No Mac and no GPU are available to the tests, so the whole quick notebook runs on the CPU (the session's
`watched_retrain`) under a TorchDispatchMode that plays the accelerator (tests/device_watch.py says which tensors
count as on the device). Every operation that takes or makes float64 must have host inputs only, `.numpy()` must
only see host tensors, and no operation may take tensors on the device together with host tensors of one dimension
or more. What it cannot see: MPS's other gaps (operations that MPS does not implement at all), and a host tensor
that the notebook sends to the device with `.to(some_tensor.device)` and then keeps using on the host (on the CPU
`.to()` returns the tensor itself, so it counts as on the device from then on: a false alarm, never a miss)."""

import pytest
import torch

from device_watch import AcceleratorWithoutFloat64
from notebook_access import load_definitions

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


def test_float64_stays_on_the_host_and_host_tensors_off_the_device(watched_retrain):
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


def test_the_watch_catches_host_tensors_mixed_with_tensors_on_the_device():
    device = torch.device("cpu")  # the notebook's DEVICE: a torch.device; the string "cpu" is the host
    with AcceleratorWithoutFloat64().watching() as mode:
        on_device, host = torch.ones(3).to(device), torch.ones(3)
        on_device + host  # CUDA and MPS refuse this: "Expected all tensors to be on the same device"
        torch.cat([on_device, host])
        on_device[torch.tensor([0, 2])]  # an index on the host
        assert len(mode.problems) == 3 and all("mixes tensors on the device with host tensors" in problem
                                               for problem in mode.problems)
        on_device * torch.tensor(2.0)  # a 0-dimensional host tensor is a scalar: CUDA accepts it
        on_device + torch.zeros(3, device=device)  # made on the device by a factory function
        on_device + torch.randn(3).to(device)  # made on the host, then sent to the device
        torch.nn.Linear(3, 2).to(device)(on_device)  # a module's parameters, sent with the module
        loaded = torch.zeros(3)
        loaded.copy_(on_device.cpu())  # copy_ moves data between devices
        on_device.cpu() + host  # both on the host
        assert len(mode.problems) == 3, mode.problems[3:]


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


# What "auto" must pick on the machine running the tests, by PyTorch's own account of it.
BEST_HERE = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"


@pytest.mark.parametrize(("value", "expected"), [("cpu", "cpu"), ("CPU", "cpu"), ("", BEST_HERE), ("auto", BEST_HERE)])
def test_the_device_setting_picks_the_device(monkeypatch, value, expected):
    monkeypatch.setenv("AUTOENCODERS_DEVICE", value)
    assert load_definitions()["DEVICE"].type == expected


@pytest.mark.parametrize(("cuda", "mps", "expected"), [(True, True, "cuda"), (True, False, "cuda"),
                                                       (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_an_nvidia_gpu_then_apples_then_the_cpu(monkeypatch, cuda, mps, expected):
    notebook = load_definitions()
    monkeypatch.setattr(notebook["torch"].cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(notebook["torch"].backends.mps, "is_available", lambda: mps)
    assert notebook["pick_device"]("auto") == notebook["torch"].device(expected)
