"""Devices and dtypes under PyTorch's names: ``minidl.device``, ``minidl.cuda``,
``minidl.accelerator``, ``minidl.float32`` ... ``minidl.bool``.

minidl's tensors always live in host memory, and its ops run on the CPU. A GPU,
where numba-cuda finds a usable one, runs the optimizers' update step
(``optim.SGD(..., device="auto")``). So:

    minidl.cuda.is_available()       a usable GPU for the optimizers' kernels
    t.device                         always device(type='cpu')
    t.to("cuda"), t.cuda()           with a usable GPU: t itself, still on the host;
                                     without one: RuntimeError saying what is missing

so that the PyTorch idiom ``device = "cuda" if torch.cuda.is_available() else
"cpu"; model.to(device)`` runs unchanged on either machine.

The dtypes are numpy's scalar types, accepted by every ``dtype=``:
``minidl.float`` is float32, ``double`` float64, ``long`` int64, ``int`` int32,
``half`` float16 (numpy's ops run on it; optimizers and Module.to refuse it).
"""
from __future__ import annotations

import types
from typing import Any

import numpy as np

# -- dtypes: minidl/__init__.py makes these its attributes, after all of its own code,
# so that ``float(...)``, ``int(...)`` and ``bool(...)`` in minidl stay the builtins --
DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16,
    "int64": np.int64, "long": np.int64, "int32": np.int32, "int": np.int32,
    "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
}


class device:
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:0")``, ``device("cuda", 0)``:
    a type and an optional index; equal devices compare equal, as in PyTorch."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: Any = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a str such as 'cpu' or 'cuda:0', "
                            f"got {type!r}")
        name, _, number = type.partition(":")
        if name not in ("cpu", "cuda") or (number and index is not None):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device "
                               f"string: {type!r}")
        if number:
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = number
        if index is not None:
            index = _index(index)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("device objects are immutable")

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return (isinstance(other, device) and self.type == other.type
                and self.index == other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


def _index(value: Any) -> Any:
    try:
        number = value.__index__() if not isinstance(value, str) else int(value)
    except (AttributeError, ValueError):
        raise RuntimeError(f"Invalid device index: {value!r}") from None
    if number < 0:
        raise RuntimeError(f"Device index must not be negative, got {number}")
    return number


CPU = device("cpu")


def is_device(value: Any) -> bool:
    """``value`` names a device ('cpu', 'cuda:0', a ``device``), not a dtype."""
    if isinstance(value, device):
        return True
    try:
        device(value)
        return True
    except (RuntimeError, TypeError):
        return False


def cuda_problem() -> str | None:
    """Why no usable GPU is here (None when there is one): ``kernels.cuda_problem``."""
    from . import kernels   # on first use: importing it costs start-up time
    return kernels.cuda_problem()


def _cuda_is_available() -> bool:
    """A usable CUDA GPU for the optimizers' kernels (numba-cuda and a driver)."""
    return cuda_problem() is None


def _cuda_device_count() -> int:
    """The number of CUDA GPUs numba sees (0 without a usable one)."""
    if not _cuda_is_available():
        return 0
    from numba import cuda as numba_cuda
    return len(numba_cuda.gpus)


def _current_accelerator() -> device | None:
    """``device("cuda")`` when a usable GPU is there, else None (as PyTorch's)."""
    return device("cuda") if _cuda_is_available() else None


cuda = types.SimpleNamespace(is_available=_cuda_is_available, device_count=_cuda_device_count)
accelerator = types.SimpleNamespace(is_available=_cuda_is_available,
                                    current_accelerator=_current_accelerator)


def to_arguments(op: str, args: tuple, dtype: Any, device: Any) -> Any:
    """The dtype that ``to(*args, dtype=, device=)`` asks for (None: keep it), after
    checking the device it names, if any: positional arguments may be a device,
    a dtype, or both (``to("cuda", float64)``)."""
    for arg in args:
        if is_device(arg):
            device = arg
        else:
            dtype = arg
    if device is not None:
        check_device(op, device)
    return dtype


def check_device(op: str, where: Any) -> device:
    """``where`` as a device, after checking that minidl can honour it: cpu always,
    cuda only with a usable GPU (the tensor stays in host memory, see the module
    docstring). Anything else raises."""
    target = where if isinstance(where, device) else device(where)
    if target.type == "cuda":
        problem = cuda_problem()
        if problem is not None:
            raise RuntimeError(f"{op}: cannot use device {str(target)!r}: {problem}; "
                               f"minidl runs on the CPU without a GPU (use 'cpu')")
    return target
