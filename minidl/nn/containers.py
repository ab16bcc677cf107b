"""ModuleList and ModuleDict: sub-modules held in a list or a dict, registered
so that ``parameters()``, ``state_dict()`` (keys ``0.weight``, ``encoder.bias``),
``train()``/``eval()`` and the repr see them. ParameterList and ParameterDict do the
same for Parameters (keys ``0``, ``1`` or the dict's), so an optimizer built from
``model.parameters()`` holds them. None has a ``forward``: the model that holds one
decides how its entries are used.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from ..tensor import Tensor
from .module import Module, Parameter


def _checked(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} takes Modules, got {type(module).__name__} {module!r}")
    return module


class _Container(Module):
    """Entries kept in one of the Module's registries (``registry``: Modules in
    ``_modules`` by default), each value passed through ``_entry``."""

    registry = "_modules"
    holds = "Module"

    def _entries(self) -> dict[str, Any]:
        return self.__dict__[self.registry]

    def _entry(self, value: Any) -> Any:
        return _checked(value, type(self).__name__)


class _List(_Container):
    """A list of entries named ``0, 1, 2, ...`` in order (renumbered after a delete or an
    insert)."""

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, index: Any) -> int:
        name = type(self).__name__
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"{name} indices must be ints or slices, not "
                            f"{type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a {name} of "
                             f"length {len(self)}")
        return index % len(self)

    def _renumber(self, values: list[Any]) -> None:
        self._entries().clear()
        for index, value in enumerate(values):
            self._entries()[str(index)] = value

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(list(self)[index])
        return self._entries()[str(self._index(index))]

    def __setitem__(self, index: int, value: Any) -> None:
        self._entries()[str(self._index(index))] = self._entry(value)

    def __delitem__(self, index: int | slice) -> None:
        values = list(self)
        del values[index if isinstance(index, slice) else self._index(index)]
        self._renumber(values)

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._entries().values()))

    def __iadd__(self, values: Iterable[Any]) -> Any:
        return self.extend(values)

    def __add__(self, other: Iterable[Any]) -> Any:
        return type(self)([*self, *other])

    def append(self, value: Any) -> Any:
        self._entries()[str(len(self))] = self._entry(value)
        return self

    def extend(self, values: Iterable[Any]) -> Any:
        if isinstance(values, (Module, Tensor)) and not isinstance(values, _List):
            raise TypeError(f"{type(self).__name__}.extend takes an iterable of "
                            f"{self.holds}s, got a {type(values).__name__}")
        entries = [self._entry(value) for value in values]   # all checked before any is added
        for entry in entries:
            self._entries()[str(len(self))] = entry
        return self

    def insert(self, index: int, value: Any) -> None:
        values = list(self)
        values.insert(index, self._entry(value))
        self._renumber(values)


class ModuleList(_List):
    """A list of Modules, named ``0, 1, 2, ...`` in order (renumbered after a delete)."""

    def __repr__(self) -> str:
        """As PyTorch: a run of identical children prints once, ``(0-2): 3 x Linear(...)``."""
        lines, children = [], [repr(child).replace("\n", "\n  ") for child in self]
        start = 0
        while start < len(children):
            stop = start + 1
            while stop < len(children) and children[stop] == children[start]:
                stop += 1
            label = f"({start})" if stop - start == 1 else f"({start}-{stop - 1}): {stop - start} x"
            lines.append(f"{label}{':' if stop - start == 1 else ''} {children[start]}")
            start = stop
        name = type(self).__name__   # a subclass prints its own name, as in PyTorch
        if not lines:
            return f"{name}()"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


class _Dict(_Container):
    """An ordered dict of entries under string keys (no '.' in a key)."""

    def __init__(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None):
        super().__init__()
        if entries is not None:
            self.update(entries)

    def __getitem__(self, key: str) -> Any:
        if key not in self._entries():
            raise KeyError(f"{type(self).__name__} has no key {key!r}; it has "
                           f"{list(self._entries())}")
        return self._entries()[key]

    def _check_key(self, key: Any) -> None:
        name = type(self).__name__
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings, got {type(key).__name__} {key!r}")
        if not key or "." in key:
            raise KeyError(f"Invalid {name} key: {key!r} (a non-empty string without '.')")

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_key(key)
        self._entries()[key] = self._entry(value)

    def __delitem__(self, key: str) -> None:
        self.pop(key)

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries()))

    def __contains__(self, key: object) -> bool:
        return key in self._entries()

    def keys(self) -> list[str]:
        return list(self._entries().keys())

    def values(self) -> list[Any]:
        return list(self._entries().values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._entries().items())

    def pop(self, key: str) -> Any:
        value = self[key]
        del self._entries()[key]
        return value

    def clear(self) -> None:
        self._entries().clear()

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace entries, in the order given."""
        name = type(self).__name__
        if isinstance(entries, (Module, Tensor)) and not isinstance(entries, _Dict):
            raise TypeError(f"{name}.update takes a mapping or (key, {self.holds}) pairs, "
                            f"got a {type(entries).__name__}")
        pairs = list(entries.items() if isinstance(entries, (Mapping, _Dict)) else entries)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"{name}.update takes (key, {self.holds}) pairs, got {pair!r}")
        checked = {}                                  # all checked before any is added
        for key, value in pairs:
            self._check_key(key)
            checked[key] = self._entry(value)
        self._entries().update(checked)


class ModuleDict(_Dict):
    """An ordered dict of Modules under string keys (no '.' in a key)."""


def _as_parameter(value: Any, where: str) -> Parameter:
    """A Parameter as it is; a Tensor made a Parameter (sharing its array), as PyTorch."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{where} holds Tensors (made Parameters), got {type(value).__name__} "
                    f"{value!r}")


def _parameters_repr(name: str, entries: Iterable[tuple[str, Parameter]]) -> str:
    """PyTorch's ``(key): Parameter containing: [float32 of size 3x4]`` lines."""
    lines = [f"({key}): Parameter containing: [{p.dtype} of size "
             f"{'x'.join(map(str, p.shape))}]" for key, p in entries]
    return f"{name}(\n    " + "\n    ".join(lines) + "\n)" if lines else f"{name}()"


class ParameterList(_List):
    """A list of Parameters, named ``0, 1, 2, ...`` in order; a Tensor becomes a
    Parameter."""

    registry, holds = "_parameters", "Tensor"

    def _entry(self, value: Any) -> Parameter:
        return _as_parameter(value, "ParameterList")

    def __repr__(self) -> str:
        return _parameters_repr("ParameterList", self._parameters.items())


class ParameterDict(_Dict):
    """An ordered dict of Parameters under string keys (no '.' in a key); a Tensor
    becomes a Parameter."""

    registry, holds = "_parameters", "Tensor"

    def _entry(self, value: Any) -> Parameter:
        return _as_parameter(value, "ParameterDict")

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Parameter:
        if key not in self:
            self[key] = default
        return self[key]

    def __repr__(self) -> str:
        return _parameters_repr("ParameterDict", self._parameters.items())
