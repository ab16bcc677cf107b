"""Losses: values against closed forms in numpy, gradients by finite differences,
stability at extreme logits, and the errors for bad targets and arguments."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(7)


def reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](values)


def leaf(array: np.ndarray) -> minidl.Tensor:
    return minidl.tensor(array, requires_grad=True, dtype=np.float64)


def log_softmax(x: np.ndarray) -> np.ndarray:
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 3))
CLASSES = np.array([0, 2, 1, 2, 0])
PROBABILITIES = RNG.uniform(size=(5, 3))

# name -> (loss function, input, target, the per-element losses in numpy)
CASES = {
    "mse": (F.mse_loss, X, Y, (X - Y) ** 2),
    "l1": (F.l1_loss, X, Y, np.abs(X - Y)),
    "huber": (F.huber_loss, X, Y, np.where(np.abs(X - Y) < 1.0, 0.5 * (X - Y) ** 2,
                                           np.abs(X - Y) - 0.5)),
    "cross_entropy": (F.cross_entropy, X, CLASSES, -log_softmax(X)[np.arange(5), CLASSES]),
    "nll": (F.nll_loss, log_softmax(X), CLASSES, -log_softmax(X)[np.arange(5), CLASSES]),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, X, PROBABILITIES,
                        -(PROBABILITIES * np.log(1 / (1 + np.exp(-X)))
                          + (1 - PROBABILITIES) * np.log(1 - 1 / (1 + np.exp(-X))))),
}
MODULES = {"mse": nn.MSELoss, "l1": nn.L1Loss, "huber": nn.HuberLoss,
           "cross_entropy": nn.CrossEntropyLoss, "nll": nn.NLLLoss,
           "bce_with_logits": nn.BCEWithLogitsLoss}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_value_matches_closed_form(name: str, reduction: str) -> None:
    loss_fn, x, target, per_element = CASES[name]
    loss = loss_fn(leaf(x), target, reduction=reduction)
    np.testing.assert_allclose(loss.numpy(), reduce(per_element, reduction), rtol=1e-12)
    module_loss = MODULES[name](reduction=reduction)(leaf(x), target)
    np.testing.assert_allclose(module_loss.numpy(), loss.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(name: str, reduction: str) -> None:
    loss_fn, x, target, _ = CASES[name]
    minidl.gradcheck(lambda t: loss_fn(t, target, reduction=reduction), leaf(x))


def test_gradients_of_cross_entropy_and_bce_have_closed_forms() -> None:
    logits = leaf(X)
    F.cross_entropy(logits, CLASSES, reduction="sum").backward()
    softmax = np.exp(log_softmax(X))
    np.testing.assert_allclose(logits.grad, softmax - np.eye(3)[CLASSES], rtol=1e-12)
    logits = leaf(X)
    F.binary_cross_entropy_with_logits(logits, PROBABILITIES, reduction="sum").backward()
    np.testing.assert_allclose(logits.grad, 1 / (1 + np.exp(-X)) - PROBABILITIES, rtol=1e-12)


def test_bce_with_logits_target_gets_gradient_minus_x() -> None:
    target = leaf(PROBABILITIES)
    F.binary_cross_entropy_with_logits(leaf(X), target, reduction="sum").backward()
    np.testing.assert_allclose(target.grad, -X, rtol=1e-12)


def test_huber_is_quadratic_inside_delta_and_linear_outside() -> None:
    diff = np.array([-3.0, -0.5, 0.25, 1.5, 4.0])
    loss = F.huber_loss(leaf(diff), np.zeros(5), reduction="none", delta=2.0)
    np.testing.assert_allclose(loss.numpy(), [2 * (3 - 1), 0.125, 0.03125, 1.125, 2 * (4 - 1)])
    np.testing.assert_allclose(nn.HuberLoss(delta=2.0)(leaf(diff), np.zeros(5)).numpy(),
                               loss.numpy().mean())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_at_extreme_logits(dtype: type) -> None:
    logits = minidl.tensor(np.array([1e4, -1e4, 1e4, -1e4]), requires_grad=True, dtype=dtype)
    target = np.array([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [0.0, 0.0, 1e4, 1e4])
    assert loss.dtype == dtype
    F.binary_cross_entropy_with_logits(logits, target, reduction="sum").backward()
    np.testing.assert_array_equal(logits.grad, [0.0, 0.0, 1.0, -1.0])


def test_bce_with_logits_keeps_tiny_losses() -> None:
    """log1p(e^-40) is e^-40 to double precision, where log(1 + e^-40) rounds to 0."""
    loss = F.binary_cross_entropy_with_logits(leaf(np.array([-40.0, 40.0])), np.array([0.0, 1.0]),
                                              reduction="none")
    np.testing.assert_allclose(loss.numpy(), [np.exp(-40.0)] * 2, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    logits = leaf(np.array([[1e4, 0.0, -1e4], [5e3, 5e3, 0.0]]))
    loss = F.cross_entropy(logits, np.array([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, np.log(2)])
    loss.backward(np.ones(2))
    np.testing.assert_allclose(logits.grad, [[1.0, -1.0, 0.0], [-0.5, 0.5, 0.0]])


def test_targets_may_be_tensors_or_arrays() -> None:
    for target in (Y, minidl.tensor(Y, dtype=np.float64)):
        np.testing.assert_allclose(F.mse_loss(leaf(X), target).numpy(), np.mean((X - Y) ** 2))
    for classes in (CLASSES, minidl.tensor(CLASSES), CLASSES.astype(np.int32)):
        np.testing.assert_allclose(F.cross_entropy(leaf(X), classes).numpy(),
                                   CASES["cross_entropy"][3].mean())


@pytest.mark.parametrize("name", CASES)
def test_float32_input_gives_float32_loss_and_gradient(name: str) -> None:
    loss_fn, x, target, per_element = CASES[name]
    x = minidl.tensor(x, requires_grad=True, dtype=minidl.float32)
    loss = loss_fn(x, target)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), per_element.mean(), rtol=1e-5)
    loss.backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss])
def test_class_index_out_of_range_names_value_and_range(loss_fn) -> None:
    with pytest.raises(ValueError, match=r"target\[3\] = 7 is out of range.*\[0, 2\].*3 classes"):
        loss_fn(leaf(X), np.array([0, 1, 2, 7, 0]))
    with pytest.raises(ValueError, match=r"target\[1\] = -1 is out of range"):
        loss_fn(leaf(X), np.array([0, -1, 2, 1, 0]))


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss])
def test_float_class_targets_are_rejected(loss_fn) -> None:
    with pytest.raises(TypeError, match="integer class indices.*float64"):
        loss_fn(leaf(X), CLASSES.astype(np.float64))


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss])
def test_class_target_batch_size_and_shape(loss_fn) -> None:
    with pytest.raises(ValueError, match="input batch size 5 does not match target batch size 4"):
        loss_fn(leaf(X), CLASSES[:4])
    with pytest.raises(ValueError, match=r"target must have shape \(N,\).*\(5, 1\)"):
        loss_fn(leaf(X), CLASSES[:, None])
    with pytest.raises(ValueError, match=r"input must have shape \(N, C\).*\(15,\)"):
        loss_fn(leaf(X.ravel()), CLASSES)


@pytest.mark.parametrize("name", ["mse", "l1", "huber", "bce_with_logits"])
def test_shape_mismatch_names_both_shapes(name: str) -> None:
    loss_fn = CASES[name][0]
    with pytest.raises(RuntimeError, match=r"target shape \(5,\) does not match input shape \(5, 3\)"):
        loss_fn(leaf(X), PROBABILITIES[:, 0])


def test_bce_target_outside_unit_interval() -> None:
    target = PROBABILITIES.copy()
    target[2, 1] = 1.5
    with pytest.raises(ValueError, match=r"target\[2, 1\] = 1.5 is out of range.*\[0, 1\]"):
        F.binary_cross_entropy_with_logits(leaf(X), target)


@pytest.mark.parametrize("name", CASES)
def test_invalid_reduction_is_named(name: str) -> None:
    loss_fn, x, target, _ = CASES[name]
    with pytest.raises(ValueError, match="Invalid reduction: 'avg'"):
        loss_fn(leaf(x), target, reduction="avg")
    with pytest.raises(ValueError, match="Invalid reduction: 'total'"):
        MODULES[name](reduction="total")


def test_invalid_huber_delta() -> None:
    with pytest.raises(ValueError, match="Invalid delta: -1.0"):
        nn.HuberLoss(delta=-1.0)
    with pytest.raises(ValueError, match="Invalid delta: 0"):
        F.huber_loss(leaf(X), Y, delta=0)
