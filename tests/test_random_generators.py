"""minidl.Generator and generator= on the random functions (issue 16): the same
seed gives the same values, each function draws from the distribution it names,
and its arguments follow PyTorch's signatures."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F


def seeded(seed: int = 0) -> minidl.Generator:
    return minidl.Generator().manual_seed(seed)


DRAWS = {
    "rand": lambda g: minidl.rand(3, 4, generator=g),
    "randn": lambda g: minidl.randn((3, 4), generator=g),
    "randint": lambda g: minidl.randint(0, 10, (3, 4), generator=g),
    "randperm": lambda g: minidl.randperm(12, generator=g),
    "normal": lambda g: minidl.normal(2.0, 3.0, (3, 4), generator=g),
    "normal_tensors": lambda g: minidl.normal(minidl.zeros(3), minidl.ones(3), generator=g),
    "bernoulli": lambda g: minidl.bernoulli(minidl.full((3, 4), 0.5), generator=g),
    "multinomial": lambda g: minidl.multinomial(minidl.ones(2, 6), 4, generator=g),
    "rand_like": lambda g: minidl.rand_like(minidl.zeros(5), generator=g),
    "randn_like": lambda g: minidl.randn_like(minidl.zeros(5), generator=g),
    "randint_like": lambda g: minidl.randint_like(minidl.zeros(5), 3, 9, generator=g),
}


@pytest.mark.parametrize("name", DRAWS)
def test_the_same_seed_gives_the_same_values_and_leaves_the_global_one(name: str) -> None:
    draw = DRAWS[name]
    minidl.manual_seed(5)
    first = draw(seeded(1)).numpy()
    global_next = minidl.rand(3).numpy()
    minidl.manual_seed(5)
    assert np.array_equal(draw(seeded(1)).numpy(), first)
    assert np.array_equal(minidl.rand(3).numpy(), global_next), "the global one was not used"
    assert not np.array_equal(draw(seeded(2)).numpy(), first)


@pytest.mark.parametrize("name", DRAWS)
def test_without_a_generator_manual_seed_repeats_them(name: str) -> None:
    draw = DRAWS[name]
    minidl.manual_seed(3)
    first = draw(None).numpy()
    minidl.manual_seed(3)
    assert np.array_equal(draw(None).numpy(), first)


def test_generator_seed_initial_seed_and_state() -> None:
    g = minidl.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    seed = g.seed()
    assert g.initial_seed() == seed and seed >= 0
    state = g.get_state()
    assert state.dtype == np.uint8
    ahead = minidl.rand(4, generator=g).numpy()
    assert g.set_state(state) is g
    assert np.array_equal(minidl.rand(4, generator=g).numpy(), ahead)
    with pytest.raises(RuntimeError, match="set_state"):
        g.set_state(minidl.zeros(3, dtype=minidl.uint8))
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        g.manual_seed(-1)
    with pytest.raises(TypeError, match="minidl.Generator"):
        minidl.rand(2, generator=np.random.default_rng(0))
    assert minidl.manual_seed(7) is minidl.default_generator
    assert minidl.initial_seed() == 7


def test_shapes_dtypes_and_ranges() -> None:
    g = seeded()
    assert minidl.rand(2, 3, generator=g).dtype == np.float32
    assert minidl.randn(2, dtype=minidl.float64, generator=g).dtype == np.float64
    ints = minidl.randint(3, 7, (1000,), generator=g).numpy()
    assert ints.dtype == np.int64 and ints.min() == 3 and ints.max() == 6
    assert minidl.randint(5, (2, 2), generator=g).numpy().max() < 5
    assert minidl.randint(low=2, high=4, size=(50,), generator=g).numpy().min() == 2
    assert minidl.randint(10, size=(3,), generator=g).shape == (3,)
    assert sorted(minidl.randperm(50, generator=g).tolist()) == list(range(50))
    assert minidl.randint_like(minidl.zeros(4, dtype=minidl.int32), 5).dtype == np.int32
    assert minidl.rand_like(minidl.zeros(2, dtype=minidl.float64)).dtype == np.float64
    assert minidl.rand(2, requires_grad=True).requires_grad


def test_moments_of_the_distributions() -> None:
    g, n = seeded(), 200_000
    uniform = minidl.rand(n, generator=g, dtype=minidl.float64).numpy()
    assert abs(uniform.mean() - 0.5) < 0.005 and 0 <= uniform.min() and uniform.max() < 1
    normal = minidl.normal(2.0, 3.0, (n,), generator=g).numpy()
    assert abs(normal.mean() - 2.0) < 0.05 and abs(normal.std() - 3.0) < 0.05
    coins = minidl.bernoulli(minidl.full((n,), 0.3), generator=g).numpy()
    assert set(np.unique(coins)) == {0.0, 1.0} and abs(coins.mean() - 0.3) < 0.005
    weights = minidl.tensor([1.0, 0.0, 3.0])
    picks = minidl.multinomial(weights, n, replacement=True, generator=g).numpy()
    assert picks.dtype == np.int64 and 1 not in picks
    assert abs((picks == 2).mean() - 0.75) < 0.01


def test_multinomial_without_replacement_draws_distinct_categories() -> None:
    g = seeded()
    rows = minidl.multinomial(minidl.ones(50, 6), 6, generator=g).numpy()
    assert rows.shape == (50, 6) and all(sorted(row) == list(range(6)) for row in rows)
    with pytest.raises(RuntimeError, match="cannot sample n_sample=3 without replacement"):
        minidl.multinomial(minidl.tensor([1.0, 1.0, 0.0]), 3)
    with pytest.raises(RuntimeError, match="inf, nan or element < 0"):
        minidl.multinomial(minidl.tensor([1.0, -1.0]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        minidl.multinomial(minidl.zeros(3), 1)


def test_normal_with_tensors_is_differentiable_in_mean_and_std() -> None:
    mean = minidl.zeros(4, dtype=minidl.float64, requires_grad=True)
    std = minidl.full((4,), 2.0, dtype=minidl.float64, requires_grad=True)
    out = minidl.normal(mean, std, generator=seeded(9))
    out.sum().backward()
    z = minidl.randn(4, dtype=minidl.float64, generator=seeded(9)).numpy()
    np.testing.assert_allclose(out.numpy(), 2.0 * z)
    np.testing.assert_allclose(mean.grad, np.ones(4))
    np.testing.assert_allclose(std.grad, z)
    with pytest.raises(RuntimeError, match="std >= 0"):
        minidl.normal(0.0, -1.0, (2,))


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="high must be greater than low"):
        minidl.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="randint"):
        minidl.randint(5)
    with pytest.raises(TypeError, match="floating-point"):
        minidl.rand(2, dtype=minidl.int64)
    with pytest.raises(RuntimeError, match="probabilities must be in"):
        minidl.bernoulli(minidl.tensor([1.5]))
    with pytest.raises(RuntimeError, match="randperm"):
        minidl.randperm(-1)


def test_dropout_keeps_drawing_from_the_global_generator() -> None:
    x = minidl.ones(100)
    minidl.manual_seed(4)
    first = F.dropout(x, 0.5).numpy()
    minidl.manual_seed(4)
    minidl.rand(3, generator=seeded(0))   # an own generator leaves the global one alone
    assert np.array_equal(F.dropout(x, 0.5).numpy(), first)
    minidl.manual_seed(4)
    assert np.array_equal(nn.Dropout(0.5)(x).numpy(), first)
