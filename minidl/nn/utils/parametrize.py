"""Parametrizations, as PyTorch's ``torch.nn.utils.parametrize``: a parameter or
buffer computed, at each access, by a chain of modules from stored tensors.

    register_parametrization(module, "weight", P)

moves ``module.weight`` to ``module.parametrizations.weight.original`` (a
``ParametrizationList``: a ModuleList of the parametrizations) and turns
``weight`` into a property of a class made for the module (``ParametrizedLinear``
for a Linear):

    module.weight             == P_n(... P_2(P_1(original)))
    module.weight = value     original <- P_1.right_inverse(... P_n.right_inverse(value))

When the first parametrization's ``right_inverse`` returns several tensors, they
are stored as ``original0``, ``original1``, ... and ``P_1`` takes them all
(``P_1(original0, original1, ...)``). So ``state_dict`` holds
``parametrizations.weight.original`` (or ``original0``...) and each
parametrization's own state (``parametrizations.weight.0._u``), and an optimizer
built from ``module.parameters()`` trains the originals: the weight follows.

Unless ``unsafe=True``, registering checks that the parametrization keeps the
tensor's dtype and shape. Inside ``with cached():`` each parametrized tensor is
computed once and reused (say, the weight of an RNN cell called at every step).
"""
from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from typing import Any, Iterator

from ... import grad_mode
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module, Parameter, copy_into

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized",
           "cached", "type_before_parametrizations", "ParametrizationList"]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor once inside the block (the cache is
    dropped when the outermost ``cached()`` exits)."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_values(original: Tensor, value: Tensor) -> None:
    """Write ``value`` into ``original`` (PyTorch's ``original.set_(value)``): in
    place when the shapes agree, so an optimizer holding ``original`` sees it."""
    if original.shape == value.shape:
        copy_into(original, value)
    else:
        original.data = value._data.copy()


def _check_result(value: Any, dtype: Any, shape: tuple, what: str) -> None:
    """ValueError unless ``value`` is a Tensor of ``dtype`` and ``shape``."""
    if not isinstance(value, Tensor):
        raise ValueError(f"{what} must return a tensor. Got {type(value).__name__}.")
    if value.dtype != dtype:
        raise ValueError(f"{what} may not change the dtype.\nunparametrized dtype: {dtype}\n"
                         f"parametrized dtype: {value.dtype}")
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{what} may not change the shape.\nunparametrized shape: "
                         f"{tuple(shape)}\nparametrized shape: {tuple(value.shape)}")


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, with the stored tensors:
    ``original`` (or ``original0, original1, ...``) as a Parameter or a buffer,
    as the tensor was. Calling it computes the parametrized tensor."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with grad_mode.no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass          # taken as the identity, as in PyTorch
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        before = original._data.copy()
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            _set_values(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(tensor).__name__}.")
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor._data.copy(), original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", tensor)
        if not self.unsafe:
            try:
                _check_result(self(), before.dtype, before.shape,
                              "Registering a parametrization")
            except ValueError:
                _set_values(original, Tensor(before, dtype=before.dtype))   # refused: undo
                raise

    def originals(self) -> list[Tensor]:
        """The stored tensors: ``[original]`` or ``[original0, original1, ...]``."""
        if self.is_tensor:
            return [self.original]
        return [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value`` through every parametrization's ``right_inverse``, last
        to first (RuntimeError when one has none)."""
        with grad_mode.no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            values = [value] if self.is_tensor else value
            if not self.is_tensor and (not isinstance(value, Sequence)
                                       or len(value) != self.ntensors):
                raise ValueError(f"'right_inverse' must return a sequence of tensors of "
                                 f"length {self.ntensors}. Got {type(value).__name__}.")
            for original, new in zip(self.originals(), values):
                if not isinstance(new, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. "
                                     f"Got {type(new).__name__}")
                if new.dtype != original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{new.dtype} while `original` has dtype "
                                     f"{original.dtype}")
                _set_values(original, new)

    def forward(self) -> Tensor:
        """P_n(... P_1(original)) (``P_1(original0, original1, ...)`` for several)."""
        modules = list(self)
        value = modules[0](*self.originals())
        for module in modules[1:]:
            value = module(value)
        return value


def _parametrized_class(cls: type) -> type:
    """A subclass of ``cls`` to carry the properties of one module's parametrized
    tensors (each module gets its own class: properties live on classes)."""

    def __setattr__(self: Module, name: str, value: Any) -> None:
        if not isinstance(type(self).__dict__.get(name), property):
            cls.__setattr__(self, name, value)
        elif isinstance(value, Parameter):
            raise KeyError(f"attribute '{name}' already exists")
        else:
            object.__setattr__(self, name, value)       # the property's setter

    def __getstate__(self: Module) -> None:
        raise RuntimeError("Serialization of parametrized modules is only supported through "
                           "state_dict().")

    def __deepcopy__(self: Module, memo: dict) -> Module:
        replica = object.__new__(type(self))
        memo[id(self)] = replica
        replica.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return replica

    return type(f"Parametrized{cls.__name__}", (cls,), {
        "__setattr__": __setattr__, "__getstate__": __getstate__, "__deepcopy__": __deepcopy__})


def _add_property(module: Module, tensor_name: str) -> None:
    """``module.<tensor_name>``: the parametrized tensor (cached inside ``cached()``);
    assigning stores the value through the ``right_inverse``\\ s."""

    def get_parametrized(self: Module) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_depth:
            return parametrization()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Parametrize ``module.<tensor_name>`` (a parameter, a buffer, or an already
    parametrized tensor: then ``parametrization`` is applied after the others).

    ``parametrization`` is a Module whose ``forward`` maps the stored tensor(s) to
    the tensor; an optional ``right_inverse(value)`` maps a value back (to one
    tensor or a sequence of them), at registration and at each assignment. Unless
    ``unsafe``, the result's dtype and shape must be the tensor's (ValueError).
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            _check_result(parametrization(current), current.dtype, current.shape,
                          "Registering a parametrization")
            if hasattr(parametrization, "right_inverse"):
                _check_result(parametrization.right_inverse(current), current.dtype,
                              current.shape, "right_inverse")
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if not isinstance(original, Tensor):
            raise ValueError(f"Module '{type(module).__name__}' holds '{tensor_name}' as a "
                             f"{type(original).__name__}; only a Tensor can be parametrized")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            module.__class__ = _parametrized_class(type(module))
            module.parametrizations = ModuleDict()
        _add_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo every parametrization of ``module.<tensor_name>``: it becomes a plain
    parameter (or buffer) again, holding the parametrized value when
    ``leave_parametrized`` (the same object as ``original``, so an optimizer that
    held it goes on), else ``original``."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with grad_mode.no_grad():
                _set_values(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = (Parameter(value._data.copy(), True) if value.requires_grad
                    else value.detach())
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module
