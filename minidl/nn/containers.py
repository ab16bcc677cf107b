"""ModuleList and ModuleDict: sub-modules held in a list or a dict, registered
so that ``parameters()``, ``state_dict()`` (keys ``0.weight``, ``encoder.bias``),
``train()``/``eval()`` and the repr see them. Neither has a ``forward``: the
model that holds one decides how its modules are called.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from .module import Module


def _checked(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} takes Modules, got {type(module).__name__} {module!r}")
    return module


class ModuleList(Module):
    """A list of Modules, named ``0, 1, 2, ...`` in order (renumbered after a delete)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"ModuleList indices must be ints or slices, not "
                            f"{type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ModuleList of "
                             f"length {len(self)}")
        return index % len(self)

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for index, module in enumerate(modules):
            self._modules[str(index)] = module

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[str(self._index(index))] = _checked(module, "ModuleList")

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else self._index(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        self._modules[str(len(self))] = _checked(module, "ModuleList.append")
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(f"ModuleList.extend takes an iterable of Modules, got a "
                            f"{type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _checked(module, "ModuleList.insert"))
        self._renumber(modules)

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
        if not lines:
            return "ModuleList()"
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of Modules under string keys (no '.' in a key)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; it has {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__} {key!r}")
        if not key or "." in key:
            raise KeyError(f"Invalid ModuleDict key: {key!r} (a non-empty string without '.')")
        self._modules[key] = _checked(module, "ModuleDict")

    def __delitem__(self, key: str) -> None:
        self.pop(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules.keys())

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries, in the order given."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleDict):
            raise TypeError(f"ModuleDict.update takes a mapping or (key, Module) pairs, "
                            f"got a {type(modules).__name__}")
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update takes (key, Module) pairs, got {pair!r}")
            self[pair[0]] = pair[1]
