"""Write tests/data/ops1_vectors.npz: PyTorch's values and gradients for the ops of
issue 12 (ops1's part: unary and binary math, activations, comparisons and logic,
casts, creation, loss options), the oracle for tests/test_ops1_vs_torch.py (no torch needed).

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_ops1_vectors.py

Each case runs one op on inputs drawn in float64 and cast to the case's dtype
(float32 and float64 for every differentiable op), over broadcasting shapes and
edge cases: 0-d, size-1 and empty dimensions. The npz holds, with no pickled
objects (load it with ``allow_pickle=False``):

    cases          a JSON string: [{"key", "op", "kwargs", "n_inputs", "grads"}, ...]
    <key>/in<i>    the op's inputs (integer targets and masks keep their dtype)
    <key>/out      torch's output
    <key>/cot      the cotangent v fed to backward (float outputs only)
    <key>/grad<i>  v^T d out / d input_i, for the inputs listed in "grads"

``op`` names an entry of OPS below; the test keeps the same names for minidl.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20261202
OUT = Path(__file__).with_name("ops1_vectors.npz")

UNARY_SHAPES = [(), (0,), (1,), (7,), (2, 3), (2, 0, 3), (3, 1, 2)]
BINARY_SHAPES = [((), ()), ((3,), ()), ((), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)),
                 ((0, 3), (1, 3)), ((1,), (4,)), ((2, 1, 3), (4, 1))]
FLOATS = ("float32", "float64")


def draw(rng: np.random.Generator, domain: str, shape: tuple) -> np.ndarray:
    """float64 test data on the op's domain, away from kinks where one is known."""
    if domain == "any":
        return rng.standard_normal(shape) * 2
    if domain == "unit":  # asin, acos, atanh
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.5, shape)
    if domain == "above1":  # acosh
        return rng.uniform(1.2, 3.0, shape)
    if domain == "above-1":  # log1p
        return rng.uniform(-0.8, 2.0, shape)
    if domain == "nonzero":
        x = rng.standard_normal(shape)
        return np.sign(x) * (np.abs(x) + 0.3) * 2
    if domain == "wide":  # activations: both sides of every kink (+-3, 0, 6, thresholds)
        return rng.uniform(-8.0, 8.0, shape)
    if domain == "tan":
        return rng.uniform(-1.2, 1.2, shape)
    raise ValueError(domain)


UNARY = {  # name: (torch function, domain)
    "sin": (torch.sin, "any"), "cos": (torch.cos, "any"), "tan": (torch.tan, "tan"),
    "asin": (torch.asin, "unit"), "acos": (torch.acos, "unit"), "atan": (torch.atan, "any"),
    "sinh": (torch.sinh, "any"), "cosh": (torch.cosh, "any"), "asinh": (torch.asinh, "any"),
    "acosh": (torch.acosh, "above1"), "atanh": (torch.atanh, "unit"),
    "exp2": (torch.exp2, "any"), "log2": (torch.log2, "positive"),
    "log10": (torch.log10, "positive"), "log1p": (torch.log1p, "above-1"),
    "expm1": (torch.expm1, "any"), "erf": (torch.erf, "any"), "rsqrt": (torch.rsqrt, "positive"),
    "reciprocal": (torch.reciprocal, "nonzero"), "square": (torch.square, "any"),
    "sign": (torch.sign, "any"), "floor": (torch.floor, "any"), "ceil": (torch.ceil, "any"),
    "trunc": (torch.trunc, "any"), "round": (torch.round, "any"),
    "elu": (F.elu, "wide"), "elu_alpha": (lambda x: F.elu(x, alpha=0.5), "wide"),
    "celu": (lambda x: F.celu(x, alpha=2.0), "wide"), "selu": (F.selu, "wide"),
    "silu": (F.silu, "wide"), "mish": (F.mish, "wide"), "softplus": (F.softplus, "wide"),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=5.0), "wide"),
    "softsign": (F.softsign, "wide"), "hardtanh": (F.hardtanh, "any"),
    "hardtanh_bounds": (lambda x: F.hardtanh(x, -2.0, 0.5), "any"),
    "relu6": (F.relu6, "wide"), "hardsigmoid": (F.hardsigmoid, "wide"),
    "hardswish": (F.hardswish, "wide"), "logsigmoid": (F.logsigmoid, "wide"),
    "softmin": (lambda x: F.softmin(x, dim=-1), "any"),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "wide"),
    "to_float64": (lambda x: x.to(torch.float64), "any"),
    "to_float32": (lambda x: x.to(torch.float32), "any"),
}

BINARY = {  # name: (torch function, domains, which inputs are differentiable)
    "pow": (torch.pow, ("positive", "any"), (True, True)),
    "rpow_scalar": (lambda a, b: 2.5 ** b, ("any", "any"), (False, True)),
    "lerp": (lambda a, b: torch.lerp(a, b, 0.3), ("any", "any"), (True, True)),
    "logaddexp": (torch.logaddexp, ("any", "any"), (True, True)),
    "copysign": (torch.copysign, ("nonzero", "nonzero"), (True, True)),
    "fmod": (torch.fmod, ("any", "nonzero"), (True, True)),
    "remainder": (torch.remainder, ("any", "nonzero"), (True, True)),
    "floor_divide": (torch.floor_divide, ("any", "nonzero"), (False, False)),
    "div_floor": (lambda a, b: torch.div(a, b, rounding_mode="floor"), ("any", "nonzero"),
                  (True, True)),
    "div_trunc": (lambda a, b: torch.div(a, b, rounding_mode="trunc"), ("any", "nonzero"),
                  (True, True)),
}

TERNARY = {"lerp_tensor_weight": torch.lerp}

COMPARE = {  # forward only: bool results
    "eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt,
    "ge": torch.ge, "logical_and": torch.logical_and, "logical_or": torch.logical_or,
    "logical_xor": torch.logical_xor, "isclose": lambda a, b: torch.isclose(a, b, rtol=0.1),
}
TESTS = {"isnan": torch.isnan, "isinf": torch.isinf, "isfinite": torch.isfinite,
         "logical_not": torch.logical_not}
BITWISE = {"bitwise_and": torch.bitwise_and, "bitwise_or": torch.bitwise_or,
           "bitwise_xor": torch.bitwise_xor}


def run(fn: Callable, inputs: list[np.ndarray], grads: tuple[bool, ...],
        rng: np.random.Generator) -> dict[str, np.ndarray]:
    """torch's output and, for float outputs, the vjp of a random cotangent."""
    grads = tuple(grads) + (False,) * (len(inputs) - len(grads))
    tensors = [torch.tensor(x, requires_grad=g) for x, g in zip(inputs, grads)]
    out = fn(*tensors)
    result = {"out": out.detach().numpy().copy()}
    if any(grads) and out.requires_grad:
        cot = rng.standard_normal(out.shape).astype(result["out"].dtype)
        out.backward(torch.tensor(cot))
        result["cot"] = cot
        for i, (t, g) in enumerate(zip(tensors, grads)):
            if g:
                result[f"grad{i}"] = (t.grad if t.grad is not None
                                      else torch.zeros_like(t)).numpy().copy()
    return result


def loss_cases(rng: np.random.Generator) -> list[tuple[str, dict, list[np.ndarray], tuple]]:
    """(op, kwargs, inputs, grads) for every loss option, in float64 (cast later)."""
    cases = []
    logits2 = rng.standard_normal((6, 4)) * 2
    classes2 = rng.integers(0, 4, 6)
    ignored2 = classes2.copy()
    ignored2[[1, 4]] = -100
    logits4 = rng.standard_normal((2, 3, 4, 2))
    classes4 = rng.integers(0, 3, (2, 4, 2))
    ignored4 = classes4.copy()
    ignored4[1, 2, 0] = ignored4[0, 1, 1] = 1  # ignore_index=1 in the cases that use it
    probs2 = rng.dirichlet(np.ones(4), 6)
    probs4 = np.moveaxis(rng.dirichlet(np.ones(3), (2, 4, 2)), -1, 1)
    weight4, weight3 = rng.uniform(0.2, 2.0, 4), rng.uniform(0.2, 2.0, 3)
    for reduction in ("mean", "sum", "none"):
        r = {"reduction": reduction}
        cases += [
            ("cross_entropy", r, [logits2, classes2], (True, False)),
            ("cross_entropy", {**r, "weight": weight4.tolist()}, [logits2, classes2], (True, False)),
            ("cross_entropy", {**r, "ignore_index": -100}, [logits2, ignored2], (True, False)),
            ("cross_entropy", {**r, "label_smoothing": 0.2}, [logits2, classes2], (True, False)),
            ("cross_entropy", {**r, "label_smoothing": 0.1, "weight": weight4.tolist()},
             [logits2, ignored2], (True, False)),
            ("cross_entropy", r, [logits4, classes4], (True, False)),
            ("cross_entropy", {**r, "ignore_index": 1, "weight": weight3.tolist(),
                               "label_smoothing": 0.3}, [logits4, ignored4], (True, False)),
            ("cross_entropy", r, [logits2, probs2], (True, True)),
            ("cross_entropy", {**r, "label_smoothing": 0.2, "weight": weight4.tolist()},
             [logits2, probs2], (True, True)),
            ("cross_entropy", r, [logits4, probs4], (True, True)),
            ("cross_entropy", r, [logits2[0], classes2[0]], (True, False)),
            ("nll_loss", r, [logits2, classes2], (True, False)),
            ("nll_loss", {**r, "weight": weight4.tolist()}, [logits2, ignored2], (True, False)),
            ("nll_loss", {**r, "weight": weight3.tolist(), "ignore_index": 1},
             [logits4, ignored4], (True, False)),
            ("binary_cross_entropy", r, [rng.uniform(0.02, 0.98, (3, 4)),
                                         rng.uniform(0, 1, (3, 4))], (True, True)),
            ("binary_cross_entropy", {**r, "weight": rng.uniform(0.5, 2, 4).tolist()},
             [rng.uniform(0.02, 0.98, (3, 4)), rng.integers(0, 2, (3, 4)) * 1.0], (True, True)),
            ("bce_with_logits", {**r, "pos_weight": rng.uniform(0.5, 3, 4).tolist()},
             [logits2, rng.uniform(0, 1, (6, 4))], (True, True)),
            ("bce_with_logits", {**r, "pos_weight": [2.0], "weight": rng.uniform(0.5, 2, 4).tolist()},
             [logits2, rng.integers(0, 2, (6, 4)) * 1.0], (True, True)),
        ]
    return cases


def torch_loss(op: str, kwargs: dict, dtype: torch.dtype) -> Callable:
    kw = {k: torch.tensor(v, dtype=dtype) if k in ("weight", "pos_weight") else v
          for k, v in kwargs.items()}
    fn = {"cross_entropy": F.cross_entropy, "nll_loss": F.nll_loss,
          "binary_cross_entropy": F.binary_cross_entropy,
          "bce_with_logits": F.binary_cross_entropy_with_logits}[op]
    return lambda x, t: fn(x, t, **kw)


def main() -> None:
    rng = np.random.default_rng(SEED)
    arrays: dict[str, np.ndarray] = {}
    cases: list[dict] = []

    def add(op: str, kwargs: dict, inputs: list[np.ndarray], grads: tuple, fn: Callable) -> None:
        key = f"{len(cases):04d}_{op}"
        result = run(fn, inputs, grads, rng)
        for i, x in enumerate(inputs):
            arrays[f"{key}/in{i}"] = x
        for name, value in result.items():
            arrays[f"{key}/{name}"] = value
        cases.append(dict(key=key, op=op, kwargs=kwargs, n_inputs=len(inputs),
                          grads=[i for i, g in enumerate(grads) if g and f"grad{i}" in result]))

    for dtype in FLOATS:
        for name, (fn, domain) in UNARY.items():
            for shape in UNARY_SHAPES:
                if name == "softmin" and shape == ():
                    continue  # 0-d dims belong to ops2's 0-d reductions
                add(name, {}, [draw(rng, domain, shape).astype(dtype)], (True,), fn)
        for name, (fn, domains, grads) in BINARY.items():
            for shapes in BINARY_SHAPES:
                inputs = [draw(rng, d, s).astype(dtype) for d, s in zip(domains, shapes)]
                add(name, {}, inputs, grads, fn)
        for shapes in BINARY_SHAPES:
            inputs = [draw(rng, "any", s).astype(dtype) for s in shapes]
            inputs.append(rng.uniform(0, 1, shapes[1]).astype(dtype))
            add("lerp_tensor_weight", {}, inputs, (True, True, True), torch.lerp)
        for op, kwargs, inputs, grads in loss_cases(rng):
            inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs]
            add(op, kwargs, inputs, grads, torch_loss(op, kwargs, getattr(torch, dtype)))

    special = np.array([0.0, -1.5, np.nan, np.inf, -np.inf, 2.0, 1.0000001, 2.05])
    for name, fn in TESTS.items():
        add(name, {}, [special], (False,), fn)
        add(name, {}, [special[:0].reshape(0, 2)], (False,), fn)
    for name, fn in COMPARE.items():
        for shapes in BINARY_SHAPES:
            a = rng.integers(-2, 3, shapes[0]).astype(np.float64)
            add(name, {}, [a, rng.integers(-2, 3, shapes[1]).astype(np.float64)], (False,), fn)
            add(name, {}, [a.astype(np.int64), rng.integers(-2, 3, shapes[1])], (False,), fn)
        add(name, {}, [special, special[::-1].copy()], (False,), fn)
    for name, fn in BITWISE.items():
        for shapes in BINARY_SHAPES:
            add(name, {}, [rng.integers(-8, 8, shapes[0]), rng.integers(-8, 8, shapes[1])],
                (False,), fn)
            add(name, {}, [rng.integers(0, 2, shapes[0]) > 0, rng.integers(0, 2, shapes[1]) > 0],
                (False,), fn)
    for shape in UNARY_SHAPES:
        add("bitwise_not", {}, [rng.integers(-8, 8, shape)], (False,), torch.bitwise_not)
        add("bitwise_not", {}, [rng.integers(0, 2, shape) > 0], (False,), torch.bitwise_not)
        x = rng.integers(0, 2, shape) * rng.standard_normal(shape)
        add("to_int64", {}, [x * 3], (False,), lambda t: t.to(torch.int64))
        add("to_bool", {}, [x], (False,), lambda t: t.to(torch.bool))
        add("any", {}, [x], (False,), torch.any)
        add("all", {}, [x], (False,), torch.all)
        for dim in range(len(shape)):
            for keepdim in (False, True):
                kw = {"dim": dim, "keepdim": keepdim}
                add("any", kw, [x], (False,), lambda t: torch.any(t, **kw))
                add("all", kw, [x], (False,), lambda t: torch.all(t, **kw))

    creation = [("arange", dict(start=5)), ("arange", dict(start=1, end=2, step=0.25)),
                ("arange", dict(start=5, end=0, step=-2)), ("arange", dict(start=-1.5, end=1.2, step=0.3)),
                ("arange", dict(start=0, end=0)), ("linspace", dict(start=0, end=1, steps=7)),
                ("linspace", dict(start=-3.5, end=2, steps=1)), ("linspace", dict(start=2, end=2, steps=0)),
                ("linspace", dict(start=-1, end=10, steps=33)), ("eye", dict(n=3)), ("eye", dict(n=2, m=4)),
                ("eye", dict(n=0)), ("full", dict(size=[2, 3], fill_value=1.5)),
                ("full", dict(size=[4], fill_value=7)), ("full", dict(size=[0, 2], fill_value=True)),
                ("full", dict(size=[], fill_value=-2.0))]
    for op, kwargs in creation:
        # torch.arange takes its bounds positionally; minidl takes them by name as well
        add(op, kwargs, [], (), lambda op=op, kwargs=kwargs: getattr(torch, op)(*kwargs.values()))
    for shape in UNARY_SHAPES:
        for dtype in ("float32", "float64", "int64"):
            x = draw(rng, "any", shape).astype(dtype)
            add("zeros_like", {}, [x], (False,), torch.zeros_like)
            add("ones_like", {}, [x], (False,), torch.ones_like)
            add("full_like", {"fill_value": 3}, [x], (False,), lambda t: torch.full_like(t, 3))

    np.savez_compressed(OUT, cases=np.array(json.dumps(cases)),
                        torch_version=np.array(torch.__version__), **arrays)
    print(f"wrote {len(cases)} cases of {len({c['op'] for c in cases})} ops to {OUT} "
          f"({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
