"""nn.utils.parametrize, nn.utils.parametrizations (weight_norm, spectral_norm,
orthogonal) and the old hook forms nn.utils.weight_norm and spectral_norm: values,
gradients, power-iteration buffers and state_dicts against torch's
(tests/data/make_parametrization_vectors.py), gradchecks, training with an
optimizer, minidl.compile, and bad input."""
from __future__ import annotations

import copy
import importlib.util
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.nn.utils import parametrizations, parametrize

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_param",
                                               DATA / "make_parametrization_vectors.py")
make_param = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_param)
VECTORS = np.load(DATA / "parametrization_vectors.npz")
TOL = {"rtol": 1e-4, "atol": 1e-5}


def vectors(case: str, prefix: str) -> dict[str, np.ndarray]:
    """The case's arrays whose key starts with ``prefix`` (which is dropped)."""
    start = f"{case}__{prefix}"
    return {key[len(start):]: VECTORS[key] for key in VECTORS.files if key.startswith(start)}


def build(case: str, state: str = "state__") -> nn.Module:
    """The case's layer, parametrized as torch's was, holding torch's state."""
    layer, args, _, form, function, kwargs = make_param.CASES[case]
    module = getattr(nn, layer)(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        make_param.parametrize(nn, module, form, function, kwargs)
    module.load_state_dict(vectors(case, state))
    return module


def inputs(case: str) -> list[minidl.Tensor]:
    return [minidl.tensor(VECTORS[f"{case}__input{i}"])
            for i in range(len(make_param.CASES[case][2]))]


def assert_close(actual, expected, what: str) -> None:
    np.testing.assert_allclose(np.asarray(actual), expected, err_msg=what, **TOL)


@pytest.mark.parametrize("case", list(make_param.CASES))
def test_training_and_eval_calls_match_torch(case):
    """Each training call's output and buffers (the power iteration moves u and v),
    the grads of the originals, then an eval call (buffers frozen)."""
    module = build(case)
    xs = inputs(case)
    for step in range(make_param.STEPS):
        output = module(*xs)
        assert_close(output, VECTORS[f"{case}__out{step}"], f"out{step}")
        buffers = vectors(case, f"buffers{step}__")
        assert sorted(buffers) == sorted(name for name, _ in module.named_buffers())
        for name, buffer in module.named_buffers():
            assert_close(buffer, buffers[name], f"{name} after call {step}")
    (output * minidl.tensor(VECTORS[f"{case}__cotangent"])).sum().backward()
    grads = vectors(case, "grad__")
    assert sorted(grads) == sorted(name for name, _ in module.named_parameters())
    for name, parameter in module.named_parameters():
        assert_close(parameter.grad, grads[name], f"grad of {name}")
    module.eval()
    assert_close(module(*xs), VECTORS[f"{case}__eval_out"], "eval output")
    for name, buffer in module.named_buffers():
        assert_close(buffer, VECTORS[f"{case}__eval_buffers__{name}"], f"{name} in eval")
    assert_close(module.weight, VECTORS[f"{case}__weight"], "weight")


@pytest.mark.parametrize("case", list(make_param.CASES))
def test_state_dict_keys_are_torchs(case):
    module = build(case)
    assert list(module.state_dict()) == list(vectors(case, "state__"))


@pytest.mark.parametrize("case", [case for case in make_param.CASES
                                  if "wn" in case or "orth" in case])
def test_registration_from_a_weight_stores_what_torch_stores(case):
    """weight_norm's g and v and orthogonal's base (first k columns: the rest
    completes it at random) and X, from the same initial weight."""
    layer, args, _, form, function, kwargs = make_param.CASES[case]
    module = getattr(nn, layer)(*args)
    module.load_state_dict(vectors(case, "init__"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        make_param.parametrize(nn, module, form, function, kwargs)
    registered = vectors(case, "registered__")
    state = module.state_dict()
    assert list(state) == list(registered)
    for key, expected in registered.items():
        if key.endswith("base"):
            k = min(VECTORS[f"{case}__init__weight"].shape[-2:])
            state[key], expected = state[key][..., :k], expected[..., :k]
        assert_close(state[key], expected, key)


def test_old_weight_norm_state_dict_loads_into_the_parametrization():
    """torch's own compatibility hook: weight_g and weight_v become original0 and 1."""
    module = nn.Linear(3, 4)
    parametrizations.weight_norm(module)
    module.load_state_dict(vectors("old_wn_linear", "state__"))
    assert_close(module(*inputs("old_wn_linear")), VECTORS["old_wn_linear__out0"], "out")


def test_weight_norm_gradcheck():
    module = nn.Linear(3, 4).double()
    parametrizations.weight_norm(module, dim=1)
    g, v = module.parametrizations.weight.original0, module.parametrizations.weight.original1
    x = minidl.randn(2, 3, dtype=np.float64)

    def f(g_, v_):
        with minidl.no_grad():
            g.copy_(g_)
            v.copy_(v_)
        return module.parametrizations.weight[0](g_, v_)

    assert minidl.gradcheck(f, minidl.tensor(np.asarray(g), requires_grad=True),
                            minidl.tensor(np.asarray(v), requires_grad=True))
    assert minidl.gradcheck(lambda x_: module(x_), x.requires_grad_())


@pytest.mark.parametrize("map_", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_orthogonal_maps_gradcheck_and_are_orthogonal(map_, shape):
    """X's diagonal -1.5, not -1: householder reads it truncated to an integer (no
    gradient), which jumps at -1."""
    weight = minidl.randn(*shape, dtype=np.float64)
    orth = parametrizations._Orthogonal(weight, map_)
    noise = np.random.default_rng(1).standard_normal(shape)
    X = np.asarray(orth.right_inverse(weight)) * 1.5 + 0.3 * noise * (1 - np.eye(*shape))
    X = minidl.tensor(X, requires_grad=True)
    Q = np.asarray(orth(X))
    tall = Q if shape[0] >= shape[1] else Q.T
    np.testing.assert_allclose(tall.T @ tall, np.eye(min(shape)), atol=1e-12)
    assert minidl.gradcheck(orth, X)


def test_spectral_norm_gradcheck_in_eval():
    """In eval the power iteration stands still, so the map is a function of the weight;
    after 30 training calls its u and v have converged (the norm is then 1 to 1e-3)."""
    minidl.manual_seed(0)
    module = nn.Linear(4, 3).double()
    parametrizations.spectral_norm(module)
    for _ in range(30):
        module.weight
    module.eval()
    snorm = module.parametrizations.weight[0]
    weight = minidl.tensor(np.asarray(module.parametrizations.weight.original),
                           requires_grad=True)
    assert minidl.gradcheck(snorm, weight)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(snorm(weight)), 2), 1.0, rtol=1e-3)


def test_spectral_norm_converges_to_unit_spectral_norm():
    module = nn.Linear(6, 5)
    parametrizations.spectral_norm(module)
    for _ in range(30):
        weight = np.asarray(module.weight)
    np.testing.assert_allclose(np.linalg.svd(weight, compute_uv=False)[0], 1.0, rtol=1e-4)


class Symmetric(nn.Module):
    """PyTorch's tutorial parametrization: X -> triu(X) + triu(X, 1)^T."""

    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, A):
        return A / 2


def test_register_parametrization_chain_and_assignment():
    module = nn.Linear(3, 3)
    weight = module.weight
    parametrize.register_parametrization(module, "weight", Symmetric())
    parametrize.register_parametrization(module, "weight", Scale())
    assert type(module).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(module) is nn.Linear
    assert parametrize.is_parametrized(module) and parametrize.is_parametrized(module, "weight")
    assert not parametrize.is_parametrized(module, "bias")
    assert module.parametrizations.weight.original is weight
    assert isinstance(module.parametrizations.weight[1], Scale)
    W = np.asarray(module.weight)
    np.testing.assert_allclose(W, W.T)
    target = np.arange(9.0, dtype=np.float32).reshape(3, 3)
    target = target + target.T
    module.weight = minidl.tensor(target)
    np.testing.assert_allclose(np.asarray(module.weight), target)
    np.testing.assert_allclose(np.asarray(weight), np.triu(target) / 2)
    assert [name for name, _ in module.named_parameters()] == [
        "bias", "parametrizations.weight.original"]
    with pytest.raises(KeyError, match="already exists"):
        module.weight = nn.Parameter(np.zeros((3, 3)))


def test_remove_parametrizations():
    module = nn.Linear(3, 3)
    original = module.weight
    parametrize.register_parametrization(module, "weight", Scale())
    parametrize.remove_parametrizations(module, "weight")
    assert type(module) is nn.Linear and module.weight is original
    assert "parametrizations" not in module._modules
    assert list(module.state_dict()) == ["bias", "weight"]   # re-registered last, as in torch
    before = np.asarray(original).copy()
    parametrize.register_parametrization(module, "weight", Scale())
    parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
    np.testing.assert_allclose(np.asarray(module.weight), before / 2)   # Scale's right_inverse
    parametrizations.weight_norm(module)
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
    expected = np.asarray(module.weight).copy()
    parametrize.remove_parametrizations(module, "weight")
    assert isinstance(module.weight, nn.Parameter)
    np.testing.assert_allclose(np.asarray(module.weight), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(module, "weight")


def test_cached_computes_the_weight_once():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1.0

    module = nn.Linear(2, 2)
    parametrize.register_parametrization(module, "weight", Counting())
    calls.clear()
    with parametrize.cached():
        assert module.weight is module.weight
        module(minidl.ones(1, 2))
    assert len(calls) == 1
    module.weight
    assert len(calls) == 2


def test_parametrizing_a_buffer_and_bad_parametrizations():
    module = nn.Linear(2, 2)
    module.register_buffer("mask", minidl.ones(2, 2))
    parametrize.register_parametrization(module, "mask", Scale())
    assert "parametrizations.mask.original" in module.state_dict()
    assert [name for name, _ in module.named_parameters()] == ["weight", "bias"]

    class Shrink(Scale):
        def forward(self, X):
            return X[0]

    class ToDouble(nn.Module):
        def forward(self, X):
            return X.double()

    for bad, message in [(Shrink(), "may not change the shape"),
                         (ToDouble(), "may not change the dtype")]:
        module = nn.Linear(2, 2)
        before = np.asarray(module.weight).copy()
        with pytest.raises(ValueError, match=message):
            parametrize.register_parametrization(module, "weight", bad)
        assert type(module) is nn.Linear and isinstance(module.weight, nn.Parameter)
        np.testing.assert_array_equal(np.asarray(module.weight), before)
    parametrize.register_parametrization(module, "weight", Shrink(), unsafe=True)
    assert module.weight.shape == (2,)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nothing", Scale())
    class Double(nn.Module):
        def forward(self, X):
            return 2 * X

    module = nn.Linear(2, 2)
    parametrize.register_parametrization(module, "weight", Double())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        module.weight = minidl.ones(2, 2)


def test_bad_arguments_raise_torchs_exceptions():
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), name="w")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    with pytest.raises(ValueError, match="Expected a matrix"):
        parametrizations.orthogonal(nn.LayerNorm(3))
    square = parametrizations.orthogonal(nn.Linear(2, 2), use_trivialization=False)
    W = np.asarray(square.weight)
    np.testing.assert_allclose(W.T @ W, np.eye(2), atol=1e-6)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        square.weight = minidl.eye(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.weight_norm(nn.Linear(2, 2), dim=3)
    module = nn.Linear(2, 2)
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(module)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(module)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(module)
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_remove_old_forms():
    module = nn.Linear(3, 2)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(module)
    expected = np.asarray(module(minidl.ones(1, 3)))
    nn.utils.remove_weight_norm(module)
    assert list(module.state_dict()) == ["bias", "weight"]
    assert isinstance(module.weight, nn.Parameter) and not module._forward_pre_hooks
    np.testing.assert_allclose(np.asarray(module(minidl.ones(1, 3))), expected, rtol=1e-6)
    nn.utils.spectral_norm(module)
    module.eval()
    expected = np.asarray(module(minidl.ones(1, 3)))
    nn.utils.remove_spectral_norm(module)
    assert list(module.state_dict()) == ["bias", "weight"] and not module._forward_pre_hooks
    np.testing.assert_allclose(np.asarray(module(minidl.ones(1, 3))), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(module)


def make_model(form: str) -> nn.Module:
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        {"weight_norm": parametrizations.weight_norm,
         "spectral_norm": parametrizations.spectral_norm,
         "orthogonal": parametrizations.orthogonal,
         "old_weight_norm": nn.utils.weight_norm,
         "old_spectral_norm": nn.utils.spectral_norm}[form](model[0])
    return model


FORMS = ["weight_norm", "spectral_norm", "orthogonal", "old_weight_norm", "old_spectral_norm"]


@pytest.mark.parametrize("form", FORMS)
def test_training_moves_the_originals_and_the_weight_follows(form):
    model = make_model(form)
    names = [name for name, _ in model.named_parameters()]
    assert not any(name.endswith("0.weight") for name in names)
    optimizer = minidl.optim.Adam(model.parameters(), lr=0.05)
    x = minidl.randn(32, 4)
    y = x.sum(dim=1, keepdim=True).tanh()
    before = {name: np.asarray(p).copy() for name, p in model.named_parameters()}
    weight_before = np.asarray(model[0].weight).copy()
    losses = []
    for _ in range(30):
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    for name, p in model.named_parameters():
        assert not np.allclose(np.asarray(p), before[name]), name
    model(x)   # the hook forms recompute the weight at the call
    weight = np.asarray(model[0].weight)
    assert not np.allclose(weight, weight_before)
    fresh = make_model(form)
    fresh.load_state_dict(model.state_dict())
    fresh.train(model.training)
    model.eval(), fresh.eval()
    np.testing.assert_allclose(np.asarray(fresh(x)), np.asarray(model(x)), rtol=1e-5)
    if form == "orthogonal":
        np.testing.assert_allclose(weight.T @ weight, np.eye(4), atol=1e-5)
    if form.endswith("spectral_norm"):
        np.testing.assert_allclose(np.linalg.svd(weight, compute_uv=False)[0], 1.0, rtol=1e-2)


@pytest.mark.parametrize("form", FORMS)
def test_compile_falls_back_with_its_warning_and_matches_eager(form):
    model, eager = make_model(form), make_model(form)
    x = minidl.randn(16, 4)
    y = minidl.randn(16, 1)
    optimizers = [minidl.optim.SGD(m.parameters(), lr=0.1) for m in (model, eager)]

    def step_of(m, optimizer):
        def train_step(x, y):
            loss = ((m(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        return train_step

    compiled = minidl.compile(step_of(model, optimizers[0]))
    with pytest.warns(RuntimeWarning, match="runs eagerly"):
        compiled(x, y)
    step_of(eager, optimizers[1])(x, y)
    for _ in range(3):
        a = compiled(x, y)
        b = step_of(eager, optimizers[1])(x, y)
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)
    for (name, p), q in zip(model.named_parameters(), eager.parameters()):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-6, err_msg=name)


def test_pickling_is_refused_as_in_torch():
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(make_model("weight_norm"))


def test_deepcopy_of_a_parametrized_model_is_independent():
    model = make_model("weight_norm")
    clone = copy.deepcopy(model)
    assert type(clone[0]).__name__ == "ParametrizedLinear"
    with minidl.no_grad():
        clone[0].parametrizations.weight.original1.mul_(2.0)
    np.testing.assert_allclose(np.asarray(clone[0].weight), np.asarray(model[0].weight),
                               rtol=1e-6)
    assert not np.allclose(np.asarray(clone[0].parametrizations.weight.original1),
                           np.asarray(model[0].parametrizations.weight.original1))


@pytest.mark.parametrize("form", ["spectral_norm", "orthogonal"])
def test_an_optimizer_built_before_the_parametrization_trains_the_original(form):
    """These keep the Parameter object as ``original`` (torch's ``set_``): an optimizer
    that already held the weight steps the original, in its flat buffer."""
    minidl.manual_seed(0)
    layer = nn.Linear(4, 4)
    optimizer = minidl.optim.SGD(layer.parameters(), lr=0.1)
    weight = layer.weight
    getattr(parametrizations, form)(layer)
    assert layer.parametrizations.weight.original is weight
    before = np.asarray(layer.weight).copy()
    original_before = np.asarray(weight).copy()
    layer(minidl.randn(8, 4)).pow(2).sum().backward()
    optimizer.step()
    assert not np.allclose(np.asarray(weight), original_before)
    assert not np.allclose(np.asarray(layer.weight), before)


def test_repr_names_the_parametrization_list_as_torch():
    module = parametrizations.spectral_norm(nn.Linear(2, 3))
    assert repr(module) == (
        "ParametrizedLinear(\n  in_features=2, out_features=3, bias=True\n"
        "  (parametrizations): ModuleDict(\n    (weight): ParametrizationList(\n"
        "      (0): _SpectralNorm()\n    )\n  )\n)")


class Counting(nn.Module):
    """The identity, counting its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, X):
        self.calls += 1
        return X


READ_ONCE = [   # layer, parametrized tensor, inputs
    (lambda: nn.Linear(3, 4), "weight", [(2, 3)]),
    (lambda: nn.Bilinear(3, 2, 4), "weight", [(2, 3), (2, 2)]),
    (lambda: nn.Conv1d(2, 3, 3), "weight", [(1, 2, 5)]),
    (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), "weight", [(1, 2, 5, 5)]),
    (lambda: nn.ConvTranspose1d(2, 3, 3), "weight", [(1, 2, 5)]),
    (lambda: nn.ConvTranspose2d(2, 3, 3), "weight", [(1, 2, 4, 4)]),
    (lambda: nn.LayerNorm(3), "weight", [(2, 3)]),
    (lambda: nn.LSTM(3, 4), "weight_ih_l0", [(5, 2, 3)]),
    (lambda: nn.GRU(3, 4, batch_first=True), "weight_hh_l0", [(2, 5, 3)]),
    (lambda: nn.RNN(3, 4), "weight_ih_l0", [(5, 3)]),
    (lambda: nn.LSTMCell(3, 4), "weight_ih", [(2, 3)]),
    (lambda: nn.GRUCell(3, 4), "weight_hh", [(2, 3)]),
    (lambda: nn.MultiheadAttention(4, 2), "in_proj_weight", [(3, 1, 4)] * 3),
]


@pytest.mark.parametrize("make, name, shapes", READ_ONCE)
def test_each_layer_computes_a_parametrized_weight_once_per_call(make, name, shapes):
    """As torch's layers do: spectral norm's power iteration then steps once per call."""
    module, counting = make(), Counting()
    parametrize.register_parametrization(module, name, counting)
    counting.calls = 0
    module(*[minidl.randn(*shape) for shape in shapes])
    assert counting.calls == 1


class Relu(nn.Module):
    def forward(self, X):
        return nn.functional.relu(X)


def test_compile_holds_a_parametrization_made_of_recorded_ops():
    """relu has a compiled form: the plan replays the parametrization from the
    original's current values, without a warning, step for step as eager."""
    models = []
    for _ in range(2):
        minidl.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        parametrize.register_parametrization(model[0], "weight", Relu())
        models.append((model, minidl.optim.SGD(model.parameters(), lr=0.1)))
    x, y = minidl.randn(16, 4), minidl.randn(16, 1)

    def step_of(model, optimizer):
        def train_step(x, y):
            loss = nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        return train_step

    compiled, eager = minidl.compile(step_of(*models[0]), fallback=False), step_of(*models[1])
    for _ in range(4):
        np.testing.assert_allclose(compiled(x, y).item(), eager(x, y).item(), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(models[0][0][0].weight),
                               np.asarray(models[1][0][0].weight), rtol=1e-6)
    assert not np.allclose(np.asarray(models[0][0][0].weight), 0)
