"""Devices: the notebook runs where it is asked to, keeps float64 off the accelerator (Apple's MPS has none), and
uses no operation that lacks a deterministic CUDA implementation.

No Mac and no GPU are available to the tests, so the float64 test runs the quick notebook on the CPU under a
TorchDispatchMode that plays the accelerator: a tensor counts as "on the device" when the notebook sent it there
(`.to(device=...)`, as load_split does with the images) or computed it from such a tensor, and as "on the host" when
the notebook moved it back with `.cpu()` or made it from host tensors only. Every operation that takes or makes
float64 must have host inputs only, and `.numpy()` must only see host tensors. What it cannot see: tensors made by a
factory function with `device=DEVICE` (on the CPU they cannot be told from host ones, so they count as host), and
MPS's other gaps (operations that MPS does not implement at all)."""

import contextlib
import traceback

import matplotlib.pyplot as plt
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from notebook import execute_in_process, load_definitions

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


def is_on_device(tensor: torch.Tensor) -> bool:
    return getattr(tensor, "on_watched_device", False)


class AcceleratorWithoutFloat64(TorchDispatchMode):
    """Tags every tensor an operation makes as on the device or on the host, and records the operations that compute
    in float64 on the device, and the aten operators that run on the device."""

    def __init__(self):
        super().__init__()
        self.moving_to_host = False
        self.tagged_on_device = 0
        self.problems = []
        self.operators = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        output = func(*args, **kwargs)
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_leaves(output) if isinstance(t, torch.Tensor)]
        on_device = not self.moving_to_host and any(map(is_on_device, inputs))
        if on_device:  # what would run on the GPU
            self.operators.add(func.overloadpacket.__name__)
        if on_device and any(t.dtype == torch.float64 for t in inputs + outputs):
            self.problem(f"{func} computes in float64 on the device")
        for t in outputs:
            self.tag(t, on_device)
        return output

    def tag(self, tensor: torch.Tensor, on_device: bool) -> None:
        tensor.on_watched_device = on_device
        self.tagged_on_device += on_device

    def problem(self, what: str) -> None:
        where = [f"{frame.filename}, line {frame.lineno}: {frame.line}" for frame in traceback.extract_stack()
                 if frame.filename.startswith("autoencoders.ipynb")]
        self.problems.append(f"{what} at {where[-1] if where else 'an unknown place'}")

    @contextlib.contextmanager
    def watching(self):
        """The mode, with the tensor methods that move data between host and device reporting to it: `.to()` with
        a device sends a tensor to the device (on the CPU it may return the tensor itself, without any operation),
        `.cpu()` brings it back (as a copy, so that the host tensor is a new one), `.numpy()` must get a host one."""
        original_to, original_numpy = torch.Tensor.to, torch.Tensor.numpy

        def to(tensor, *args, **kwargs):
            target = kwargs.get("device", next((a for a in args if isinstance(a, str | torch.device)), None))
            result = original_to(tensor, *args, **kwargs)
            if target is not None:
                self.tag(result, target != "cpu")  # the notebook names its device DEVICE; "cpu" means the host
            return result

        def cpu(tensor, *args, **kwargs):
            self.moving_to_host = True
            try:
                return original_to(tensor, "cpu", copy=True)
            finally:
                self.moving_to_host = False

        def numpy(tensor, *args, **kwargs):
            if is_on_device(tensor):
                self.problem("numpy() of a tensor on the device")
            return original_numpy(tensor, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch, self:
            for name, method in {"to": to, "cpu": cpu, "numpy": numpy}.items():
                patch.setattr(torch.Tensor, name, method)
            yield self


@pytest.fixture(scope="module")
def watched_run(tmp_path_factory, local_copy):
    mode = AcceleratorWithoutFloat64()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AUTOENCODERS_QUICK": "1", "AUTOENCODERS_RETRAIN": "1", "FASHION_MNIST_DIR": str(local_copy),
                            "AUTOENCODERS_RESULTS_DIR": str(tmp_path_factory.mktemp("results")),
                            "AUTOENCODERS_CHECKPOINT_DIR": str(tmp_path_factory.mktemp("checkpoints"))}.items():
            patch.setenv(name, value)
        patch.setattr(plt, "show", lambda *args, **kwargs: plt.close("all"))
        with mode.watching():
            namespace = execute_in_process()
    return mode, namespace


def test_float64_is_computed_on_the_host_only(watched_run):
    mode, namespace = watched_run
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


def test_no_operation_lacks_a_deterministic_cuda_implementation(watched_run):
    mode, _ = watched_run
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
