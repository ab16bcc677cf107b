"""Adafactor, Muon and LBFGS against PyTorch's vectors, in float32 and float64.

``tests/data/shape_optim_vectors.npz`` (written by
``tests/data/make_shape_optim_vectors.py``) holds torch.optim trajectories of
params of several shapes (a 3-D and a 0-d one for Adafactor), with params
that have no grad on some steps, an lr halved mid-run, and torch's state dict
at one step, its tensors as arrays. LBFGS runs ``step(closure)`` on a
quartic loss with and without the strong Wolfe line search. No torch needed
(round trips through torch run where it is installed).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from minidl import Tensor
from minidl.optim import LBFGS, Adafactor, Muon

CLASSES = {"Adafactor": Adafactor, "Muon": Muon, "LBFGS": LBFGS}
with np.load(Path(__file__).parent / "data" / "shape_optim_vectors.npz",
             allow_pickle=False) as stored:
    DATA = {key: stored[key] for key in stored.files}
CASES = json.loads(str(DATA["cases"]))
SHAPES = {name: [tuple(s) for s in shapes] for name, shapes in
          json.loads(str(DATA["shapes"])).items()}
LBFGS_SHAPES = [tuple(s) for s in json.loads(str(DATA["lbfgs_shapes"]))]
LR_CHANGE_STEP, STATE_STEP = int(DATA["lr_change_step"]), int(DATA["state_step"])
STEPS = len(DATA["grads"])
TOLERANCE = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-5)}
# L-BFGS in float32: minidl's and torch's autograd round the loss and its gradient
# differently (sum orders, x**4), and the line search's and the stopping rules'
# comparisons of nearly equal losses amplify that to ~1e-3 within a few steps (with
# torch's own loss as the closure minidl's LBFGS holds to ~3e-5). float64 holds to 1e-10.
LBFGS_TOLERANCE = {"float64": TOLERANCE["float64"], "float32": dict(rtol=2e-3, atol=2e-3)}
EVENTS = [c for c in CASES if c["optimizer"] != "LBFGS" and not c.get("bfloat16")]
LBFGS_CASES = [c for c in CASES if c["optimizer"] == "LBFGS"]


def skipped(step: int, index: int) -> bool:
    """make_shape_optim_vectors.skipped."""
    return (index == 1 and (step <= 2 or step % 7 == 3)) or (index == 0 and step == 10)


def pieces(flat: np.ndarray, shapes: list[tuple]) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in shapes])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], shapes)]


def generator():
    """tests/data/make_shape_optim_vectors.py as a module (it imports torch)."""
    import importlib.util

    path = Path(__file__).parent / "data" / "make_shape_optim_vectors.py"
    spec = importlib.util.spec_from_file_location("make_shape_optim_vectors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def options_of(case: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case["options"].items()}


def flat_of(params) -> np.ndarray:
    return np.concatenate([np.asarray(p).reshape(-1) for p in params])


def torch_state_dict(case: dict) -> dict:
    """PyTorch's state dict stored for ``case``, tensors as arrays, lists rebuilt."""
    prefix = f"{case['key']}__"
    state: dict[int, dict] = {}
    for name, value in DATA.items():
        if not name.startswith(prefix) or name == f"{prefix}groups":
            continue
        index, entry, *item = name[len(prefix):].split("__")
        slot = state.setdefault(int(index), {})
        if item == ["len"]:
            slot.setdefault(entry, [None] * int(value))
            slot[entry] += [None] * (int(value) - len(slot[entry]))
        elif item:
            slot.setdefault(entry, [])
            slot[entry] += [None] * (int(item[0]) + 1 - len(slot[entry]))
            slot[entry][int(item[0])] = value
        else:
            slot[entry] = value
    groups = json.loads(str(DATA[f"{prefix}groups"]))
    for group in groups:
        for key in ("eps", "ns_coefficients"):
            if isinstance(group.get(key), list):
                group[key] = tuple(group[key])
    return {"state": state, "param_groups": groups}


# -- Adafactor and Muon: trajectories with events, state dicts both ways -------------

def make(case: dict, backend: str, flat_params: np.ndarray):
    shapes = SHAPES[case["optimizer"]]
    params = [Tensor(piece, requires_grad=True, dtype=case["dtype"])
              for piece in pieces(flat_params, shapes)]
    return params, CLASSES[case["optimizer"]](params, device=backend, **options_of(case))


def run(opt, params, case: dict, first: int, last: int) -> np.ndarray:
    shapes = SHAPES[case["optimizer"]]
    n = sum(int(np.prod(s)) for s in shapes)
    out = []
    for step in range(first, last + 1):
        if step == LR_CHANGE_STEP:
            opt.param_groups[0]["lr"] *= 0.5
        grads = pieces(DATA["grads"][step - 1, :n].astype(case["dtype"]), shapes)
        for index, (param, grad) in enumerate(zip(params, grads)):
            param.grad = None if skipped(step, index) else grad
        opt.step()
        out.append(flat_of(params))
    return np.stack(out)


def param0(case: dict) -> np.ndarray:
    return DATA["param0"][:sum(int(np.prod(s)) for s in SHAPES[case["optimizer"]])]


def test_cases_cover_each_optimizer_in_both_dtypes():
    assert {(c["optimizer"], c["dtype"]) for c in CASES} == {
        (name, dtype) for name in CLASSES for dtype in ("float32", "float64")}


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("case", EVENTS, ids=[c["key"] for c in EVENTS])
def test_trajectory_with_skipped_grads_and_an_lr_change_matches_pytorch(case, backend):
    params, opt = make(case, backend, param0(case))
    got = run(opt, params, case, 1, STEPS)
    assert got.dtype == np.dtype(case["dtype"])
    np.testing.assert_allclose(got, DATA[case["key"]][1:], **TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", EVENTS, ids=[c["key"] for c in EVENTS])
def test_a_pytorch_state_dict_loads_and_continues_the_trajectory(case):
    expected = DATA[case["key"]]
    params, opt = make(case, "cpu", expected[STATE_STEP])
    opt.load_state_dict(torch_state_dict(case))
    assert opt.param_groups[0]["lr"] == pytest.approx(case["options"].get(
        "lr", opt.defaults["lr"]) * 0.5)
    got = run(opt, params, case, STATE_STEP + 1, STEPS)
    np.testing.assert_allclose(got, expected[STATE_STEP + 1:], **TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", EVENTS, ids=[c["key"] for c in EVENTS])
def test_state_dict_is_pytorchs(case):
    params, opt = make(case, "cpu", param0(case))
    run(opt, params, case, 1, STATE_STEP)
    ours, theirs = opt.state_dict(), torch_state_dict(case)
    assert set(ours["state"]) == set(theirs["state"])
    for index, entry in theirs["state"].items():
        assert set(ours["state"][index]) == set(entry), index
        for name, value in entry.items():
            assert np.shape(ours["state"][index][name]) == np.shape(value), (index, name)
            np.testing.assert_allclose(np.asarray(ours["state"][index][name], np.float64),
                                       np.asarray(value, np.float64),
                                       **TOLERANCE[case["dtype"]], err_msg=f"{index} {name}")
    for key, value in ours["param_groups"][0].items():
        assert value == pytest.approx(theirs["param_groups"][0][key]), key


def test_adafactor_state_of_a_matrix_is_its_row_and_column_means():
    """O(n + m) numbers for an (n, m) matrix: the memory Adafactor saves."""
    weight, bias = Tensor(np.ones((300, 200)), requires_grad=True), Tensor(np.ones(200),
                                                                            requires_grad=True)
    opt = Adafactor([weight, bias], device="cpu")
    weight.grad, bias.grad = np.ones((300, 200)), np.ones(200)
    opt.step()
    state = opt.state
    assert state[weight]["row_var"].shape == (300, 1)
    assert state[weight]["col_var"].shape == (1, 200)
    assert set(state[bias]) == {"step", "variance"}
    assert sum(buffer.size for buffer in opt._flat[0].state.values()) == 300 + 200 + 200


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_muon_is_pytorchs_bfloat16_iteration_to_bfloat16_rounding(dtype):
    """PyTorch orthogonalises in bfloat16 (8 bits of mantissa), minidl in the params' dtype."""
    case = next(c for c in CASES if c.get("bfloat16") and c["dtype"] == dtype)
    params, opt = make(case, "cpu", param0(case))
    got = run(opt, params, case, 1, STEPS)
    expected = DATA[case["key"]][1:]
    moved = np.abs(expected - param0(case)).max()
    assert np.abs(got - expected).max() < 0.02 * moved
    assert not np.allclose(got, expected, rtol=1e-6, atol=1e-6)   # they do differ


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_state_dict_round_trip_through_torch(name, monkeypatch):
    """Where torch is installed: minidl -> torch -> minidl continues one trajectory."""
    torch = pytest.importorskip("torch")
    import torch.optim._muon as torch_muon

    monkeypatch.setattr(torch_muon, "_zeropower_via_newtonschulz",
                        generator().newton_schulz_in_dtype)
    case = next(c for c in EVENTS if c["optimizer"] == name and c["dtype"] == "float64")
    expected, shapes = DATA[case["key"]], SHAPES[name]
    params, opt = make(case, "cpu", param0(case))
    run(opt, params, case, 1, STATE_STEP)
    state_dict = opt.state_dict()
    tensors = [torch.nn.Parameter(torch.tensor(np.array(p))) for p in params]
    theirs = getattr(torch.optim, name)(tensors, **options_of(case))
    theirs.load_state_dict({"state": {i: {k: torch.tensor(v) for k, v in entry.items()}
                                      for i, entry in state_dict["state"].items()},
                            "param_groups": state_dict["param_groups"]})
    n = sum(int(np.prod(s)) for s in shapes)
    for step in range(STATE_STEP + 1, STATE_STEP + 4):
        for index, (tensor, piece) in enumerate(zip(tensors,
                                                    pieces(DATA["grads"][step - 1, :n], shapes))):
            tensor.grad = None if skipped(step, index) else torch.tensor(piece)
        theirs.step()
    back = {"state": {i: {k: v.numpy() for k, v in entry.items()}
                      for i, entry in theirs.state_dict()["state"].items()},
            "param_groups": theirs.state_dict()["param_groups"]}
    params2, opt2 = make(case, "cpu", flat_of([t.detach().numpy() for t in tensors]))
    opt2.load_state_dict(back)
    got = run(opt2, params2, case, STATE_STEP + 4, STEPS)
    np.testing.assert_allclose(got, expected[STATE_STEP + 4:], **TOLERANCE["float64"])


# -- LBFGS ------------------------------------------------------------------------------

def lbfgs_loss(params: list[Tensor], step: int) -> Tensor:
    """make_shape_optim_vectors.lbfgs_loss in minidl."""
    skipped_steps = tuple(int(s) for s in DATA["lbfgs_skipped"])
    total = coupling = 0
    for i, p in enumerate(params):
        if i == 2 and step in skipped_steps:
            continue
        a, c, w = (DATA[f"lbfgs_{name}{i}"].astype(p.dtype) for name in "acw")
        total = total + (c * (p - a) ** 2).sum() + (p ** 4).sum() * 0.25
        coupling = coupling + (p * w).sum()
    return total + coupling ** 2 * 0.5


def make_lbfgs(case: dict, flat_params: np.ndarray):
    params = [Tensor(piece, requires_grad=True, dtype=case["dtype"])
              for piece in pieces(flat_params, LBFGS_SHAPES)]
    return params, LBFGS(params, **case["options"])


def run_lbfgs(opt, params, first: int, last: int) -> np.ndarray:
    out = []
    for step in range(first, last + 1):
        if step == int(DATA["lbfgs_lr_change"]):
            opt.param_groups[0]["lr"] *= 0.5

        def closure():
            opt.zero_grad()
            loss = lbfgs_loss(params, step)
            loss.backward()
            return loss

        first_loss = opt.step(closure)
        assert isinstance(first_loss, Tensor)
        out.append(flat_of(params))
    return np.stack(out)


@pytest.mark.parametrize("case", LBFGS_CASES, ids=[c["key"] for c in LBFGS_CASES])
def test_lbfgs_trajectory_matches_pytorch(case):
    expected = DATA[case["key"]]
    params, opt = make_lbfgs(case, DATA["lbfgs_param0"])
    got = run_lbfgs(opt, params, 1, len(expected) - 1)
    np.testing.assert_allclose(got, expected[1:], **LBFGS_TOLERANCE[case["dtype"]])
    assert np.abs(expected[-1] - expected[0]).max() > 0.1     # it did move


@pytest.mark.parametrize("case", LBFGS_CASES, ids=[c["key"] for c in LBFGS_CASES])
def test_lbfgs_loads_pytorchs_state_dict_and_continues(case):
    expected, at = DATA[case["key"]], int(DATA["lbfgs_state_step"])
    params, opt = make_lbfgs(case, expected[at])
    opt.load_state_dict(torch_state_dict(case))
    got = run_lbfgs(opt, params, at + 1, len(expected) - 1)
    np.testing.assert_allclose(got, expected[at + 1:], **LBFGS_TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", LBFGS_CASES, ids=[c["key"] for c in LBFGS_CASES])
def test_lbfgs_state_dict_is_pytorchs(case):
    at = int(DATA["lbfgs_state_step"])
    params, opt = make_lbfgs(case, DATA["lbfgs_param0"])
    run_lbfgs(opt, params, 1, at)
    ours, theirs = opt.state_dict()["state"][0], torch_state_dict(case)["state"][0]
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        mine = ours[name]
        if isinstance(value, list):
            assert len(mine) == len(value), name
            if name == "al":   # scratch of the two-loop recursion, rewritten before each use;
                continue       # its values cancel to rounding noise (2e-7 relative in float64)
            pairs = [(a, b) for a, b in zip(mine, value) if b is not None]
        else:
            pairs = [(mine, value)]
        for a, b in pairs:
            assert np.shape(a) == np.shape(b), name
            if case["dtype"] == "float64":   # float32: the history is made of steps that
                # differ up to 2% (LBFGS_TOLERANCE), gradient differences up to 30%
                np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                           rtol=1e-8, atol=1e-10, err_msg=name)


def test_lbfgs_state_dict_round_trip_through_torch():
    torch = pytest.importorskip("torch")
    case = next(c for c in LBFGS_CASES if c["dtype"] == "float64" and "line_search_fn" in
                c["options"])
    at, expected = int(DATA["lbfgs_state_step"]), DATA[case["key"]]
    params, opt = make_lbfgs(case, DATA["lbfgs_param0"])
    run_lbfgs(opt, params, 1, at)
    convert = lambda v: [None if x is None else torch.tensor(x) for x in v] if isinstance(  # noqa
        v, list) else torch.tensor(v) if isinstance(v, np.ndarray) else v
    tensors = [torch.nn.Parameter(torch.tensor(np.array(p))) for p in params]
    theirs = torch.optim.LBFGS(tensors, **case["options"])
    saved = opt.state_dict()
    theirs.load_state_dict({"state": {0: {k: convert(v) for k, v in saved["state"][0].items()}},
                            "param_groups": saved["param_groups"]})
    assert theirs.param_groups[0]["lr"] == case["options"]["lr"]
    data = {i: tuple(DATA[f"lbfgs_{n}{i}"] for n in "acw") for i in range(len(LBFGS_SHAPES))}
    torch_loss = generator().lbfgs_loss
    for step in range(at + 1, len(expected)):
        if step == int(DATA["lbfgs_lr_change"]):
            theirs.param_groups[0]["lr"] *= 0.5

        def closure():
            theirs.zero_grad()
            loss = torch_loss(tensors, data, step, lambda a: torch.tensor(a))
            loss.backward()
            return loss
        theirs.step(closure)
    np.testing.assert_allclose(flat_of([t.detach().numpy() for t in tensors]), expected[-1],
                               rtol=1e-9, atol=1e-12)


def test_lbfgs_needs_a_closure_and_one_group():
    params = [Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
    opt = LBFGS(params[:1])
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        opt.step(None)
    with pytest.raises(ValueError, match=re.escape(
            "LBFGS doesn't support per-parameter options (parameter groups)")):
        LBFGS([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(ValueError, match="only 'strong_wolfe' is supported"):
        LBFGS(params, line_search_fn="wolfe")


# -- PyTorch's defaults and messages; what minidl refuses ----------------------------------

DEFAULTS = {
    Adafactor: dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                    maximize=False),
    Muon: dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
               ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5,
               adjust_lr_fn=None),
    LBFGS: dict(lr=1, max_iter=20, max_eval=25, tolerance_grad=1e-7, tolerance_change=1e-9,
                history_size=100, line_search_fn=None),
}


@pytest.mark.parametrize("cls", DEFAULTS, ids=lambda c: c.__name__)
def test_defaults_are_pytorchs(cls):
    param = Tensor(np.ones((2, 2)), requires_grad=True)
    assert cls([param], device="cpu").defaults == DEFAULTS[cls]


@pytest.mark.parametrize("cls,options,message", [
    (Adafactor, dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (Adafactor, dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    (Adafactor, dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
    (Adafactor, dict(eps=(None, -1.0)), "epsilon2 should be >= 0 but is: -1.0"),
    (Adafactor, dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    (Adafactor, dict(weight_decay=-0.1), "weight_decay should be >= 0 but is: -0.1"),
    (Adafactor, dict(eps=1e-3), "Invalid eps value: 0.001"),
    (Muon, dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (Muon, dict(momentum=-0.5), "momentum should be >= 0 but is: -0.5"),
    (Muon, dict(weight_decay=-0.1), "weight decay should be >= 0 but is: -0.1"),
    (Muon, dict(adjust_lr_fn="fast"), "Adjust learning rate function fast is not supported"),
    (Muon, dict(ns_steps=100), "Number of steps must be less than 100"),
    (Muon, dict(ns_coefficients=(1.0, 2.0)), "Coefficients must be a tuple of exactly 3"),
    (LBFGS, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (LBFGS, dict(history_size=0), "Invalid history_size value: 0"),
])
def test_invalid_hyperparameters_get_pytorchs_message(cls, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([Tensor(np.ones((2, 2)), requires_grad=True)], device="cpu", **options)


def test_muon_refuses_params_that_are_not_matrices_as_pytorch():
    matrix, bias = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(3),
                                                                        requires_grad=True)
    with pytest.raises(ValueError, match=re.escape(
            "Muon only supports 2D parameters whereas we found a parameter with size: (3,)")):
        Muon([matrix, bias])
    opt = Muon([matrix])
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        opt.add_param_group({"params": [bias]})
    assert len(opt.param_groups) == 1


def test_lbfgs_refuses_cuda_and_runs_auto_on_the_cpu(monkeypatch):
    from minidl import kernels

    monkeypatch.setattr(kernels, "resolve",
                        lambda device="auto": "cuda" if device in ("auto", "cuda") else device)
    param = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS has no cuda kernel"):
        LBFGS([param], device="cuda")
    assert LBFGS([param], device="auto").device == "cpu"


def test_the_shape_table_gives_each_param_a_view_of_the_flat_buffers():
    """Offsets, sizes and (batch, rows, cols) of each param, and each state buffer's
    offset: reshaping the flat buffer there gives the param itself, without a copy."""
    shapes = [(4, 3), (5,), (2, 2, 3), ()]
    params = [Tensor(np.arange(np.prod(s), dtype=np.float64).reshape(s) + i, requires_grad=True)
              for i, s in enumerate(shapes)]
    flat = Adafactor(params, device="cpu")._flat[0]
    assert flat.table.tolist() == [
        # offset size ndim batch rows cols row_var col_var variance
        [0, 12, 2, 1, 4, 3, 0, 0, 0],
        [12, 5, 1, 1, 1, 5, 4, 3, 0],
        [17, 12, 3, 2, 2, 3, 4, 3, 5],
        [29, 1, 0, 1, 1, 1, 8, 9, 5]]
    assert [flat.layouts[name].size for name in ("row_var", "col_var", "variance")] == [8, 9, 6]
    for param, (offset, size, _, batch, rows, cols, *_) in zip(params, flat.table):
        view = flat.data[offset:offset + size].reshape(batch, rows, cols)
        assert np.shares_memory(view, param._data)
        np.testing.assert_array_equal(view.reshape(param.shape), np.asarray(param))


def test_a_state_of_the_wrong_factored_shape_is_refused_before_anything_changes():
    weight, bias = (Tensor(np.ones(shape), requires_grad=True) for shape in ((4, 3), (3,)))
    opt = Adafactor([weight, bias], device="cpu")
    weight.grad, bias.grad = np.ones((4, 3)), np.ones(3)
    opt.step()
    saved = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 0.5
    bad["state"][0]["row_var"] = np.ones((4, 3))     # a full v, not the (4, 1) row means
    with pytest.raises(ValueError, match=re.escape("state 'row_var' of parameter 0 (group 0) "
                                                   "has shape (4, 3), expected (4, 1)")):
        opt.load_state_dict(bad)
    wrong = opt.state_dict()
    wrong["state"][1]["row_var"] = np.ones((3, 1))   # a bias has a full variance only
    with pytest.raises(ValueError, match="has an entry 'row_var', which a parameter of shape"):
        opt.load_state_dict(wrong)
    after = opt.state_dict()
    assert after["param_groups"][0]["lr"] == 0.01
    for index, entry in saved["state"].items():
        for name, value in entry.items():
            np.testing.assert_array_equal(after["state"][index][name], value)
