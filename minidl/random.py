"""Seeded random generators for everything in minidl that draws numbers.

``manual_seed(s)`` reseeds the global generator, ``default_generator``, and so
makes ``randn``, ``rand``, weight initialisation, Dropout and shuffling
repeatable, as ``torch.manual_seed`` does. ``Generator()`` is a generator of
one's own, passed as ``generator=`` to the random functions, ``nn.init`` and
``utils.data``; the same seed gives the same values (not PyTorch's values: each
Generator draws from numpy's PCG64).
"""
from __future__ import annotations

import contextlib
import json
import threading
from typing import Any, Iterator

import numpy as np

from .tensor import Tensor

_local = threading.local()   # .generator: this thread's override inside ``seeded``


def _check_seed(op: str, seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{op}: seed must be a non-negative int, got {seed!r}")
    return int(seed)


class Generator:
    """A random number generator, as ``torch.Generator``: ``manual_seed``,
    ``seed``, ``initial_seed``, ``get_state`` and ``set_state``."""

    def __init__(self, device: Any = "cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: minidl's generators live on the cpu, "
                               f"not on {device!r}")
        self.device = device
        self.seed()

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed``; returns this generator."""
        self._initial_seed = _check_seed("manual_seed", seed)
        self._rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Restart from a fresh seed drawn from the operating system; returns it."""
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed of the last ``manual_seed`` or ``seed``."""
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The whole state as a uint8 Tensor (the bytes of numpy's bit generator state)."""
        state = {"seed": self._initial_seed, "bit_generator": self._rng.bit_generator.state}
        return Tensor(np.frombuffer(json.dumps(state).encode(), np.uint8).copy(), dtype=np.uint8)

    def set_state(self, new_state: Any) -> Generator:
        """Go back to a state that ``get_state`` returned; returns this generator."""
        try:
            state = json.loads(np.asarray(new_state, dtype=np.uint8).tobytes())
            rng = np.random.default_rng()
            rng.bit_generator.state = state["bit_generator"]
        except (ValueError, TypeError, KeyError):
            raise RuntimeError("set_state: new_state is not a state that "
                               "Generator.get_state returned") from None
        self._initial_seed, self._rng = int(state["seed"]), rng
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed minidl's global generator and return it."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The global generator's initial seed."""
    return default_generator.initial_seed()


def seed() -> int:
    """Reseed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def get_rng_state() -> Tensor:
    """The global generator's state, a uint8 Tensor for ``set_rng_state`` (the bytes of
    numpy's bit generator state, not PyTorch's Mersenne Twister state)."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the global generator to a state that ``get_rng_state`` returned."""
    default_generator.set_state(new_state)


def generator(own: Generator | None = None) -> np.random.Generator:
    """The numpy generator to draw from: ``own``'s when one is given, else this
    thread's inside ``seeded``, else the global one's."""
    if own is not None:
        if not isinstance(own, Generator):
            raise TypeError(f"generator must be a minidl.Generator, not {type(own).__name__}")
        return own._rng
    override = getattr(_local, "generator", None)
    return default_generator._rng if override is None else override


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[np.random.Generator]:
    """Inside the block this thread draws from its own ``default_rng(seed)``; the
    global generator, and every other thread, are left as they were."""
    previous = getattr(_local, "generator", None)
    _local.generator = np.random.default_rng(seed)
    try:
        yield _local.generator
    finally:
        _local.generator = previous
