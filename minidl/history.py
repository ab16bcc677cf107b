"""``History``: what ``fit`` and ``OptimizerStats`` record, one value per epoch and key."""
from __future__ import annotations

import numpy as np

__all__ = ["History", "best_mode"]


class History:
    """What ``fit`` measured: one list per key, one value per epoch.

    Keys are ``loss``, each metric, and with validation data ``val_loss`` and
    ``val_<metric>``. Read them as ``history["loss"]`` or ``history.loss``.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}

    def append(self, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.history.get("loss", []))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            keys = ", ".join(self.history) or "nothing"
            raise KeyError(f"History has no {key!r}; it has {keys}")
        return self.history[key]

    def __getattr__(self, key: str) -> list[float]:
        if key.startswith("_") or key == "history":
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError as error:
            raise AttributeError(error.args[0]) from None

    def keys(self) -> list[str]:
        return list(self.history)

    def best(self, key: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """(1-based epoch, value) of the best ``key``: lowest, or highest for
        accuracy and r2 (``mode`` "min" | "max" | "auto")."""
        values = self[key]
        if not values:
            raise ValueError(f"History has no values of {key!r} yet")
        index = int(np.argmax(values) if best_mode(key, mode) == "max" else np.argmin(values))
        return index + 1, values[index]

    def __repr__(self) -> str:
        last = ", ".join(f"{key}={values[-1]:.4g}" for key, values in self.history.items())
        return f"History(epochs={self.epochs}{', ' if last else ''}{last})"


def best_mode(key: str, mode: str) -> str:
    """Whether the best ``key`` is its "min" or its "max": ``mode`` itself, or for
    "auto" the max for accuracy and r2 (and their ``val_`` forms), else the min."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"Invalid mode: {mode!r}; expected 'auto', 'min' or 'max'")
    if mode != "auto":
        return mode
    return "max" if key.removeprefix("val_") in ("accuracy", "r2") else "min"
