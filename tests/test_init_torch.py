"""The rest of nn.init (issue 16): eye_, dirac_, trunc_normal_, orthogonal_ and
generator=, against PyTorch's values (tests/data/torchns_vectors.npz) where they
are deterministic, against the distribution's defining property where not; and
every init writes into the parameter's own array, which an optimizer sees."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.nn import init

VECTORS = np.load(Path(__file__).parent / "data" / "torchns_vectors.npz")


def key(prefix: str, *parts: object) -> str:
    return "_".join([prefix, *(str(p) for p in parts)]).replace(".", "p")


@pytest.mark.parametrize("shape", [(3, 5), (4, 2), (3, 3)])
def test_eye_matches_torch(shape: tuple) -> None:
    weight = nn.Parameter(np.full(shape, 9.0, np.float32))
    assert init.eye_(weight) is weight
    np.testing.assert_array_equal(weight.numpy(), VECTORS[key("init_eye", *shape)])


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((4, 4, 3, 3), 2),
                                           ((2, 3, 1, 3, 3), 1), ((6, 2, 2, 2), 3)])
def test_dirac_matches_torch_and_makes_conv_the_identity(shape: tuple, groups: int) -> None:
    weight = nn.Parameter(np.full(shape, 9.0, np.float32))
    assert init.dirac_(weight, groups) is weight
    np.testing.assert_array_equal(weight.numpy(), VECTORS[key("init_dirac", *shape, "g", groups)])


def test_dirac_conv2d_passes_the_input_through() -> None:
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    init.dirac_(conv.weight)
    x = minidl.randn(2, 3, 5, 5)
    np.testing.assert_allclose(conv(x).numpy(), x.numpy(), atol=1e-6)


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                         ("tanh", None), ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(name: str, param: float | None) -> None:
    assert init.calculate_gain(name, param) == pytest.approx(float(VECTORS[key("gain", name,
                                                                               param)]))


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(nn.Parameter(np.zeros((2, 2, 2))))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(nn.Parameter(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(nn.Parameter(np.zeros((3, 1, 3))), groups=2)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(nn.Parameter(np.zeros(3)), a=1.0, b=0.0)
    with pytest.raises(ValueError, match="too far in the tail"):
        init.trunc_normal_(nn.Parameter(np.zeros(3)), a=30.0, b=31.0)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 2, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple) -> None:
    weight = nn.Parameter(np.zeros(shape, np.float64))
    init.orthogonal_(weight, gain=2.0)
    flat = weight.numpy().reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-12)


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments() -> None:
    weight = nn.Parameter(np.zeros(200_000, np.float64))
    init.trunc_normal_(weight, mean=1.0, std=2.0, a=-1.0, b=3.0,
                       generator=minidl.Generator().manual_seed(0))
    values = weight.numpy()
    assert values.min() >= -1.0 and values.max() <= 3.0
    # N(1, 2^2) truncated to [-1, 3] is symmetric about 1, with variance
    # 4 (1 - 2 alpha phi(alpha) / (2 Phi(alpha) - 1)), alpha = 1 (the bounds are mean +- std)
    from math import erf, exp, pi, sqrt
    alpha = 1.0
    phi, Phi = exp(-alpha ** 2 / 2) / sqrt(2 * pi), 0.5 * (1 + erf(alpha / sqrt(2)))
    variance = 4 * (1 - 2 * alpha * phi / (2 * Phi - 1))
    assert abs(values.mean() - 1.0) < 0.01 and abs(values.var() - variance) < 0.01


INITS = {
    "uniform_": lambda t, g: init.uniform_(t, -1, 1, generator=g),
    "normal_": lambda t, g: init.normal_(t, generator=g),
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, generator=g),
    "xavier_uniform_": lambda t, g: init.xavier_uniform_(t, generator=g),
    "xavier_normal_": lambda t, g: init.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: init.kaiming_uniform_(t, generator=g),
    "kaiming_normal_": lambda t, g: init.kaiming_normal_(t, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
}


@pytest.mark.parametrize("name", INITS)
def test_generator_repeats_and_the_optimizer_sees_the_values(name: str) -> None:
    model = nn.Linear(4, 3)
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1)
    array = model.weight.numpy()
    assert INITS[name](model.weight, minidl.Generator().manual_seed(3)) is model.weight
    assert model.weight.numpy() is array, "written into the flat buffer's view"
    first = array.copy()
    INITS[name](model.weight, minidl.Generator().manual_seed(3))
    np.testing.assert_array_equal(model.weight.numpy(), first)
    model.weight.grad = np.ones((3, 4), np.float32)
    optimizer.step()
    np.testing.assert_allclose(model.weight.numpy(), first - 0.1, rtol=1e-6)
