"""The estimators check their parameters with public scikit-learn API only."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
from minidl._params import InvalidParameterError  # noqa: E402
from minidl.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PRIVATE = re.compile(r"^\s*(from|import)\s+sklearn(\.\w+)*\._\w+", re.MULTILINE)


def test_no_source_file_imports_a_private_sklearn_module():
    sources = [*ROOT.glob("minidl/**/*.py"), *ROOT.glob("datasets/*.py"), *ROOT.glob("kernels/*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in sources if PRIVATE.search(p.read_text())]
    assert sources and offenders == []


@pytest.mark.parametrize("params, message", [
    ({"epochs": True}, r"'epochs' parameter of MLPClassifier must be an int >= 1\. Got True"),
    ({"learning_rate": float("nan")}, r"'learning_rate' .* finite real number in \(0, inf\)"),
    ({"learning_rate": 0}, r"'learning_rate' .* Got 0 instead"),
    ({"tol": -1e-3}, r"'tol' .* in \[0, inf\)"),
    ({"validation_fraction": 0.0}, r"'validation_fraction' .* in \(0, 1\)\. Got 0\.0"),
    ({"early_stopping": "yes"}, r"'early_stopping' .* must be a bool\. Got 'yes'"),
    ({"batch_size": 0}, r"'batch_size' .* an int >= 1 or a str among \['auto'\]"),
    ({"random_state": -1}, r"'random_state' .* None, an int in \[0, 2\*\*32 - 1\]"),
    ({"verbose": "loud"}, r"'verbose' .* a bool or an int >= 0"),
    ({"hidden_layer_sizes": 0}, r"'hidden_layer_sizes' .* an array-like or an int >= 1"),
])
def test_bad_parameters_raise_sklearns_error(params, message):
    X, y = np.zeros((6, 2), np.float32), np.array([0, 1] * 3)
    with pytest.raises(InvalidParameterError, match=message) as caught:
        MLPClassifier(**params).fit(X, y)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, TypeError)


def test_numpy_scalars_and_options_are_accepted():
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    model = MLPRegressor(hidden_layer_sizes=np.int64(4), epochs=np.int64(2),
                         batch_size="auto", early_stopping=np.bool_(False), tol=np.float32(0),
                         random_state=np.random.RandomState(0), verbose=0)
    assert model.fit(X, X[:, 0]).n_iter_ == 2
