"""Module and Parameter: the containers that layers and models are built from.

A Module owns three ordered dicts, filled by attribute assignment in order:

    _parameters   name -> Parameter   (trained: returned by ``parameters()``)
    _buffers      name -> buffer      (state that is not trained, e.g. running means:
                                       an array, or a Tensor when one was registered)
    _modules      name -> Module      (sub-modules, walked recursively)

(an ``nn.Buffer`` assigned to an attribute is registered as a buffer).

``state_dict()`` flattens parameters and buffers of the whole tree into dotted
names (``layers.1.bias``); ``load_state_dict`` copies values back *into* the
existing arrays, so a parameter that lives in an optimizer's flat buffer stays
there. ``load_state_dict`` reports ``(missing_keys, unexpected_keys)`` and raises
PyTorch's RuntimeError text (a ``StateDictError``, also a ValueError).

``to(device)``, ``cpu()`` and ``cuda()`` check the device as ``Tensor.to`` does
(minidl/devices.py): the arrays stay in host memory.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, Mapping, NamedTuple

import numpy as np

from ..devices import check_device, to_arguments
from ..hooks import RemovableHandle
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable: ``requires_grad=True``.

    ``Parameter(array_or_tensor)`` keeps floating dtypes (a Tensor's array is
    shared, not copied) and turns integer data into float32.
    """

    def __init__(self, data: Any, requires_grad: bool = True):
        array = np.asarray(data._data if isinstance(data, Tensor) else data)
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
        super().__init__(array, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when it is assigned to an attribute
    (``self.mask = nn.Buffer(t)``), as ``register_buffer(name, t, persistent)`` does.
    ``Buffer(t)`` shares t's array; ``Buffer()`` is empty."""

    def __init__(self, data: Any = None, *, persistent: bool = True):
        array = np.empty(0, np.float32) if data is None else _array_of(data)
        super().__init__(array, dtype=array.dtype)
        self.persistent = bool(persistent)


def copy_into(tensor: Tensor, value: Any) -> None:
    """Overwrite ``tensor``'s array in place with ``value``, keeping its dtype.

    Assigning the array back through ``tensor.data`` tells an optimizer that
    holds the tensor in its flat buffer that the values changed.
    """
    target = tensor._data
    np.copyto(target, np.asarray(value._data if isinstance(value, Tensor) else value),
              casting="same_kind")
    tensor.data = target


class StateDictError(RuntimeError, ValueError):
    """A state dict that does not fit a module: PyTorch's RuntimeError, and the
    ValueError that minidl raised before."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``."""
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: subclasses define ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``forward``, between the forward pre-hooks and the forward hooks."""
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        return note_call(self, args, output)

    # -- hooks --------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a return value that
        is not None replaces the positional inputs (a non-tuple is one input)."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; a return value
        that is not None replaces the output."""
        return RemovableHandle(self._forward_hooks, hook)

    # -- registration by attribute assignment ---------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif isinstance(value, Buffer):
            self._forget(name)
            self.register_buffer(name, value, value.persistent)
        elif name in self._buffers:
            self._buffers[name] = _as_buffer(name, value)
        elif value is None and (name in self._parameters or name in self._modules):
            self._forget(name)
            object.__setattr__(self, name, None)
        elif name in self._parameters or name in self._modules:
            kind = "parameter" if name in self._parameters else "sub-module"
            raise TypeError(f"cannot assign a {type(value).__name__} to {kind} {name!r}: "
                            f"a {'Parameter' if kind == 'parameter' else 'Module'} or None is expected")
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry, {})
            if name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if not self._forget(name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _forget(self, name: str) -> bool:
        """Remove ``name`` from every registry and the instance dict; was it there?"""
        found = False
        for entries in (self._parameters, self._buffers, self._modules, self.__dict__):
            if name in entries:
                del entries[name]
                found = True
        return found

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Keep ``tensor`` (a Tensor, an array or None) as state that is not trained;
        ``state_dict`` holds it unless ``persistent=False``."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"Invalid buffer name: {name!r} (a non-empty string without '.')")
        if name in self._parameters or name in self._modules or name in self.__dict__:
            raise KeyError(f"attribute {name!r} already exists")
        self._buffers[name] = _as_buffer(name, tensor)
        non_persistent = self.__dict__.setdefault("_non_persistent_buffers_set", set())
        if persistent:
            non_persistent.discard(name)
        else:
            non_persistent.add(name)

    # -- walking the tree -------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module below it, depth first."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(_join(name, child_name), child)
                                   for child_name, child in module._modules.items()]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """Dotted names and parameters; a parameter shared by two modules comes once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield _join(module_name, name), parameter

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Any]]:
        """Dotted names and buffers (None buffers left out), of the whole tree
        unless ``recurse=False``."""
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield _join(module_name, name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes and gradients ----------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every module below it."""
        if not isinstance(mode, bool):
            raise ValueError(f"Invalid training mode: {mode!r} (expected True or False)")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every sub-module, children before parents, then
        on this module (as PyTorch does, e.g. to initialise weights); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (False freezes them); returns self."""
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           non_blocking: bool = False) -> Module:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``: check the device
        (see minidl/devices.py), then cast every parameter and floating-point buffer
        to ``dtype`` (float32 or float64) in place, keeping the Parameter objects;
        returns self.

        Parameters held by an optimizer live in its flat buffers of one dtype:
        cast the model before building the optimizer.
        """
        dtype = to_arguments("Module.to", args, dtype, device)
        return self if dtype is None else self._cast(dtype)

    def cpu(self) -> Module:
        """self: the parameters live in host memory."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """self when a usable GPU is there (the parameters stay in host memory and
        an optimizer's step runs on the GPU); a RuntimeError saying what is missing
        otherwise."""
        check_device("Module.cuda", "cuda" if device is None else device)
        return self

    def _cast(self, dtype: Any) -> Module:
        try:
            target = np.dtype(dtype)
        except TypeError:
            target = None
        if target not in (np.float32, np.float64):
            raise ValueError(f"Invalid dtype: {dtype!r} (Module.to takes float32 or float64)")
        held = [name for name, p in self.named_parameters()
                if p._owner is not None and p.dtype != target]
        if held:
            raise ValueError(f"cannot cast parameters {', '.join(held)} to {target}: an "
                             f"optimizer holds them in its flat buffers of another dtype; "
                             f"cast the model before building the optimizer")
        for parameter in self.parameters():
            grad = parameter._grad
            parameter.data = parameter._data.astype(target, copy=False)
            if grad is not None:
                parameter.grad = grad
        for module in self.modules():
            for name, buffer in module._buffers.items():
                if isinstance(buffer, Tensor) and buffer.dtype.kind == "f":
                    module._buffers[name] = buffer.to(target)
                elif buffer is not None and buffer.dtype.kind == "f":
                    module._buffers[name] = buffer.astype(target, copy=False)
        return self

    def float(self) -> Module:
        """``to(float32)``."""
        return self._cast(np.float32)

    def double(self) -> Module:
        """``to(float64)``."""
        return self._cast(np.float64)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient, or fill it with zeros."""
        for parameter in self.parameters():
            if set_to_none:
                parameter.grad = None
            elif parameter._grad is not None:
                parameter._grad.fill(0)

    # -- saving and loading -------------------------------------------------------
    def _state_entries(self) -> OrderedDict[str, Tensor | np.ndarray]:
        """Dotted name -> live Parameter or persistent buffer (per module: parameters,
        then buffers; None left out)."""
        entries: OrderedDict[str, Tensor | np.ndarray] = OrderedDict()
        for module_name, module in self.named_modules():
            for name, parameter in module._parameters.items():
                entries[_join(module_name, name)] = parameter
            skipped = module.__dict__.get("_non_persistent_buffers_set", ())
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in skipped:
                    entries[_join(module_name, name)] = buffer
        return entries

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Dotted name -> a copy of every parameter's and buffer's array."""
        return OrderedDict((name, np.array(entry._data if isinstance(entry, Tensor) else entry))
                           for name, entry in self._state_entries().items())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays into this module's parameters and buffers.

        Nothing is copied unless everything fits. A shape mismatch, or a dtype
        that cannot be cast to the module's (float into an integer buffer),
        always raises a ``StateDictError`` (a RuntimeError, as PyTorch's, and a
        ValueError); with ``strict`` so do missing and unexpected keys. Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``. ``assign=True`` is
        refused: the values are always copied into the existing arrays.
        """
        if assign:
            raise NotImplementedError("load_state_dict(assign=True): minidl copies into "
                                      "the module's own arrays; leave assign False")
        state = state_dict
        entries = self._state_entries()
        missing = [name for name in entries if name not in state]
        unexpected = [name for name in state if name not in entries]
        problems = [_mismatch(name, _array_of(state[name]), _array_of(entry))
                    for name, entry in entries.items() if name in state]
        problems = [problem for problem in problems if problem]
        if strict and unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{name}"' for name in unexpected) + ". ")
        if strict and missing:
            problems.insert(0, "Missing key(s) in state_dict: "
                            + ", ".join(f'"{name}"' for name in missing) + ". ")
        if problems:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:"
                                 f"\n\t" + "\n\t".join(problems))
        for name, entry in entries.items():
            if name in state:
                if isinstance(entry, Tensor):
                    copy_into(entry, state[name])
                else:
                    np.copyto(entry, _array_of(state[name]), casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # -- printing -----------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside this module's parentheses."""
        return ""

    def __repr__(self) -> str:
        """``Name(extra)`` or, with children, one indented ``(name): child`` per line."""
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self._modules.items()]
        if not children and len(extra) <= 1:
            return f"{type(self).__name__}({''.join(extra)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(extra + children) + "\n)"


def note_call(module: Module, args: tuple, output: Any) -> Any:
    """Mark a graph-node output with the innermost Module call that made it.

    ``output._module_call = (module, ids of the positional arguments)``: ids, not
    the tensors, so the note keeps no activation alive. ``minidl.viz.graph(...,
    collapse=True)`` draws each such call as one node. A module that returns
    one of its arguments (Identity, Dropout in eval) marks nothing.
    """
    if (isinstance(output, Tensor) and output._backward is not None
            and "_module_call" not in output.__dict__):
        ids = tuple(map(id, args))
        if id(output) not in ids:
            output._module_call = (module, ids)
    return output


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _mismatch(name: str, source: np.ndarray, target: np.ndarray) -> str:
    """Why ``source`` cannot be copied into ``target`` ('' when it can)."""
    if source.shape != target.shape:
        return (f"size mismatch for {name}: copying a param with shape {source.shape} from "
                f"checkpoint, the shape in current model is {target.shape}.")
    if not np.can_cast(source.dtype, target.dtype, casting="same_kind"):
        return (f"dtype mismatch for {name}: the checkpoint holds {source.dtype}, "
                f"which cannot be cast to the module's {target.dtype}")
    return ""


def _array_of(value: Any) -> np.ndarray:
    return np.asarray(value._data if isinstance(value, Tensor) else value)


def _as_buffer(name: str, value: Any) -> Any:
    """A Tensor stays a Tensor (as PyTorch's buffers are), None stays None, anything
    else becomes an array (minidl's own layers keep arrays)."""
    if isinstance(value, Module):
        raise TypeError(f"buffer {name!r} must be a Tensor or an array, not a Module")
    if value is None or isinstance(value, Tensor):
        return value
    return _array_of(value)

