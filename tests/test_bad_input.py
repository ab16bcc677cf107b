"""Bad input gets a clear error naming the argument and the value, not a silent wrong answer."""
from __future__ import annotations

import re

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import datasets
from minidl.nn.functional import binary_cross_entropy_with_logits
from minidl.tensor import Tensor
from minidl.train import EarlyStopping, fit


@pytest.mark.parametrize("data", [None, [1.0, None], [[None]]])
def test_none_is_no_number(data):
    with pytest.raises(TypeError, match="data holding None: None is not a number"):
        minidl.tensor(data)


@pytest.mark.parametrize("dtype", [np.complex64, "complex128", np.str_, object])
def test_a_tensor_refuses_dtypes_that_are_not_real_numbers(dtype):
    with pytest.raises(TypeError, match=r"Invalid dtype: \S+ \(a Tensor holds float, int or "
                                        r"bool numbers\)"):
        Tensor([1.0], dtype=dtype)


def test_real_dtypes_are_still_accepted():
    assert [Tensor([1], dtype=d).dtype for d in (np.float64, np.int32, bool)] == \
        [np.float64, np.int32, np.bool_]


@pytest.mark.parametrize("flag", ["no", "", 1, 0, None, [True]])
def test_requires_grad_must_be_a_bool(flag):
    with pytest.raises(TypeError, match=f"requires_grad must be True or False, not "
                                        f"{repr(flag).replace('[', '.')}"):
        Tensor([1.0], requires_grad=flag)
    t = Tensor([1.0])
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        t.requires_grad = flag
    assert t.requires_grad is False


def test_numpy_bools_are_bools():
    assert Tensor([1.0], requires_grad=np.True_).requires_grad is True
    assert Tensor([1.0], requires_grad=np.False_).requires_grad is False


@pytest.mark.parametrize("bad", [np.nan, -np.inf, np.inf])
def test_bce_refuses_a_nan_target(bad):
    with pytest.raises(ValueError, match=rf"target\[1\] = {bad} is out of range: targets must "
                                         rf"be in \[0, 1\]"):
        binary_cross_entropy_with_logits(Tensor([0.5, 0.5]), Tensor([1.0, bad]))
    with pytest.raises(ValueError, match="out of range"):
        nn.BCEWithLogitsLoss()(Tensor([0.5, 0.5]), Tensor([1.0, bad]))
    with pytest.raises(ValueError, match=rf"binary_cross_entropy: target\[1\] = {bad} is out"):
        nn.BCELoss()(Tensor([0.5, 0.5]), Tensor([1.0, bad]))


@pytest.mark.parametrize("name", [["moons"], ("moons",), None, 3])
def test_a_dataset_name_must_be_a_str(name):
    message = rf"Invalid dataset name: {re.escape(repr(name))} \(a {type(name).__name__}; " \
              rf"it needs a str, one of moons, circles"
    with pytest.raises(TypeError, match=message):
        datasets.load(name)
    with pytest.raises(TypeError, match=message):
        datasets.task(name)


@pytest.mark.parametrize("name, options, message", [
    ("regression", {"n_samples": 1}, r"load\('regression'\): Invalid n_samples: 1 \(needs 2 "),
    ("moons", {"n_samples": 0}, r"load\('moons'\): Invalid n_samples: 0"),
    ("regression", {"n_samples": 2, "test_size": 0.9},
     r"load\('regression'\): 2 samples split with test_size=0.9 leave 0 to train on and 2 to "
     r"test; pass a larger n_samples or a test_size nearer 0.5"),
    ("moons", {"n_samples": 2},
     r"load\('moons'\): 2 samples of 2 classes cannot be split by class with test_size=0.2: "
     r"every class needs 2 samples \(the rarest has 1\)"),
    ("classification", {"n_samples": 4}, r"load\('classification'\): 4 samples of 2 classes"),
    ("iris", {"test_size": 0.01},
     r"load\('iris'\): 150 samples of 3 classes cannot be split by class with "
     r"test_size=0.01: .* \(train gets 148, test 2\); pass a test_size nearer 0.5$"),
])
def test_too_few_samples_to_split_is_a_clear_error(name, options, message):
    with pytest.raises(ValueError, match=message):
        datasets.load(name, **options)


def test_the_smallest_splittable_datasets_load():
    assert len(datasets.load("regression", n_samples=2).y_train) == 1
    split = datasets.load("moons", n_samples=10)
    assert (len(split.y_train), len(split.y_test)) == (8, 2)


def small_problem():
    minidl.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    return nn.mlp([2, 3, 2], nn.ReLU), X, (X[:, 0] > 0).astype(np.int64)


@pytest.mark.parametrize("optimizer", ["sgd", None, 0.01])
def test_fit_wants_an_optimizer_object(optimizer):
    model, X, y = small_problem()
    with pytest.raises(TypeError, match=rf"Invalid optimizer: {re.escape(repr(optimizer))} "
                                        rf"\(a \w+\); fit needs an optimizer object with step\(\) "
                                        rf"and zero_grad\(\), e\.g\. minidl\.optim\.RMSprop"):
        fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), progress=False)


@pytest.mark.parametrize("min_delta", ["a", None, float("nan"), -0.1, True, [0.1]])
def test_early_stopping_min_delta_must_be_a_number(min_delta):
    with pytest.raises(ValueError, match=rf"Invalid min_delta: {re.escape(repr(min_delta))} "
                                         rf"\(needs a number >= 0\)"):
        EarlyStopping(min_delta=min_delta)


def test_early_stopping_takes_numpy_and_int_deltas():
    assert EarlyStopping(min_delta=np.float32(0.5)).min_delta == 0.5
    assert EarlyStopping(min_delta=1).min_delta == 1


def test_fit_names_a_callback_without_on_epoch_end_before_training():
    model = nn.Linear(2, 2)
    before = model.weight.numpy().copy()
    with pytest.raises(TypeError, match=r"Invalid callback: 'stop' \(a str\) has no "
                                        r"on_epoch_end"):
        fit(model, nn.CrossEntropyLoss(), minidl.optim.SGD(model.parameters(), lr=0.1),
            (np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])), epochs=1, progress=False,
            callbacks=["stop"])
    assert np.array_equal(model.weight.numpy(), before)


def test_fit_refuses_a_stop_on_nonfinite_that_is_not_a_bool():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="stop_on_nonfinite must be True or False, not 'no'"):
        fit(model, nn.CrossEntropyLoss(), minidl.optim.SGD(model.parameters(), lr=0.1),
            (np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])), stop_on_nonfinite="no")


@pytest.mark.parametrize("shifts", [1.5, (1, 0.5), True, "1"])
def test_roll_names_a_shift_that_is_not_an_int(shifts):
    # numpy's roll truncated 1.5 to 1: a silently different answer
    with pytest.raises(TypeError, match="roll: shifts must be an int or a tuple of ints"):
        Tensor(np.arange(6.0).reshape(2, 3)).roll(shifts, dims=(0, 1) if
                                                  isinstance(shifts, tuple) else None)


@pytest.mark.parametrize("make", [lambda: minidl.full((2,), "a"), lambda: minidl.arange("a"),
                                  lambda: minidl.full((2,), None)])
def test_creation_names_a_value_that_is_not_a_number(make):
    with pytest.raises(TypeError, match=r"expected a number \(bool, int or float\), got "
                                        r"(str 'a'|NoneType None)"):
        make()


@pytest.mark.parametrize("bias", ["no", None, 0])
def test_linear_refuses_a_bias_flag_that_is_not_a_bool(bias):
    with pytest.raises(TypeError, match=f"Invalid bias: {re.escape(repr(bias))} "
                                        f"\\(needs True or False\\)"):
        nn.Linear(2, 3, bias=bias)
