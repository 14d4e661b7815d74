"""A stand-in for an accelerator without float64 (Apple's MPS), for watching the notebook run on the CPU.

A tensor counts as "on the device" when the notebook sent it there (`.to(device=...)`, as load_split does with the
images) or computed it from such a tensor, and as "on the host" when the notebook moved it back with `.cpu()` or made
it from host tensors only. tests/test_devices.py says what the watch can and cannot see."""

import contextlib
import traceback

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


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
