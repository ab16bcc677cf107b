"""Every example runs, prints its summary, and writes its plots.

Each script runs in a process of its own with small options, as a user would
run it: ``python examples/NAME.py ... --out DIR``. The claims an example checks
must hold with those options: it prints "(holds)" after each, never "does NOT
hold". Last, the hand-written numpy network that the training benchmark uses as
its floor must compute minidl's loss and gradients and take the same steps, or
the benchmark would time different computations.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.datasets
import minidl.nn

EXAMPLES = Path(__file__).parent.parent / "examples"
BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# script -> (arguments, text its summary must contain, plots it writes)
CASES = {
    "decision_boundary.py": (["--epochs", "2"],
                             ["moons", "circles", "test accuracy", "linear model",
                              "the MLP beats the linear model (holds)"],
                             ["decision_boundary.png"]),
    "sklearn_datasets.py": (["--epochs", "2"],
                            ["iris", "wine", "breast_cancer", "digits", "diabetes", "r2",
                             "accuracy"],
                            ["sklearn_datasets_all.png"]),
    "optimizers_compared.py": (["--epochs", "2"],
                               ["SGD momentum", "Adagrad", "RMSprop", "Adam", "test accuracy",
                                "Rprop is a full-batch method", "L-BFGS: training loss"],
                               ["optimizers_compared.png"]),
    "rmsprop_vs_adagrad.py": (["--steps", "1000"], ["4 of 4 claims hold."],
                              ["rmsprop_vs_adagrad.png"]),
    "rmsprop_family.py": (["--steps", "300"], ["4 of 4 claims hold."], ["rmsprop_family.png"]),
    "adafactor_and_muon.py": (["--epochs", "4"], ["2 of 2 claims hold."],
                              ["adafactor_and_muon.png"]),
    "rmsprop_descendants.py": (["--epochs", "4"], ["3 of 3 claims hold."],
                               ["rmsprop_descendants.png"]),
    "trajectories.py": ([], ["Rosenbrock", "RMSprop damps the oscillation across the ravine",
                             "Adam's momentum averages it out", "Adam ends nearest",
                             "(holds)"], ["trajectories.png"]),
    "inside_one_step.py": (["--steps", "2"],
                           ["1. the graph", "every p.grad is a view of the flat buffer at its "
                            "offsets (holds)", "orders of magnitude while SGD's is one number "
                            "(holds)", "element for element, to float32 rounding"],
                           ["inside_one_step_grads.png", "inside_one_step_rmsprop.png"]),
    "cpu_vs_gpu.py": (["--epochs", "1"], ["reference", "cpu ", "test accuracy",
                                          "differ by float32 rounding only", "(holds)"],
                      ["cpu_vs_gpu.png"]),
    "digits_cnn.py": (["--epochs", "1"], ["CNN 16-32 conv + linear", "MLP 64-128-128-10",
                                          "test accuracy"],
                      ["digits_cnn_filters.png", "digits_cnn_confusion.png",
                       "digits_cnn_misclassified.png"]),
    "transformer_addition.py": (["--epochs", "10"],
                                ["2-digit addition", "held-out exact-match accuracy",
                                 ">= 0.95 (holds)", "attends to a later one"],
                                ["transformer_addition_training.png",
                                 "transformer_addition_attention.png"]),
    "adding_problem.py": (["--eval-every", "200"],
                          ["baseline (predict 1) MSE = 0.167", "RMSprop centered (Graves)",
                           "Adam", "while the tanh RNN stays near the baseline",
                           "(holds)"], ["adding_problem.png", "adding_problem_optimizers.png"]),
    "dask_search.py": (["--epochs", "2", "--folds", "2"],
                       ["the Dask search gives the same scores and best parameters: holds",
                        "one of each per worker: holds"], ["dask_search.png"]),
}
# script -> the module it needs beyond minidl's own dependencies (skipped without it)
NEEDS = {"dask_search.py": "distributed"}


def run_example(script: str, *args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args],
                          capture_output=True, text=True, timeout=300, env=env,
                          cwd=EXAMPLES.parent)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_every_example_is_tested_and_listed_in_the_readme():
    scripts = {path.name for path in EXAMPLES.glob("*.py")} - {"common.py"}
    assert scripts == set(CASES)
    readme = (EXAMPLES / "README.md").read_text()
    assert all(f"`{script}`" in readme for script in scripts)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_and_prints_its_summary(script: str, tmp_path: Path):
    if script in NEEDS:
        pytest.importorskip(NEEDS[script], reason=f"{script} needs {NEEDS[script]}")
    args, expected, plots = CASES[script]
    done = run_example(script, *args, "--out", str(tmp_path))
    for text in expected:
        assert text in done.stdout, f"{script} did not print {text!r}:\n{done.stdout}"
    assert "does NOT hold" not in done.stdout, done.stdout
    if HAS_MATPLOTLIB:
        for name in plots:
            assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_example_without_matplotlib_still_prints_its_summary(tmp_path: Path):
    blocker = tmp_path / "blocked" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib blocked by the test')\n")
    paths = [str(blocker.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    out = tmp_path / "out"
    done = run_example("decision_boundary.py", "--epochs", "1", "--out", str(out), env=env)
    assert "matplotlib is not installed" in done.stdout
    assert "test accuracy" in done.stdout
    assert not out.exists()


def test_example_help_describes_it():
    done = run_example("rmsprop_vs_adagrad.py", "--help")
    assert "Adagrad" in done.stdout and "--steps" in done.stdout and "--out" in done.stdout


def test_training_benchmark_floor_computes_minidls_gradients_and_steps():
    spec = importlib.util.spec_from_file_location("training_benchmark",
                                                  BENCHMARKS / "training.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    split = minidl.datasets.load("digits", seed=0)
    weights = benchmark.init_weights(benchmark.SIZES, seed=0)
    rows = np.random.default_rng(0).permutation(len(split.y_train))[:benchmark.BATCH]
    X, y = split.X_train[rows], split.y_train[rows]

    floor = benchmark.NumpyMLP(weights)
    floor_loss = floor.forward_backward(X, y)
    model = benchmark.minidl_model(weights)
    loss = minidl.nn.CrossEntropyLoss()(model(minidl.tensor(X)), minidl.tensor(y))
    loss.backward()
    assert loss.item() == pytest.approx(floor_loss, rel=1e-6)
    for param, floor_grad in zip(model.parameters(), floor.grads):
        np.testing.assert_allclose(param.grad, floor_grad, rtol=1e-5, atol=1e-7)
    assert benchmark.check_same_step(split, weights, rows) < 1e-5
