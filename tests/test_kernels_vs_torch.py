"""The kernels against PyTorch trajectories stored in tests/data/torch_optim_vectors.npz.

The vectors are written by tests/data/make_torch_vectors.py (torch 2.13, float64);
this test needs numpy only. ``eps_in_sqrt`` has no torch counterpart: it is
checked against a numpy transcription of the TensorFlow/optax formula instead.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minidl.kernels import cpu, reference

with np.load(Path(__file__).parent / "data" / "torch_optim_vectors.npz",
             allow_pickle=False) as stored:
    VECTORS = {key: stored[key] for key in stored.files}
CASES = [case for case in json.loads(str(VECTORS["cases"])) if not case["events"]]
# float32 runs carry ~6e-8 relative rounding per operation through 50 steps:
# a few 1e-6 relative to the params, which are of order 1.
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}


def states(case: dict, size: int, dtype) -> list[np.ndarray]:
    """The state buffers a kernel needs for this case, initialised as torch does."""
    o, name = case["options"], case["optimizer"]
    zeros = lambda used: np.zeros(size if used else 0, dtype)  # noqa: E731
    if name == "SGD":
        return [zeros(o["momentum"] != 0)]
    if name == "Adagrad":
        return [np.full(size, o["initial_accumulator_value"], dtype)]
    if name == "RMSprop":
        return [zeros(True), zeros(o["centered"]), zeros(o["momentum"] > 0)]
    if name in ("Adam", "AdamW"):
        return [zeros(True), zeros(True), zeros(o["amsgrad"])]
    return [zeros(True), zeros(True)]   # Rprop, Adadelta, Adamax, NAdam, RAdam


def step(backend, case: dict, param, grad, buffers, t: int) -> None:
    o, name = case["options"], case["optimizer"]
    if name == "SGD":
        backend.sgd(param, grad, *buffers, o["lr"], o["momentum"], o["dampening"],
                    o["weight_decay"], o["nesterov"], o["maximize"], t)
    elif name == "Adagrad":
        backend.adagrad(param, grad, *buffers, o["lr"], o["lr_decay"], o["weight_decay"],
                        o["eps"], o["maximize"], t)
    elif name == "RMSprop":
        backend.rmsprop(param, grad, *buffers, o["lr"], o["alpha"], o["eps"], o["weight_decay"],
                        o["momentum"], o["centered"], o["maximize"], False)
    elif name == "Rprop":
        backend.rprop(param, grad, *buffers, o["lr"], *o["etas"], *o["step_sizes"],
                      o["maximize"], t)
    elif name == "Adadelta":
        backend.adadelta(param, grad, *buffers, o["lr"], o["rho"], o["eps"], o["weight_decay"],
                         o["maximize"])
    else:
        beta1, beta2 = o["betas"]
        common = (o["lr"], beta1, beta2, o["eps"], o["weight_decay"])
        if name == "Adamax":
            backend.adamax(param, grad, *buffers, *common, o["maximize"], t)
        elif name == "NAdam":
            backend.nadam(param, grad, *buffers, *common, o["momentum_decay"],
                          o["decoupled_weight_decay"], o["maximize"], t)
        elif name == "RAdam":
            backend.radam(param, grad, *buffers, *common, o["decoupled_weight_decay"],
                          o["maximize"], t)
        else:
            backend.adam(param, grad, *buffers, *common, name == "AdamW", o["amsgrad"],
                         o["maximize"], t)


def trajectory(backend, case: dict, dtype) -> np.ndarray:
    param = VECTORS["param0"].astype(dtype)
    buffers = states(case, param.size, dtype)
    out = [param.copy()]
    for t, grad in enumerate(VECTORS["grads"].astype(dtype), start=1):
        step(backend, case, param, grad, buffers, t)
        out.append(param.copy())
    return np.stack(out)


def test_vectors_cover_every_optimizer():
    assert {case["optimizer"] for case in CASES} == {
        "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Rprop", "Adadelta", "Adamax", "NAdam",
        "RAdam"}


def test_vectors_cover_every_option():
    seen = {(c["optimizer"], k, json.dumps(v)) for c in CASES for k, v in c["options"].items()}
    for optimizer, option, values in [
            ("SGD", "nesterov", [True, False]), ("SGD", "maximize", [True, False]),
            ("SGD", "dampening", [0.0, 0.3]), ("SGD", "weight_decay", [0.0, 0.1]),
            ("Adagrad", "lr_decay", [0.0, 0.05]), ("Adagrad", "initial_accumulator_value", [0.5]),
            ("RMSprop", "centered", [True, False]), ("RMSprop", "momentum", [0.0, 0.9]),
            ("RMSprop", "alpha", [0.99, 0.3]), ("RMSprop", "weight_decay", [0.1]),
            ("Adam", "amsgrad", [True, False]), ("Adam", "weight_decay", [0.1]),
            ("Adam", "maximize", [True]), ("AdamW", "weight_decay", [0.1]),
            ("AdamW", "amsgrad", [True]), ("Adam", "betas", [[0.3, 0.999]]),
            ("Rprop", "etas", [[0.3, 1.5]]), ("Rprop", "step_sizes", [[1e-3, 0.02]]),
            ("Rprop", "maximize", [True]), ("Adadelta", "rho", [0.3]),
            ("Adadelta", "weight_decay", [0.1]), ("Adadelta", "maximize", [True]),
            ("Adamax", "weight_decay", [0.1]), ("Adamax", "betas", [[0.3, 0.999]]),
            ("NAdam", "decoupled_weight_decay", [True, False]), ("NAdam", "momentum_decay", [0.1]),
            ("NAdam", "maximize", [True]), ("RAdam", "decoupled_weight_decay", [True, False]),
            ("RAdam", "betas", [[0.9, 0.9]]), ("RAdam", "weight_decay", [0.1])]:
        for value in values:
            assert (optimizer, option, json.dumps(value)) in seen, (optimizer, option, value)


@pytest.mark.parametrize("case", CASES, ids=[c["key"] for c in CASES])
def test_kernels_match_torch(case):
    expected = VECTORS[case["key"]]
    assert not np.allclose(expected[-1], expected[0])
    np.testing.assert_allclose(trajectory(reference, case, np.float64), expected,
                               **TOLERANCE[np.float64])
    np.testing.assert_allclose(trajectory(cpu, case, np.float64), expected,
                               **TOLERANCE[np.float64])
    got32 = trajectory(cpu, case, np.float32)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, **TOLERANCE[np.float32])


def tensorflow_rmsprop(param, grads, lr, alpha, eps, momentum, centered):
    """Keras/optax RMSprop, eps inside the root: p -= lr * g / sqrt(v - m^2 + eps)."""
    param = param.copy()
    v, m, buf = np.zeros_like(param), np.zeros_like(param), np.zeros_like(param)
    for g in grads:
        v = alpha * v + (1 - alpha) * g ** 2
        m = alpha * m + (1 - alpha) * g
        variance = v - m ** 2 if centered else v
        update = g / np.sqrt(variance + eps)
        buf = momentum * buf + update
        param = param - lr * (buf if momentum > 0 else update)
    return param


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("backend", [reference, cpu], ids=["reference", "cpu"])
def test_eps_in_sqrt_is_the_tensorflow_formula(backend, momentum, centered):
    param0, grads = VECTORS["param0"], VECTORS["grads"] * 0.1
    lr, alpha, eps = 0.01, 0.9, 0.01  # an eps large enough that its place matters
    expected = tensorflow_rmsprop(param0, grads, lr, alpha, eps, momentum, centered)
    results = {}
    for eps_in_sqrt in (True, False):
        param = param0.copy()
        buffers = [np.zeros(param.size), np.zeros(param.size if centered else 0),
                   np.zeros(param.size if momentum > 0 else 0)]
        for g in grads:
            backend.rmsprop(param, g, *buffers, lr, alpha, eps, 0.0, momentum, centered, False,
                            eps_in_sqrt)
        results[eps_in_sqrt] = param
    np.testing.assert_allclose(results[True], expected, rtol=1e-12, atol=1e-12)
    assert not np.allclose(results[False], expected, rtol=1e-3, atol=0)


def keras_rmsprop(param, grads, lrs, rho, eps, momentum, centered):
    """Keras 3's RMSprop, transcribed: the lr enters the momentum buffer.

        velocity = rho * velocity + (1 - rho) * g^2
        average_grad = rho * average_grad + (1 - rho) * g          (centered)
        denominator = velocity (- average_grad^2) + epsilon
        increment = lr * g / sqrt(denominator)
        momentum_buffer = momentum * momentum_buffer + increment;  p -= momentum_buffer
    """
    param = param.copy()
    v, m, buf = np.zeros_like(param), np.zeros_like(param), np.zeros_like(param)
    for lr, g in zip(lrs, grads):
        v = rho * v + (1 - rho) * g ** 2
        m = rho * m + (1 - rho) * g
        denominator = (v - m ** 2 if centered else v) + eps
        buf = momentum * buf + lr * g / np.sqrt(denominator)
        param = param - buf
    return param


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("backend", [reference, cpu], ids=["reference", "cpu"])
def test_lr_in_momentum_is_the_keras_formula_under_a_changing_lr(backend, centered):
    param0, grads = VECTORS["param0"], VECTORS["grads"] * 0.1
    lrs = 0.01 * 0.9 ** np.arange(len(grads))       # an exponential schedule
    rho, eps, momentum = 0.9, 1e-7, 0.9              # Keras's rho and epsilon defaults
    expected = keras_rmsprop(param0, grads, lrs, rho, eps, momentum, centered)
    results = {}
    for lr_in_momentum in (True, False):
        param = param0.copy()
        buffers = [np.zeros(param.size), np.zeros(param.size if centered else 0),
                   np.zeros(param.size)]
        for lr, g in zip(lrs, grads):
            backend.rmsprop(param, g, *buffers, lr, rho, eps, 0.0, momentum, centered, False,
                            True, lr_in_momentum)
        results[lr_in_momentum] = param
    np.testing.assert_allclose(results[True], expected, rtol=1e-10, atol=1e-12)
    # PyTorch's form (lr applied to the whole buffer) differs once the lr changes
    assert not np.allclose(results[False], expected, rtol=1e-3, atol=0)
