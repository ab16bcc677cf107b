"""Module: full backward hooks (against torch's, from tests/data/module_hook_vectors.npz,
made by make_module_hook_vectors.py), state-dict hooks, extra state, and the
registration and lookup methods (add_module, register_parameter, get_submodule,
get_parameter, get_buffer, set_submodule, half/bfloat16/type)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_hooks", DATA / "make_module_hook_vectors.py")
make_hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_hooks)
VECTORS = np.load(DATA / "module_hook_vectors.npz")


# -- full backward hooks ------------------------------------------------------------------
@pytest.mark.parametrize("requires_grad", [True, False], ids=["x_grad", "x_no_grad"])
def test_backward_hooks_see_and_replace_what_torchs_do(requires_grad):
    got = make_hooks.record(minidl, requires_grad)
    name = "x_grad" if requires_grad else "x_no_grad"
    expected = {key: VECTORS[key] for key in VECTORS.files if key.startswith(name + "_")}
    assert sorted(got) == sorted(expected)
    np.testing.assert_array_equal(got[f"{name}_order"], expected[f"{name}_order"])
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_grad_input_counts_only_the_paths_through_the_call():
    layer = nn.Linear(2, 2)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0].numpy().copy()))
    x = minidl.ones(1, 2, requires_grad=True)
    (layer(x).sum() + 10 * x.sum()).backward()
    np.testing.assert_allclose(seen[0], layer.weight.numpy().sum(axis=0, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), seen[0] + 10)


def test_pre_hook_replaces_grad_output_and_handles_remove():
    layer = nn.Linear(3, 1)
    handle = layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
    x = minidl.ones(2, 3, requires_grad=True)
    layer(x).sum().backward()
    assert not x.grad.numpy().any() and not layer.weight.grad.numpy().any()
    handle.remove()
    x.grad = None
    layer(x).sum().backward()
    assert x.grad.numpy().any()


def test_a_hook_returning_none_as_gradient_stops_it():
    layer = nn.Linear(3, 1)
    layer.register_full_backward_hook(lambda m, gi, go: (None,))
    x = minidl.ones(2, 3, requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_unsupported_backward_hook_calls_are_refused():
    attention = nn.MultiheadAttention(4, 2)
    attention.register_full_backward_hook(lambda m, gi, go: None)
    q = minidl.ones(3, 1, 4)
    with pytest.raises(NotImplementedError, match="one Tensor argument.*got Tensor, Tensor, "
                                                  "Tensor"):
        attention(q, q, q)
    lstm = nn.LSTM(2, 3)
    lstm.register_full_backward_pre_hook(lambda m, go: None)
    with pytest.raises(NotImplementedError, match="returning one Tensor; it returned a tuple"):
        lstm(minidl.ones(4, 1, 2))
    wrong = nn.Linear(2, 2)
    wrong.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        wrong(minidl.ones(1, 2, requires_grad=True)).sum().backward()
    frozen = nn.Linear(2, 2)
    frozen.register_full_backward_hook(lambda m, gi, go: (minidl.ones(1, 2),))
    with pytest.raises(RuntimeError, match="no input requires gradient should always return"):
        frozen(minidl.ones(1, 2)).sum().backward()


def test_an_in_place_write_on_a_hooked_output_is_refused_at_backward():
    relu = nn.ReLU(inplace=True)
    relu.register_full_backward_hook(lambda m, gi, go: None)
    x = minidl.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="modified in place"):
        relu(x).sum().backward()
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: None)
    out = layer(minidl.ones(1, 2))
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


def test_a_no_grad_call_records_no_hook_node():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: 1 / 0)
    with minidl.no_grad():
        assert not layer(minidl.ones(1, 2, requires_grad=True)).requires_grad


def test_a_no_grad_call_of_any_form_runs_with_backward_hooks():
    """No graph, no hook: PyTorch's no_grad calls of a hooked module of several inputs
    or outputs (evaluation) work, so minidl's refuse only calls that record a graph."""
    attention = nn.MultiheadAttention(4, 2)
    q = minidl.ones(3, 1, 4)
    with minidl.no_grad():
        expected = attention(q, q, q)[0].numpy()
    attention.register_full_backward_hook(lambda m, gi, go: 1 / 0)
    lstm = nn.LSTM(2, 3)
    lstm.register_full_backward_pre_hook(lambda m, go: 1 / 0)
    with minidl.no_grad():
        np.testing.assert_array_equal(attention(q, q, q)[0].numpy(), expected)
        assert lstm(minidl.ones(4, 1, 2))[0].shape == (4, 1, 3)


# -- extra state and state-dict hooks -----------------------------------------------------
class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.calls = 0

    def get_extra_state(self):
        return {"calls": self.calls}

    def set_extra_state(self, state):
        self.calls = state["calls"]


def test_extra_state_is_saved_under_its_key_and_loaded_back(tmp_path):
    model = nn.Sequential(Counter(), nn.ReLU())
    model[0].calls = 7
    state = model.state_dict()
    assert list(state) == ["0._extra_state", "0.linear.weight", "0.linear.bias"]   # as torch
    assert state["0._extra_state"] == {"calls": 7}
    minidl.save(state, tmp_path / "m.pt")
    fresh = nn.Sequential(Counter(), nn.ReLU())
    fresh.load_state_dict(minidl.load(tmp_path / "m.pt"))
    assert fresh[0].calls == 7
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0._extra_state"'):
        fresh.load_state_dict({k: v for k, v in state.items() if k != "0._extra_state"})
    with pytest.raises(RuntimeError, match="should never be called"):
        nn.Linear(1, 1).get_extra_state()


def test_state_dict_hooks_see_prefixes_and_may_edit_the_dict():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    seen = []
    model[1].register_state_dict_pre_hook(lambda m, prefix, keep_vars: seen.append(prefix))
    model[1].register_state_dict_post_hook(
        lambda m, state, prefix, meta: state.pop(prefix + "bias"))
    handle = model.register_state_dict_post_hook(
        lambda m, state, prefix, meta: seen.append(sorted(state)))
    state = model.state_dict()
    assert "1.bias" not in state and seen == ["1.", ["0.bias", "0.weight", "1.weight"]]
    handle.remove()
    model.state_dict()
    assert len(seen) == 3


def test_post_hooks_run_children_first_and_siblings_in_order_as_pytorchs():
    """PyTorch runs a module's state-dict and load post-hooks when its recursion
    returns: 0.0, 0, 1, then the root (torch 2.13's order for this tree)."""
    model = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.Linear(1, 1))
    order = []
    for name, module in model.named_modules():
        module.register_state_dict_post_hook(
            lambda m, state, prefix, meta, name=name: order.append(name or "root"))
        module.register_load_state_dict_post_hook(
            lambda m, keys, name=name: order.append("load " + (name or "root")))
    model.load_state_dict(model.state_dict())
    assert order == ["0.0", "0", "1", "root", "load 0.0", "load 0", "load 1", "load root"]


def test_load_pre_hook_renames_old_keys_and_post_hook_forgives_missing_ones():
    model = nn.Sequential(nn.Linear(2, 2))

    def rename(module, state, prefix, meta, strict, missing, unexpected, errors):
        for key in [k for k in state if k.startswith(prefix + "w")]:
            state[prefix + "weight"] = state.pop(key)

    model[0].register_load_state_dict_pre_hook(rename)
    old = {"0.w": np.full((2, 2), 3.0, np.float32), "0.bias": np.zeros(2, np.float32)}
    assert model.load_state_dict(old) == ([], [])
    assert "0.w" in old                                   # the caller's dict is untouched
    np.testing.assert_array_equal(model[0].weight.numpy(), np.full((2, 2), 3.0))

    def forgive(module, keys):
        keys.missing_keys.clear()

    model.register_load_state_dict_post_hook(forgive)
    result = model.load_state_dict({"0.weight": np.ones((2, 2), np.float32)})
    assert result.missing_keys == [] and model[0].weight.numpy().sum() == 4


def test_load_pre_hook_errors_refuse_the_load_before_copying():
    model = nn.Linear(2, 1)
    model.register_load_state_dict_pre_hook(
        lambda m, state, prefix, meta, strict, missing, unexpected, errors:
        errors.append("version 0 checkpoints are not supported"))
    before = model.weight.numpy().copy()
    with pytest.raises(RuntimeError, match="version 0 checkpoints are not supported"):
        model.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(1)})
    np.testing.assert_array_equal(model.weight.numpy(), before)


# -- registration and lookup --------------------------------------------------------------
def test_add_and_register_module_and_parameter():
    model = nn.Module()
    model.add_module("body", nn.Linear(2, 3))
    model.register_module("head", None)
    model.register_parameter("scale", nn.Parameter(minidl.ones(1)))
    model.register_parameter("shift", None)
    assert model.body.out_features == 3 and model.head is None and model.shift is None
    assert [name for name, _ in model.named_parameters()] == ["scale", "body.weight",
                                                              "body.bias"]
    assert list(model.state_dict()) == ["scale", "body.weight", "body.bias"]
    assert [name for name, _ in model.named_children()] == ["body"]
    model.double()
    assert model.scale.dtype == np.float64


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, 'module name can\'t contain ".", '
                                                          'got: a.b'),
    (lambda m: m.add_module("", nn.ReLU()), KeyError, 'module name can\'t be empty string ""'),
    (lambda m: m.add_module(3, nn.ReLU()), TypeError, "module name should be a string. Got int"),
    (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
    (lambda m: m.add_module("weight", nn.ReLU()), KeyError, "attribute 'weight' already exists"),
    (lambda m: m.add_module("stats", nn.ReLU()), KeyError, "attribute 'stats' already exists"),
    (lambda m: m.register_parameter("w2", minidl.ones(2)), TypeError,
     "cannot assign 'minidl.tensor.Tensor' object to parameter 'w2' (minidl.nn.Parameter or "
     "None required)"),
    (lambda m: m.register_parameter("note", None), KeyError, "attribute 'note' already exists"),
    (lambda m: m.register_parameter("a.b", None), KeyError, 'parameter name can\'t contain "."'),
    (lambda m: m.register_parameter("forward", None), KeyError,     # a class attribute
     "attribute 'forward' already exists"),
    (lambda m: m.add_module("extra_repr", nn.ReLU()), KeyError,
     "attribute 'extra_repr' already exists"),
])
def test_bad_registrations_are_refused(call, error, message):
    model = nn.Linear(2, 2)
    model.register_buffer("stats", minidl.zeros(2))
    model.note = "a plain attribute"
    with pytest.raises(error) as raised:
        call(model)
    assert message in raised.value.args[0]
    assert [name for name, _ in model.named_parameters()] == ["weight", "bias"]
    assert list(model.named_children()) == []


def test_an_existing_parameter_may_become_none():
    model = nn.Linear(2, 2)
    model.register_parameter("bias", None)
    assert model.bias is None and list(model.state_dict()) == ["weight"]


def test_get_submodule_parameter_and_buffer():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3)))
    model[1][0].register_buffer("extra", minidl.ones(3))
    assert model.get_submodule("") is model and model.get_submodule("1.0") is model[1][0]
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.0.extra") is model[1][0].extra
    assert model.get_buffer("1.0.running_mean") is model[1][0].running_mean
    for call, message in [(lambda: model.get_submodule("2"), "Sequential has no attribute `2`"),
                          (lambda: model.get_submodule("0.weight"), "`weight` is not an nn.Module"),
                          (lambda: model.get_parameter("0.nope"), "Linear has no attribute `nope`"),
                          (lambda: model.get_parameter("1.0.extra"), "`extra` is not an "
                                                                     "nn.Parameter"),
                          (lambda: model.get_buffer("0.weight"), "`weight` is not a buffer")]:
        with pytest.raises(AttributeError, match=message):
            call()


def test_set_submodule_replaces_and_checks():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU()))
    model.set_submodule("1.0", nn.Tanh())
    assert isinstance(model[1][0], nn.Tanh)
    model.set_submodule("1.extra", nn.ReLU())
    assert isinstance(model[1].extra, nn.ReLU)
    with pytest.raises(AttributeError, match="Sequential has no attribute `other`"):
        model.set_submodule("1.other", nn.ReLU(), strict=True)
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        model.set_submodule("0.weight", nn.ReLU())
    with pytest.raises(ValueError, match="Cannot set the submodule without a target name!"):
        model.set_submodule("", nn.ReLU())
    with pytest.raises(ValueError, match="`module` is not an nn.Module, found <class 'int'>"):
        model.set_submodule("0", 3)


def test_half_bfloat16_are_refused_and_type_casts():
    model = nn.Linear(2, 2)
    for call in (model.half, model.bfloat16, lambda: model.type(minidl.int64)):
        with pytest.raises(ValueError, match="Module.to takes float32 or float64"):
            call()
    assert model.weight.dtype == np.float32
    assert model.type(minidl.float64) is model and model.weight.dtype == np.float64
