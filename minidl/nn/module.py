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

A module may keep state that is neither (``get_extra_state``/``set_extra_state``,
under ``<prefix>_extra_state``), and has PyTorch's hooks: forward (pre-)hooks,
full backward (pre-)hooks (backward_hooks.py), and hooks around ``state_dict``
and ``load_state_dict``.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, Mapping, NamedTuple

import numpy as np

from ..devices import check_device, to_arguments
from ..grad_mode import is_grad_enabled
from ..hooks import RemovableHandle
from ..tensor import Tensor
from .backward_hooks import BackwardHookCall


_CALL_HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks",
                    "_backward_hooks")
_HOOK_DICTS = _CALL_HOOK_DICTS + ("_state_dict_pre_hooks", "_state_dict_hooks",
                                  "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")


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
        for hooks in _HOOK_DICTS:
            object.__setattr__(self, hooks, OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``forward``, between the forward pre-hooks and the forward hooks."""
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        hooked = self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks")
        calls = BackwardHookCall(self, args) if hooked and is_grad_enabled() else None
        if calls is not None:
            args = calls.inputs()
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        if calls is not None:
            output = calls.output(output)
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

    def register_full_backward_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradient w.r.t. the module's
        output is known; a tuple returned replaces ``grad_output``. For modules
        called with one Tensor and returning one (see backward_hooks.py)."""
        return RemovableHandle(self._backward_pre_hooks, hook)

    def register_full_backward_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradient w.r.t.
        the module's input is known; a tuple returned replaces ``grad_input``.
        For modules called with one Tensor and returning one (backward_hooks.py)."""
        return RemovableHandle(self._backward_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` reads the module."""
        return RemovableHandle(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after
        ``state_dict`` is made; the hook may change the dict in place."""
        return RemovableHandle(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` checks anything;
        the hook may change the (copied) state dict in place, e.g. rename old keys,
        and append to error_msgs to refuse it."""
        return RemovableHandle(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_post_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict`` copied
        the values; clearing ``incompatible_keys.missing_keys`` (or unexpected_keys)
        in place spares a strict load its error."""
        return RemovableHandle(self._load_state_dict_post_hooks, hook)

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
        elif isinstance(value, Buffer) and name not in self._parameters \
                and name not in self._modules:   # over those: the TypeError below
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

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None: a placeholder) under ``name``."""
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter "
                            f"'{name}' (minidl.nn.Parameter or None required)")
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` (or None) as the child ``name``, as assigning it would."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at the dotted path ``target`` ("" is this module)."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at the dotted path ``target``, replacing what is there (a
        module); with ``strict`` the path must exist."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"layers.0.weight"``)."""
        module, name = self._owner_of(target)
        if not isinstance(getattr(module, name), Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return getattr(module, name)

    def get_buffer(self, target: str) -> Any:
        """The buffer at the dotted path ``target`` (``"norm.running_mean"``)."""
        module, name = self._owner_of(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def _owner_of(self, target: str) -> tuple[Module, str]:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        return module, name

    # -- walking the tree -------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

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
                                   for child_name, child in module.named_children()]))

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
                if parameter is not None and id(parameter) not in seen:
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
        except (TypeError, ValueError):
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

    def half(self) -> Module:
        """``to(float16)``: refused, as ``to`` refuses it (minidl trains in float32
        or float64)."""
        return self._cast(np.float16)

    def bfloat16(self) -> Module:
        """Refused: numpy, hence minidl, has no bfloat16."""
        return self._cast("bfloat16")

    def type(self, dst_type: Any) -> Module:
        """``to(dst_type)``: float32 or float64."""
        return self._cast(dst_type)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient, or fill it with zeros."""
        for parameter in self.parameters():
            if set_to_none:
                parameter.grad = None
            elif parameter._grad is not None:
                parameter._grad.fill(0)

    # -- saving and loading -------------------------------------------------------
    def get_extra_state(self) -> Any:
        """Override (with ``set_extra_state``) to keep state that is no parameter or
        buffer: ``state_dict`` then holds it under ``<prefix>_extra_state``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should "
                           "never be called: override it, with set_extra_state")

    def set_extra_state(self, state: Any) -> None:
        """Take back what ``get_extra_state`` returned (see there)."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should "
                           "never be called: override it, with get_extra_state")

    def _state_entries(self) -> OrderedDict[str, Tensor | np.ndarray | ExtraState]:
        """Dotted name -> live Parameter, persistent buffer or ExtraState (per module:
        parameters, then buffers, then its extra state; None left out)."""
        entries: OrderedDict[str, Tensor | np.ndarray | ExtraState] = OrderedDict()
        for module_name, module in self.named_modules():
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    entries[_join(module_name, name)] = parameter
            skipped = module.__dict__.get("_non_persistent_buffers_set", ())
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in skipped:
                    entries[_join(module_name, name)] = buffer
            if type(module).get_extra_state is not Module.get_extra_state:
                entries[_join(module_name, "_extra_state")] = ExtraState(module)
        return entries

    def state_dict(self) -> OrderedDict[str, Any]:
        """Dotted name -> a copy of every parameter's and buffer's array (and each
        module's extra state). Every module's state-dict pre-hooks run first,
        parents before children; then the post-hooks, each module's after its
        children's (as PyTorch's recursion returns), see the whole dict."""
        modules = list(self.named_modules())
        for name, module in modules:
            for hook in list(module.__dict__.get("_state_dict_pre_hooks", {}).values()):
                hook(module, _prefix(name), False)
        state: OrderedDict[str, Any] = OrderedDict(
            (name, entry.module.get_extra_state() if isinstance(entry, ExtraState)
             else np.array(entry._data if isinstance(entry, Tensor) else entry))
            for name, entry in self._state_entries().items())
        for name, module in _post_order(self):
            for hook in list(module.__dict__.get("_state_dict_hooks", {}).values()):
                hook(module, state, _prefix(name), {"version": 1})
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays into this module's parameters and buffers.

        Nothing is copied unless everything fits. A shape mismatch, or a dtype
        that cannot be cast to the module's (float into an integer buffer),
        always raises a ``StateDictError`` (a RuntimeError, as PyTorch's, and a
        ValueError); with ``strict`` so do missing and unexpected keys. Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``. ``assign=True`` is
        refused: the values are always copied into the existing arrays.

        Load-state-dict pre-hooks run first, on a copy of ``state_dict``. When a
        module has post-hooks, the values are copied and the hooks run before the
        strict check of the keys (as in PyTorch: they may clear missing_keys), so
        a strict load refused for its keys has then copied the entries that fit.
        """
        if assign:
            raise NotImplementedError("load_state_dict(assign=True): minidl copies into "
                                      "the module's own arrays; leave assign False")
        modules = list(self.named_modules())
        state = OrderedDict(state_dict)       # the pre-hooks may change it
        missing: list[str] = []
        unexpected: list[str] = []
        problems: list[str] = []
        for name, module in modules:
            for hook in list(module.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
                hook(module, state, _prefix(name), {"version": 1}, strict, missing,
                     unexpected, problems)
        entries = self._state_entries()
        missing += [name for name in entries if name not in state]
        unexpected += [name for name in state if name not in entries]
        problems += [problem for name, entry in entries.items()
                     if name in state and not isinstance(entry, ExtraState)
                     and (problem := _mismatch(name, _array_of(state[name]), _array_of(entry)))]
        post_hooks = [(module, hook) for _, module in _post_order(self) for hook in
                      module.__dict__.get("_load_state_dict_post_hooks", {}).values()]
        _raise_problems(self, problems, strict and not post_hooks, missing, unexpected)
        for name, entry in entries.items():
            if name in state:
                if isinstance(entry, ExtraState):
                    entry.module.set_extra_state(state[name])
                elif isinstance(entry, Tensor):
                    copy_into(entry, state[name])
                else:
                    np.copyto(entry, _array_of(state[name]), casting="same_kind")
        keys = IncompatibleKeys(missing, unexpected)
        for module, hook in post_hooks:
            hook(module, keys)
        if post_hooks:   # as in PyTorch, the hooks may forgive keys: strict is checked after
            _raise_problems(self, [], strict, missing, unexpected)
        return keys

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


class ExtraState(NamedTuple):
    """A ``state_dict`` entry that is a module's ``get_extra_state()``."""
    module: Module


def _raise_problems(module: Module, problems: list[str], strict: bool, missing: list[str],
                    unexpected: list[str]) -> None:
    """StateDictError with PyTorch's text for ``problems`` and, when ``strict``,
    for missing and unexpected keys; nothing when there are none."""
    problems = list(problems)
    if strict and unexpected:
        problems.insert(0, "Unexpected key(s) in state_dict: "
                        + ", ".join(f'"{name}"' for name in unexpected) + ". ")
    if strict and missing:
        problems.insert(0, "Missing key(s) in state_dict: "
                        + ", ".join(f'"{name}"' for name in missing) + ". ")
    if problems:
        raise StateDictError(f"Error(s) in loading state_dict for {type(module).__name__}:"
                             f"\n\t" + "\n\t".join(problems))


def _check_name(kind: str, name: Any) -> None:
    """KeyError (TypeError for a non-str) for a name that cannot be an attribute."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


def _typename(value: Any) -> str:
    """``module.Class`` of a value, as PyTorch's ``torch.typename`` (``int`` for builtins)."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _prefix(module_name: str) -> str:
    """The key prefix of a module's entries: ``"layers.0."`` ("" at the root)."""
    return module_name + "." if module_name else ""


def has_call_hooks(module: Module) -> bool:
    """Whether calling ``module`` runs Python hooks (forward, or full backward)."""
    return any(module.__dict__.get(hooks) for hooks in _CALL_HOOK_DICTS)


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


def _post_order(module: Module, prefix: str = "",
                seen: set[int] | None = None) -> list[tuple[str, Module]]:
    """(dotted name, module) of the tree under ``module``, each module after its
    children and siblings in order (the order in which PyTorch's recursion runs
    post-hooks), each module once, as ``named_modules``."""
    seen = set() if seen is None else seen
    seen.add(id(module))
    order: list[tuple[str, Module]] = []
    for name, child in module.named_children():
        if id(child) not in seen:
            order += _post_order(child, _join(prefix, name), seen)
    return order + [(prefix, module)]


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

