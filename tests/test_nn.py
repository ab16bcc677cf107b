"""minidl.nn: Module bookkeeping, layers (values and finite-difference gradients),
initialisation, and the functional forms."""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Callable

import numpy as np
import pytest

import minidl
from minidl.versions import Version
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.nn import init


def leaf(array: np.ndarray) -> minidl.Tensor:
    return minidl.tensor(array, requires_grad=True, dtype=np.float64)


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def with_parameters(module: nn.Module, names: list[str]) -> Callable[..., minidl.Tensor]:
    """fn(x, *params) = module(x) run with ``params`` in place of the named parameters.

    gradcheck hands fn float64 copies of its inputs, so the module must use those
    copies for the gradient to reach them.
    """
    def fn(x: minidl.Tensor, *params: minidl.Tensor) -> minidl.Tensor:
        saved = dict(module._parameters)
        module._parameters.update(zip(names, params))
        try:
            return module(x)
        finally:
            module._parameters.update(saved)
    return fn


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.norm = nn.BatchNorm1d(1)

    def forward(self, x: minidl.Tensor) -> minidl.Tensor:
        return self.norm(self.layers(x) * self.scale)


# -- Module bookkeeping -----------------------------------------------------------
def test_named_parameters_use_dotted_names_in_registration_order() -> None:
    model = TwoLayer()
    assert [name for name, _ in model.named_parameters()] == [
        "scale", "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
        "norm.weight", "norm.bias"]
    assert [p.shape for p in model.parameters()] == [(1,), (3, 2), (3,), (1, 3), (1,), (1,), (1,)]
    assert [name for name, _ in model.named_children()] == ["layers", "norm"]
    assert list(model.children()) == [model.layers, model.norm]
    assert [type(m).__name__ for m in model.modules()] == [
        "TwoLayer", "Sequential", "Linear", "Tanh", "Linear", "BatchNorm1d"]
    assert [name for name, _ in model.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameter_is_listed_once() -> None:
    first = nn.Linear(2, 2)
    second = nn.Linear(2, 2)
    second.weight = first.weight
    model = nn.Sequential(first, second)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_buffers_are_saved_but_not_trained() -> None:
    module = nn.Module()
    module.register_buffer("steps", np.zeros(2))
    module.weight = nn.Parameter(np.ones(3))
    assert [name for name, _ in module.named_parameters()] == ["weight"]
    assert list(module.state_dict()) == ["weight", "steps"]
    module.steps = np.array([1.0, 2.0])
    np.testing.assert_array_equal(module.state_dict()["steps"], [1.0, 2.0])
    with pytest.raises(KeyError, match="already exists"):
        module.register_buffer("weight", np.zeros(1))
    with pytest.raises(KeyError, match="Invalid buffer name: 'a.b'"):
        module.register_buffer("a.b", np.zeros(1))


def test_assigning_a_non_parameter_to_a_parameter_name_raises() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = np.zeros((2, 2))
    layer.bias = None
    assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Forgetful(nn.Module):
            def __init__(self) -> None:
                self.w = nn.Parameter(np.ones(1))
        Forgetful()


def test_train_and_eval_propagate_to_every_module() -> None:
    model = TwoLayer()
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 6
    model.layers.train()
    assert [m.training for m in model.modules()] == [False, True, True, True, True, False]
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="Invalid training mode: 'no'"):
        model.train("no")


def test_zero_grad() -> None:
    layer = nn.Linear(3, 2)
    layer(minidl.randn(4, 3)).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(layer.weight.grad, np.zeros((2, 3)))
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_forward_must_be_defined() -> None:
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


# -- state_dict and load_state_dict --------------------------------------------
def test_state_dict_round_trip_copies_into_existing_arrays() -> None:
    minidl.manual_seed(0)
    source = TwoLayer()
    source(minidl.randn(8, 2))
    state = source.state_dict()
    assert list(state) == ["scale", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                           "layers.2.bias", "norm.weight", "norm.bias", "norm.running_mean",
                           "norm.running_var", "norm.num_batches_tracked"]
    state["scale"][0] = 2.0
    assert source.scale.numpy()[0] == 1.0, "state_dict must hold copies"
    source.scale.data[0] = 2.0

    target = TwoLayer()
    arrays = [p.numpy() for p in target.parameters()] + list(target.buffers())
    assert target.load_state_dict(state) == ([], [])
    assert all(a is b for a, b in zip(arrays, [p.numpy() for p in target.parameters()]
                                      + list(target.buffers())))
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    assert int(target.norm.num_batches_tracked) == 1
    x = minidl.randn(5, 2)
    source.eval(), target.eval()
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


class FlatBufferOwner:
    """The optimizer side of Tensor._bind: records which tensors were assigned."""

    def __init__(self) -> None:
        self.assigned: list[minidl.Tensor] = []

    def data_assigned(self, tensor: minidl.Tensor) -> None:
        self.assigned.append(tensor)

    def grad_arrived(self, tensor: minidl.Tensor) -> None:
        pass


def test_load_state_dict_writes_into_an_optimizer_flat_buffer() -> None:
    layer = nn.Linear(2, 3)
    flat_data, flat_grad = np.zeros(9, dtype=np.float32), np.zeros(9, dtype=np.float32)
    owner = FlatBufferOwner()
    layer.weight._bind(flat_data[:6].reshape(3, 2), flat_grad[:6].reshape(3, 2), owner, Version())
    layer.bias._bind(flat_data[6:], flat_grad[6:], owner, Version())
    state = {"weight": np.arange(6.0).reshape(3, 2), "bias": np.array([7.0, 8.0, 9.0])}
    layer.load_state_dict(state)
    np.testing.assert_array_equal(flat_data, np.arange(10.0)[[0, 1, 2, 3, 4, 5, 7, 8, 9]])
    assert owner.assigned == [layer.weight, layer.bias]


def test_strict_load_names_missing_unexpected_and_mismatched_keys() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    before = model.state_dict()
    state = model.state_dict()
    del state["2.bias"]
    state["0.weight"] = np.zeros((4, 2))
    state["3.weight"] = np.zeros(1)
    state["0.bias"] = np.full(3, 5.0)
    with pytest.raises(RuntimeError) as raised:   # PyTorch's type and text
        model.load_state_dict(state)
    assert isinstance(raised.value, ValueError), "and the ValueError minidl raised before"
    assert str(raised.value) == (
        'Error(s) in loading state_dict for Sequential:\n'
        '\tMissing key(s) in state_dict: "2.bias". \n'
        '\tUnexpected key(s) in state_dict: "3.weight". \n'
        '\tsize mismatch for 0.weight: copying a param with shape (4, 2) from checkpoint, '
        'the shape in current model is (3, 2).')
    np.testing.assert_array_equal(model[0].bias.numpy(), before["0.bias"]), "nothing copied"


def test_load_refuses_a_dtype_it_cannot_cast_and_copies_nothing() -> None:
    norm = nn.BatchNorm1d(2)
    state = norm.state_dict()
    state["weight"] = np.full(2, 7.0)
    state["num_batches_tracked"] = np.array(2.5)
    with pytest.raises(ValueError, match="dtype mismatch for num_batches_tracked: the "
                                         "checkpoint holds float64.*module's int64"):
        norm.load_state_dict(state)
    np.testing.assert_array_equal(norm.weight.numpy(), np.ones(2))


def test_non_strict_load_returns_missing_and_unexpected() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    state = {"0.bias": np.ones(3), "5.weight": np.ones(2)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["0.weight", "2.weight", "2.bias"]
    assert unexpected == ["5.weight"]
    np.testing.assert_array_equal(model[0].bias.numpy(), np.ones(3))
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.bias: copying a param "
                                           r"with shape \(2,\)"):
        model.load_state_dict({"0.bias": np.ones(2)}, strict=False)


# -- repr -----------------------------------------------------------------------------
def test_repr_matches_pytorch_layout() -> None:
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Sequential(nn.Dropout(0.25)),
                          nn.Linear(32, 2, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=32, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.25, inplace=False)\n"
        "  )\n"
        "  (3): Linear(in_features=32, out_features=2, bias=False)\n"
        ")")
    assert repr(nn.BatchNorm1d(4)) == (
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)")
    assert repr(nn.Parameter(np.array([1.0, 2.0], dtype=np.float32))) == (
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)")


def test_parameter_defaults() -> None:
    p = nn.Parameter(np.arange(3))
    assert p.requires_grad and p.dtype == np.float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    t = minidl.tensor([1.0, 2.0])
    assert nn.Parameter(t).numpy() is t.numpy()


# -- Sequential -------------------------------------------------------------------------
def test_sequential_indexing_and_iteration() -> None:
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert list(model[1:]) == layers[1:]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    with pytest.raises(TypeError, match="Sequential takes Modules, got int"):
        nn.Sequential(nn.ReLU(), 3)
    named = nn.Sequential(OrderedDict(hidden=layers[0], out=layers[2]))
    assert [name for name, _ in named.named_parameters()][:2] == ["hidden.weight", "hidden.bias"]
    x = minidl.randn(4, 2)
    np.testing.assert_allclose(model(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())


# -- Linear -------------------------------------------------------------------------------
def test_linear_init_is_pytorch_uniform_and_seeded() -> None:
    minidl.manual_seed(3)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert layer.weight.shape == (300, 400) and layer.weight.dtype == np.float32
    for values in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.95 * bound
    assert abs(layer.weight.numpy().std() - bound / math.sqrt(3)) < 0.01 * bound
    minidl.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.numpy(), layer.weight.numpy())


def test_linear_forward_and_validation() -> None:
    layer = nn.Linear(3, 2, dtype=np.float64)
    x = normal(4, 3)
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(leaf(x)).numpy(), expected)
    np.testing.assert_allclose(F.linear(leaf(x), layer.weight, layer.bias).numpy(), expected)
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match="Invalid in_features: 0"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="Invalid out_features: 2.5"):
        nn.Linear(3, 2.5)


# -- gradient checks ----------------------------------------------------------------------
def test_with_parameters_runs_the_module_on_the_given_tensors() -> None:
    layer = nn.Linear(3, 2, dtype=np.float64)
    weight = layer.weight
    out = with_parameters(layer, ["weight", "bias"])(leaf(normal(4, 3)), leaf(np.zeros((2, 3))),
                                                     leaf(np.ones(2)))
    np.testing.assert_array_equal(out.numpy(), np.ones((4, 2)))
    assert layer.weight is weight


LINEAR_INPUT_SHAPES = [(3,), (5, 3), (2, 4, 3), (0, 3)]


@pytest.mark.parametrize("shape", LINEAR_INPUT_SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_values_for_any_leading_axes(shape: tuple[int, ...], bias: bool) -> None:
    layer = nn.Linear(3, 4, bias=bias, dtype=np.float64)
    x = normal(*shape)
    expected = np.einsum("...i,oi->...o", x, layer.weight.numpy())
    if bias:
        expected = expected + layer.bias.numpy()
    out = layer(leaf(x))
    assert out.shape == shape[:-1] + (4,)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", LINEAR_INPUT_SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_linear_gradients(shape: tuple[int, ...], bias: bool, input_requires_grad: bool) -> None:
    layer = nn.Linear(3, 4, bias=bias, dtype=np.float64)
    names = ["weight", "bias"] if bias else ["weight"]
    x = minidl.tensor(normal(*shape), requires_grad=input_requires_grad, dtype=np.float64)
    minidl.gradcheck(with_parameters(layer, names), x, *(getattr(layer, n) for n in names))


def test_linear_gradients_reach_only_what_requires_grad() -> None:
    weight = minidl.tensor(normal(4, 3), dtype=np.float64)
    bias = leaf(normal(4))
    x = leaf(normal(2, 5, 3))
    F.linear(x, weight, bias).sum().backward()
    assert weight.grad is None
    np.testing.assert_allclose(bias.grad, np.full(4, 10.0))
    np.testing.assert_allclose(x.grad, np.broadcast_to(weight.numpy().sum(axis=0), (2, 5, 3)))


def test_linear_keeps_float32_for_array_and_integer_input() -> None:
    layer = nn.Linear(2, 3)
    integers = np.arange(4).reshape(2, 2)
    expected = integers @ layer.weight.numpy().T.astype(np.float64) + layer.bias.numpy()
    for x in (integers, minidl.tensor(integers), integers.astype(np.float32)):
        out = layer(x)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    layer(minidl.tensor(integers)).sum().backward()
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32


def test_linear_rejects_mismatched_shapes() -> None:
    weight, x = minidl.randn(4, 3), minidl.randn(5, 3)
    with pytest.raises(ValueError, match=r"input of shape \(5, 2\) does not match weight of "
                                         r"shape \(4, 3\).*last dimension must be 3"):
        F.linear(minidl.randn(5, 2), weight)
    with pytest.raises(ValueError, match=r"input of shape \(\) does not match"):
        F.linear(minidl.tensor(1.0), weight)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\).*got shape \(1,\)"):
        F.linear(x, weight, minidl.randn(1))
    with pytest.raises(ValueError, match=r"weight must have shape \(out, in\), got shape \(3,\)"):
        F.linear(x, minidl.randn(3))


@pytest.mark.parametrize("layer", [
    nn.ReLU(), nn.LeakyReLU(0.2), nn.Tanh(), nn.Sigmoid(), nn.GELU(), nn.GELU("tanh"),
    nn.Softmax(), nn.Softmax(dim=0), nn.Identity(), nn.Flatten(), nn.Flatten(0, 1),
], ids=repr)
def test_activation_and_shape_layer_gradients(layer: nn.Module) -> None:
    minidl.gradcheck(layer, leaf(normal(3, 4, 2)))


def test_dropout_gradient_with_a_fixed_mask() -> None:
    dropout = nn.Dropout(0.3)

    def seeded(x: minidl.Tensor) -> minidl.Tensor:
        minidl.manual_seed(11)
        return dropout(x)
    minidl.gradcheck(seeded, leaf(normal(6, 5)))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(shape: tuple[int, ...], training: bool) -> None:
    norm = nn.BatchNorm1d(3, dtype=np.float64)
    norm.weight.data = normal(3, seed=1)
    norm.bias.data = normal(3, seed=2)
    norm.running_mean[:] = normal(3, seed=3)
    norm.running_var[:] = 1 + normal(3, seed=4) ** 2
    norm.train(training)
    minidl.gradcheck(with_parameters(norm, ["weight", "bias"]),
                     leaf(normal(*shape)), norm.weight, norm.bias)


# -- Dropout --------------------------------------------------------------------------------
def test_dropout_is_seeded_inverted_and_identity_in_eval() -> None:
    dropout = nn.Dropout(0.25)
    x = minidl.ones(200, 100)
    minidl.manual_seed(5)
    first = dropout(x).numpy()
    minidl.manual_seed(5)
    np.testing.assert_array_equal(dropout(x).numpy(), first)
    assert set(np.unique(first)) == {0.0, np.float32(1 / 0.75)}
    assert abs((first == 0).mean() - 0.25) < 0.01
    dropout.eval()
    assert dropout(x) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((200, 100)))
    assert F.dropout(x, 0.0) is x


@pytest.mark.parametrize("p", [-0.1, 1.5, "half", True])
def test_dropout_probability_is_validated(p: object) -> None:
    with pytest.raises(ValueError, match=f"p={p!r}"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=f"p={p!r}"):
        F.dropout(minidl.ones(2), p)


# -- BatchNorm1d -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 3), (8, 3, 4)])
def test_batchnorm_running_stats_follow_the_pytorch_update(shape: tuple[int, ...]) -> None:
    norm = nn.BatchNorm1d(3, momentum=0.2, dtype=np.float64)
    axes = (0,) if len(shape) == 2 else (0, 2)
    n = math.prod(shape) // 3
    mean, var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = 2.0 + 3.0 * normal(*shape, seed=step)
        out = norm(leaf(x)).numpy()
        batch_mean, batch_var = x.mean(axis=axes), x.var(axis=axes)
        mean = 0.8 * mean + 0.2 * batch_mean
        var = 0.8 * var + 0.2 * batch_var * n / (n - 1)
        bshape = (1, 3) + (1,) * (len(shape) - 2)
        np.testing.assert_allclose(
            out, (x - batch_mean.reshape(bshape)) / np.sqrt(batch_var.reshape(bshape) + 1e-5))
    np.testing.assert_allclose(norm.running_mean, mean)
    np.testing.assert_allclose(norm.running_var, var)
    assert int(norm.num_batches_tracked) == 3

    norm.eval()
    x = normal(*shape, seed=9)
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(norm(leaf(x)).numpy(),
                               (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5))
    assert int(norm.num_batches_tracked) == 3


def test_batchnorm_cumulative_average_and_untracked() -> None:
    norm = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [normal(5, 2, seed=s) for s in range(4)]
    for x in batches:
        norm(leaf(x))
    np.testing.assert_allclose(norm.running_mean, np.mean([x.mean(axis=0) for x in batches], axis=0))
    np.testing.assert_allclose(norm.running_var,
                               np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0))

    untracked = nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype=np.float64)
    assert list(untracked.parameters()) == [] and untracked.state_dict() == {}
    untracked.eval()
    x = batches[0]
    np.testing.assert_allclose(untracked(leaf(x)).numpy(),
                               (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5))


def test_batchnorm_validation() -> None:
    with pytest.raises(ValueError, match="Invalid num_features: 0"):
        nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match="Invalid eps: -1"):
        nn.BatchNorm1d(2, eps=-1)
    with pytest.raises(ValueError, match="Invalid momentum: 1.5"):
        nn.BatchNorm1d(2, momentum=1.5)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 2\).*got shape \(4, 3\)"):
        nn.BatchNorm1d(2)(minidl.randn(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(2)(minidl.randn(1, 2))
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\).*got shape \(2,\)"):
        F.batch_norm(minidl.randn(4, 3), np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\).*got shape \(1,\)"):
        F.batch_norm(minidl.randn(4, 3), None, None, bias=minidl.zeros(1), training=True)


# -- init ------------------------------------------------------------------------------------
def test_calculate_gain() -> None:
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", np.float32(0.2)) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="Invalid negative_slope for leaky_relu: 'steep'"):
        init.calculate_gain("leaky_relu", "steep")
    with pytest.raises(ValueError, match="Unsupported nonlinearity: 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("initializer, expected_std", [
    (init.xavier_uniform_, math.sqrt(2 / (300 + 200))),
    (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / (300 + 200))),
    (init.kaiming_uniform_, math.sqrt(2) / math.sqrt(300)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2) / math.sqrt(200)),
])
def test_init_std_and_in_place(initializer: Callable, expected_std: float) -> None:
    weight = nn.Parameter(np.zeros((200, 300)))
    array = weight.numpy()
    assert initializer(weight) is weight
    assert weight.numpy() is array
    assert abs(weight.numpy().std() - expected_std) < 0.02 * expected_std
    assert abs(weight.numpy().mean()) < 0.02 * expected_std


def test_uniform_bounds_and_constants() -> None:
    weight = nn.Parameter(np.zeros((50, 60)))
    bound = math.sqrt(6 / 110)
    init.xavier_uniform_(weight)
    assert np.abs(weight.numpy()).max() <= bound and np.abs(weight.numpy()).max() > 0.95 * bound
    assert init.zeros_(weight) is weight and not weight.numpy().any()
    np.testing.assert_array_equal(init.ones_(weight).numpy(), np.ones((50, 60)))
    with pytest.raises(ValueError, match=r"at least 2 dimensions, not shape \(3,\)"):
        init.kaiming_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="Invalid mode: 'fan'"):
        init.kaiming_normal_(weight, mode="fan")


# -- functional --------------------------------------------------------------------------------
def test_functional_reexports_activations() -> None:
    x = leaf(normal(3, 4))
    np.testing.assert_allclose(F.relu(x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_allclose(F.softmax(x, axis=1).numpy().sum(axis=1), np.ones(3))
    np.testing.assert_allclose(F.log_softmax(x).numpy(), np.log(F.softmax(x).numpy()))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), np.where(x.numpy() > 0, x.numpy(), 0.1 * x.numpy()))
    np.testing.assert_allclose(nn.Flatten()(leaf(normal(2, 3, 4))).shape, (2, 12))


def test_mlp_puts_the_activation_between_linear_layers_only():
    model = nn.mlp([4, 8, 6, 2], nn.Tanh)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [layer.weight.shape for layer in model if isinstance(layer, nn.Linear)] == \
        [(8, 4), (6, 8), (2, 6)]
    assert model(minidl.randn(5, 4)).shape == (5, 2)
    with pytest.raises(ValueError, match=r"at least the input and output sizes, got \[4\]"):
        nn.mlp([4])
