"""minidl.nn.utils: clip_grad_norm_, clip_grad_value_, get_total_norm,
clip_grads_with_norm_, clip_grad_norm, parameters_to_vector and vector_to_parameters:
PyTorch's numbers, the one-pass path over an optimizer's flat grad buffer, and bad input."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.nn import utils
from minidl.nn.utils import clip_grad_norm_, clip_grad_value_
from minidl.optim import SGD

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_clip", DATA / "make_clip_grad_vectors.py")
make_clip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_clip)
VECTORS = np.load(DATA / "clip_grad_vectors.npz")


def params_with_grads(grads: np.ndarray) -> list[minidl.Tensor]:
    """One tensor per shape of SHAPES, holding the matching slice of ``grads``."""
    tensors, start = [], 0
    for shape in make_clip.SHAPES:
        size = int(np.prod(shape))
        p = minidl.Tensor(np.zeros(shape), requires_grad=True)
        p.grad = grads[start:start + size].reshape(shape)
        tensors.append(p)
        start += size
    return tensors


def concat(params) -> np.ndarray:
    return np.concatenate([p.grad.reshape(-1) for p in params])


def optimized(grads: np.ndarray) -> tuple[list[minidl.Tensor], SGD]:
    params = params_with_grads(grads)
    return params, SGD(params, lr=0.1, device="cpu")


@pytest.mark.parametrize("case", list(make_clip.CASES))
@pytest.mark.parametrize("flat", [False, True], ids=["tensors", "flat"])
def test_clip_grad_norm_matches_pytorch(case, flat):
    max_norm, norm_type = make_clip.CASES[case]
    grads = VECTORS["grads"]
    params = optimized(grads)[0] if flat else params_with_grads(grads)
    norm = clip_grad_norm_(params, max_norm, norm_type)
    assert isinstance(norm, minidl.Tensor) and norm.shape == () and norm.dtype == np.float32
    np.testing.assert_allclose(norm.item(), VECTORS[f"norm_{case}"], rtol=1e-6)
    np.testing.assert_allclose(concat(params), VECTORS[f"clipped_{case}"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("flat", [False, True], ids=["tensors", "flat"])
def test_clip_grad_value_matches_pytorch(flat):
    grads = VECTORS["grads"]
    params = optimized(grads)[0] if flat else params_with_grads(grads)
    assert clip_grad_value_(params, make_clip.CLIP_VALUE) is None
    np.testing.assert_array_equal(concat(params), VECTORS["value_clipped"])


def test_a_whole_group_is_clipped_as_its_one_flat_buffer(monkeypatch):
    grads = VECTORS["grads"]
    params, optimizer = optimized(grads)
    seen = []
    real_norm = utils._norm
    monkeypatch.setattr(utils, "_norm", lambda a, p: seen.append(a) or real_norm(a, p))
    clip_grad_norm_(reversed(params), 0.5)     # any order, any iterable
    assert len(seen) == 1 and seen[0] is optimizer._flat[0].grad
    # the flat buffer is the params' grads: they changed through it
    np.testing.assert_allclose(concat(params), VECTORS["clipped_l2_clips"], rtol=1e-6)


def test_flat_and_tensor_paths_agree_with_two_groups_and_a_subset():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal(VECTORS["grads"].size).astype(np.float32) * 3
    loose = params_with_grads(grads)
    bound = params_with_grads(grads)
    SGD([{"params": bound[:2]}, {"params": bound[2:]}], lr=0.1, device="cpu")
    for chosen in (slice(None), slice(1, 3), slice(0, 2)):
        a, b = loose[chosen], bound[chosen]
        norm_a = clip_grad_norm_(a, 1.0).item()
        norm_b = clip_grad_norm_(b, 1.0).item()
        np.testing.assert_allclose(norm_a, norm_b, rtol=1e-6)
        np.testing.assert_allclose(concat(a), concat(b), rtol=1e-6)
    np.testing.assert_allclose(concat(loose), concat(bound), rtol=1e-6)


def test_a_param_without_grad_is_skipped_and_its_stale_slice_left_alone():
    grads = VECTORS["grads"]
    params, optimizer = optimized(grads)
    buffer = optimizer._flat[0].grad
    lo, hi = optimizer._flat[0].slices()[1]
    stale = buffer[lo:hi].copy()
    params[1].grad = None                      # the slice keeps its old values
    norm = clip_grad_norm_(params, 0.5)
    others = np.concatenate([p.grad.reshape(-1) for p in params if p.grad is not None])
    rest = np.concatenate([grads[:lo], grads[hi:]])
    np.testing.assert_allclose(norm.item(), np.linalg.norm(rest), rtol=1e-6)
    np.testing.assert_allclose(others, rest * 0.5 / (np.linalg.norm(rest) + 1e-6), rtol=1e-6)
    np.testing.assert_array_equal(buffer[lo:hi], stale)
    assert params[1].grad is None


def test_no_grads_gives_zero_and_float64_stays_float64():
    p = minidl.zeros(3, requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    assert clip_grad_norm_([], 1.0).item() == 0.0
    q = minidl.Tensor([3.0, 4.0], requires_grad=True, dtype=np.float64)
    q.grad = np.array([3.0, 4.0])
    norm = clip_grad_norm_(q, 1.0)             # a single Tensor is accepted
    assert norm.dtype == np.float64 and norm.item() == 5.0
    np.testing.assert_allclose(q.grad, np.array([3.0, 4.0]) / (5 + 1e-6))
    q.grad = np.array([3.0, 4.0])
    assert clip_grad_norm_([q, q], 10.0).item() == 5.0        # given twice, counted once


def test_small_norm_leaves_grads_bit_identical():
    grads = VECTORS["grads"]
    params = optimized(grads)[0]
    clip_grad_norm_(params, 1e6)
    np.testing.assert_array_equal(concat(params), grads)


def test_non_finite_norm_raises_when_asked_and_scales_otherwise():
    p = minidl.zeros(3, requires_grad=True)
    SGD([p], lr=0.1, device="cpu")
    p.grad = np.array([1.0, np.inf, 2.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad, [1.0, np.inf, 2.0])   # untouched
    norm = clip_grad_norm_([p], 1.0)
    assert norm.item() == math.inf
    np.testing.assert_array_equal(p.grad, [0.0, np.nan, 0.0])   # as PyTorch: g * 0
    p.grad = np.array([1.0, np.nan, 2.0])
    assert math.isnan(clip_grad_norm_([p], 1.0, norm_type=math.inf).item())
    assert np.isnan(p.grad).all()


def test_model_parameters_generator_and_inf_norm():
    minidl.manual_seed(0)
    model = nn.Linear(3, 2)
    for param in model.parameters():
        param.grad = np.full(param.shape, -2.0)
    norm = clip_grad_norm_(model.parameters(), 0.5, norm_type="inf")
    assert norm.item() == 2.0
    for param in model.parameters():
        np.testing.assert_allclose(param.grad, -2.0 * 0.5 / (2 + 1e-6), rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda ps: clip_grad_norm_(ps, -1.0), "max_norm: -1.0"),
    (lambda ps: clip_grad_norm_(ps, "1"), "max_norm: '1'"),
    (lambda ps: clip_grad_norm_(ps, float("nan")), "max_norm: nan"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0), "norm_type: 0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=-2.0), "norm_type: -2.0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, foreach="yes"), "foreach: 'yes'"),
    (lambda ps: clip_grad_value_(ps, -0.1), "clip_value: -0.1"),
    (lambda ps: clip_grad_value_(ps, True), "clip_value: True"),
])
def test_bad_arguments_are_named(call, message):
    params = params_with_grads(VECTORS["grads"])
    with pytest.raises(ValueError, match=message):
        call(params)
    np.testing.assert_array_equal(concat(params), VECTORS["grads"])


def test_non_tensors_are_refused():
    with pytest.raises(TypeError, match="got a ndarray"):
        clip_grad_norm_([np.zeros(3)], 1.0)


# -- fit(..., clip_grad_norm=...) and minidl train --clip-grad-norm ----------------------
def moons_model():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    minidl.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)), X, y


def flat_params(model) -> np.ndarray:
    return np.concatenate([p.numpy().reshape(-1).copy() for p in model.parameters()])


def test_fit_clips_every_step_to_the_norm():
    moved = {}
    for clip in (None, 1e-3):
        model, X, y = moons_model()
        optimizer = SGD(model.parameters(), lr=1.0, device="cpu")
        before = flat_params(model)
        minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=1, batch_size=16,
                   progress=False, seed=0, clip_grad_norm=clip)
        moved[clip] = np.linalg.norm(flat_params(model) - before)
    assert moved[1e-3] <= 4 * 1e-3 * (1 + 1e-4)      # 4 steps of lr 1, each norm <= 1e-3
    assert moved[None] > 100 * moved[1e-3]


def test_fit_refuses_a_bad_clip_grad_norm():
    model, X, y = moons_model()
    optimizer = SGD(model.parameters(), lr=1.0, device="cpu")
    for bad in (0, -1.0, "1", True):
        with pytest.raises(ValueError, match=f"Invalid clip_grad_norm: {bad!r}"):
            minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), progress=False,
                       clip_grad_norm=bad)


def test_cli_passes_clip_grad_norm_saves_it_and_refuses_a_change_on_resume(
        capsys, monkeypatch, tmp_path):
    from minidl import cli

    seen = []
    real_fit = cli.fit
    monkeypatch.setattr(cli, "fit", lambda *a, **k: seen.append(k["clip_grad_norm"])
                        or real_fit(*a, **k))
    path = str(tmp_path / "run.npz")
    small = ["train", "--dataset", "moons", "--hidden", "4", "--no-progress"]
    assert cli.main([*small, "--epochs", "1", "--clip-grad-norm", "0.5", "--save", path]) == 0
    assert seen == [0.5] and minidl.load(path)["args"]["clip_grad_norm"] == 0.5
    assert cli.main(["train", "--resume", path, "--epochs", "2", "--no-progress"]) == 0
    assert seen == [0.5, 0.5]
    capsys.readouterr()
    assert cli.main(["train", "--resume", path, "--epochs", "3",
                     "--clip-grad-norm", "2"]) == 2
    assert "--clip-grad-norm 0.5, not 2.0" in capsys.readouterr().err
    for bad in ("0", "-1", "inf", "x"):
        assert cli.main([*small, "--clip-grad-norm", bad]) == 2
        assert "--clip-grad-norm: invalid" in capsys.readouterr().err


# -- get_total_norm, clip_grads_with_norm_, clip_grad_norm, parameters <-> vector ---------
@pytest.mark.parametrize("case", list(make_clip.CASES))
def test_total_norm_then_clip_with_norm_is_pytorch_clip_grad_norm_(case):
    max_norm, norm_type = make_clip.CASES[case]
    params = optimized(VECTORS["grads"])[0]
    total = utils.get_total_norm([p.grad for p in params], norm_type)
    assert isinstance(total, minidl.Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), VECTORS[f"norm_{case}"], rtol=1e-6)
    assert utils.clip_grads_with_norm_(params, max_norm, total) is None
    np.testing.assert_allclose(concat(params), VECTORS[f"clipped_{case}"], rtol=1e-6, atol=1e-7)


def test_total_norm_of_nothing_and_of_float64_and_its_errors():
    assert utils.get_total_norm([]).item() == 0.0
    norm = utils.get_total_norm(minidl.tensor([3.0, 4.0], dtype=minidl.float64))
    assert norm.dtype == np.float64 and norm.item() == 5.0
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([minidl.tensor([np.inf])], error_if_nonfinite=True)
    with pytest.raises(TypeError, match="got a list"):
        utils.get_total_norm([[1.0]])
    with pytest.raises(ValueError, match="norm_type: 0"):
        utils.get_total_norm([minidl.ones(2)], norm_type=0)
    params = params_with_grads(VECTORS["grads"])
    with pytest.raises(TypeError, match="total_norm: 'big'"):
        utils.clip_grads_with_norm_(params, 1.0, "big")
    with pytest.raises(ValueError, match="max_norm: -1"):
        utils.clip_grads_with_norm_(params, -1, 2.0)
    np.testing.assert_array_equal(concat(params), VECTORS["grads"])


def test_clip_grad_norm_is_the_deprecated_alias():
    params = params_with_grads(VECTORS["grads"])
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated in favor of"):
        norm = utils.clip_grad_norm(params, 0.5)
    np.testing.assert_allclose(norm.item(), VECTORS["norm_l2_clips"], rtol=1e-6)
    np.testing.assert_allclose(concat(params), VECTORS["clipped_l2_clips"], rtol=1e-6)


def test_parameters_to_vector_concatenates_and_is_differentiable():
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = utils.parameters_to_vector(model.parameters())
    expected = np.concatenate([p.numpy().reshape(-1) for p in model.parameters()])
    np.testing.assert_array_equal(vec.numpy(), expected)
    assert vec.shape == (11,) and vec.requires_grad
    (vec * minidl.arange(11.0)).sum().backward()
    np.testing.assert_array_equal(concat(model.parameters()), np.arange(11.0))
    a = minidl.Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True,
                      dtype=np.float64)
    b = minidl.Tensor(np.random.default_rng(1).standard_normal(4), requires_grad=True,
                      dtype=np.float64)
    assert minidl.gradcheck(lambda x, y: utils.parameters_to_vector([x, y]) ** 2, a, b)


def test_vector_to_parameters_writes_into_the_optimizers_flat_buffer():
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    optimizer = SGD(model.parameters(), lr=0.5, device="cpu")
    buffer = optimizer._flat[0].data
    version = model[0].weight._version
    vec = minidl.arange(12.0)                   # one more than the 11 parameters: ignored
    utils.vector_to_parameters(vec, model.parameters())
    np.testing.assert_array_equal(buffer, np.arange(11.0))
    assert all(np.shares_memory(p.numpy(), buffer) for p in model.parameters())
    assert model[0].weight._version > version
    np.testing.assert_array_equal(model[0].weight.numpy(), [[0, 1, 2], [3, 4, 5]])
    vec[0] = 100.0                              # copies, not views of vec (unlike PyTorch)
    assert model[0].weight.numpy()[0, 0] == 0.0
    for p in model.parameters():
        p.grad = np.ones(p.shape, np.float32)
    optimizer.step()                            # steps from the written values
    np.testing.assert_allclose(buffer, np.arange(11.0) - 0.5)
    np.testing.assert_array_equal(
        utils.parameters_to_vector(model.parameters()).numpy(), np.arange(11.0) - 0.5)


def test_vector_to_parameters_refuses_bad_input_and_writes_nothing():
    params = [minidl.zeros(2, 2, requires_grad=True), minidl.zeros(3, requires_grad=True)]
    with pytest.raises(TypeError, match="expected a Tensor, but got: numpy.ndarray"):
        utils.vector_to_parameters(np.ones(7), params)
    with pytest.raises(RuntimeError, match="vec holds 6 elements, the parameters 7"):
        utils.vector_to_parameters(minidl.ones(6), params)
    with pytest.raises(RuntimeError, match=r"must be 1-d, got shape \(7, 1\)"):
        utils.vector_to_parameters(minidl.ones(7, 1), params)
    assert all((p.numpy() == 0).all() for p in params)
