"""A stand-in for an accelerator without float64 (Apple's MPS), for watching the notebook run on the CPU.

A tensor counts as "on the device" when the notebook sent it there (`.to(device=...)`, as load_split does with the
images, or a module's `.to(DEVICE)`), made it there (a factory function given a `device`, such as
`torch.zeros((), device=device)`), loaded it there (`torch.load(..., map_location=DEVICE)`), copied it from one there
(`copy.deepcopy`) or computed it from such a tensor. It counts as "on the host" when the notebook moved it back with
`.cpu()`, made it with a factory function given no device, or computed it from host tensors only. The notebook names
its device DEVICE, a `torch.device`; the string "cpu" always means the host. A tensor that PyTorch makes inside an
operation (torch.nn.functional.one_hot makes its zeros in C++, on the device of its input) is on neither until an
operation combines it with one that is.

It records three kinds of mistakes, each of which a real accelerator refuses: an operation that computes in float64
on the device (MPS has no float64), `.numpy()` of a tensor on the device, and an operation that mixes tensors on the
device with host tensors. Two mixes are allowed because CUDA and MPS allow them: a host tensor of 0 dimensions (a
scalar) and `copy_`, the copy from one device to another that `.to()` and `load_state_dict` make.
tests/test_devices.py says what the watch can and cannot see."""

import contextlib
import traceback

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

CROSS_DEVICE_COPIES = {"copy_", "_to_copy"}  # the operations that move data between devices


def is_on_device(tensor: torch.Tensor) -> bool:
    return getattr(tensor, "on_watched_device", None) is True


def is_on_host(tensor: torch.Tensor) -> bool:
    return getattr(tensor, "on_watched_device", None) is False


def names_the_device(device) -> bool:
    """Whether a `device` argument means the notebook's device: a torch.device, or a name other than "cpu"."""
    return device is not None and not (isinstance(device, str) and device == "cpu")


class FactoriesOnTheDevice(TorchFunctionMode):
    """Tags what a factory function called from Python makes (a function of no tensor): on the device when it is
    given a device (torch.zeros(..., device=DEVICE)), on the host when it is not. By the time the dispatcher sees the
    call, every factory has a device, and one made on the host cannot be told from it."""

    def __init__(self, watch: "AcceleratorWithoutFloat64"):
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # A tensor method that the watch replaced comes here as its replacement, which has reported already.
        result = self.watch.replaced.get(func, func)(*args, **kwargs)
        if not any(isinstance(leaf, torch.Tensor) for leaf in tree_leaves((args, kwargs))):
            for tensor in tree_leaves(result):
                if isinstance(tensor, torch.Tensor):
                    self.watch.tag(tensor, names_the_device(kwargs.get("device")))
        return result


class AcceleratorWithoutFloat64(TorchDispatchMode):
    """Tags every tensor an operation makes as on the device or on the host, and records the operations that compute
    in float64 on the device or mix device and host tensors, and the aten operators that run on the device."""

    def __init__(self):
        super().__init__()
        self.moving_to_host = False
        self.tagged_on_device = 0
        self.problems = []
        self.operators = set()
        self.replaced = {}  # the watch's replacements of tensor methods -> the methods themselves

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        output = func(*args, **kwargs)
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_leaves(output) if isinstance(t, torch.Tensor)]
        on_device = not self.moving_to_host and any(map(is_on_device, inputs))
        if on_device:  # what would run on the GPU
            name = func.overloadpacket.__name__
            self.operators.add(name)
            if any(t.dtype == torch.float64 for t in inputs + outputs):
                self.problem(f"{func} computes in float64 on the device")
            host = [tuple(t.shape) for t in inputs if is_on_host(t) and t.dim() > 0]
            if host and name not in CROSS_DEVICE_COPIES:
                self.problem(f"{func} mixes tensors on the device with host tensors of shape "
                             f"{', '.join(map(str, host))}")
        if on_device or self.moving_to_host or any(map(is_on_host, inputs)):
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
        """The mode, with what moves data between host and device reporting to it: a tensor's `.to()` with a device
        sends it to the device (on the CPU it may return the tensor itself, without any operation), a module's
        `.to()` with a device sends its parameters and buffers, `torch.load` with a `map_location` loads onto it,
        `.cpu()` brings a tensor back (as a copy, so that the host tensor is a new one), `.numpy()` must get a host
        one."""
        original_to, original_numpy = torch.Tensor.to, torch.Tensor.numpy
        original_module_to, original_load = torch.nn.Module.to, torch.load
        original_deepcopies = {kind: kind.__deepcopy__ for kind in (torch.Tensor, torch.nn.Parameter)}

        def target_device(args, kwargs):
            return kwargs.get("device", next((a for a in args if isinstance(a, str | torch.device)), None))

        def to(tensor, *args, **kwargs):
            target = target_device(args, kwargs)
            if target is not None and names_the_device(target) != is_on_device(tensor):
                kwargs["copy"] = True  # to another device: a new tensor, as it is on a real one
            result = original_to(tensor, *args, **kwargs)
            if target is not None:
                self.tag(result, names_the_device(target))
            return result

        def module_to(module, *args, **kwargs):
            result = original_module_to(module, *args, **kwargs)
            target = target_device(args, kwargs)
            if target is not None:
                for tensor in [*module.parameters(), *module.buffers()]:
                    self.tag(tensor, names_the_device(target))
            return result

        def load(*args, **kwargs):
            result = original_load(*args, **kwargs)
            if names_the_device(kwargs.get("map_location", "cpu")):
                for tensor in tree_leaves(result):
                    if isinstance(tensor, torch.Tensor):
                        self.tag(tensor, True)
            return result

        def deepcopy(kind):
            def copy(tensor, memo):
                result = original_deepcopies[kind](tensor, memo)
                if hasattr(tensor, "on_watched_device"):
                    self.tag(result, tensor.on_watched_device)
                return result
            return copy

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

        with pytest.MonkeyPatch.context() as patch, self, FactoriesOnTheDevice(self):
            for name, method in {"to": to, "cpu": cpu, "numpy": numpy}.items():
                self.replaced[method] = getattr(torch.Tensor, name)
                patch.setattr(torch.Tensor, name, method)
            patch.setattr(torch.nn.Module, "to", module_to)
            for kind in original_deepcopies:
                patch.setattr(kind, "__deepcopy__", deepcopy(kind))
            patch.setattr(torch, "load", load)
            yield self
