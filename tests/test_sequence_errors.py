"""Bad input to the recurrent, attention and normalisation layers raises PyTorch's
exception class, with a message that names the argument and the shapes, and changes
nothing: one table of calls (tests/data/sequence_error_cases.py), run on torch by
tests/data/make_sequence_errors.py (sequence_errors.json) and here on minidl.

Where PyTorch raises an AssertionError, minidl raises an ``InputAssertionError``,
both an AssertionError and a ValueError (minidl/nn/checks.py). DIFFERENCES lists the
cases where minidl deliberately raises another class, or refuses what PyTorch takes.
"""
from __future__ import annotations

import builtins
import importlib.metadata
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl.nn.checks import InputAssertionError

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("sequence_error_cases",
                                               DATA / "sequence_error_cases.py")
cases = sys.modules["sequence_error_cases"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
STORED_FILE = json.loads((DATA / "sequence_errors.json").read_text())
STORED = STORED_FILE["cases"]
SAME_TORCH = (importlib.util.find_spec("torch") is not None
              and importlib.metadata.version("torch") == STORED_FILE["torch"])

# case: (the class minidl raises, why it is not PyTorch's)
DIFFERENCES = {
    "lstm_hx_not_tuple": (TypeError, "PyTorch indexes the Tensor as if it were the pair "
                                     "(IndexError, or no error when its first axis has 2); "
                                     "its LSTMCell raises this TypeError"),
    "gru_hx_tuple": (TypeError, "PyTorch fails on tuple.dim() (AttributeError)"),
    "gru_cell_hx_tuple": (TypeError, "PyTorch fails on tuple.dim() (AttributeError)"),
    "encoder_layer_src_array": (TypeError, "PyTorch fails on ndarray.dim() (AttributeError)"),
    "group_norm_groups_0": (ValueError, "PyTorch divides by it (ZeroDivisionError)"),
    "cell_hidden_size_0": (ValueError, "PyTorch builds a cell without hidden state"),
    "cell_nonlinearity": (ValueError, "PyTorch refuses it only in forward (RuntimeError)"),
    "pack_too_long": (RuntimeError, "PyTorch packs elements past the end of the input"),
    "pack_lengths_float": (TypeError, "PyTorch truncates the lengths to ints"),
    "mha_dropout": (ValueError, "PyTorch takes any dropout; every other minidl module "
                                "and PyTorch's Dropout refuse p outside [0, 1]"),
}


def expected_class(name: str) -> type[Exception]:
    """The class minidl must raise for case ``name``."""
    if name in DIFFERENCES:
        return DIFFERENCES[name][0]
    torch_class = getattr(builtins, STORED[name]["error"])
    return InputAssertionError if torch_class is AssertionError else torch_class


def state(module: object) -> dict:
    """The module's parameters and buffers as copies, and its training flag."""
    if module is None:
        return {}
    found = {name: np.array(value) for name, value in module.state_dict().items()}
    return {**found, "training": module.training}


@pytest.mark.parametrize("case", cases.CASES, ids=lambda case: case.name)
def test_minidl_raises_pytorchs_class_naming_the_argument_and_changes_nothing(case):
    module = None if case.build is None else case.build(minidl)
    before = state(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as caught:
            case.call(minidl, module)
    assert type(caught.value) is expected_class(case.name), (
        f"{type(caught.value).__name__}: {caught.value} (PyTorch: {STORED[case.name]})")
    for word in case.words:
        assert word in str(caught.value), f"{word!r} not in {str(caught.value)!r}"
    after = state(module)
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_every_case_has_pytorchs_answer_and_each_difference_is_one():
    assert STORED.keys() == {case.name for case in cases.CASES}
    for name, (minidl_class, _) in DIFFERENCES.items():
        answer = STORED[name]
        assert answer is None or answer["error"] != minidl_class.__name__, name
    answered = [name for name, answer in STORED.items() if answer is None]
    assert set(answered) <= DIFFERENCES.keys(), answered


def test_input_assertion_error_is_pytorchs_assertion_error_and_a_value_error():
    assert issubclass(InputAssertionError, AssertionError)
    assert issubclass(InputAssertionError, ValueError)
    assert {STORED[case.name]["error"] for case in cases.CASES
            if expected_class(case.name) is InputAssertionError} == {"AssertionError"}


@pytest.mark.skipif(not SAME_TORCH, reason=f"needs torch {STORED_FILE['torch']}")
def test_the_stored_answers_are_pytorchs_own():
    """sequence_errors.json is what torch raises (regenerate it with
    tests/data/make_sequence_errors.py after changing a case)."""
    import torch
    spec = importlib.util.spec_from_file_location("make_sequence_errors",
                                                  DATA / "make_sequence_errors.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    for case in cases.CASES:
        live = maker.refusal(torch, case)
        stored = STORED[case.name]
        assert (live and live["error"]) == (stored and stored["error"]), case.name
