"""Every example runs, prints its summary, and writes its plots.

Each script runs in a process of its own with its smallest options, as a user
would run it: ``python examples/NAME.py ... --out DIR``.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# script -> (smallest arguments, text its summary must contain, plots it writes)
CASES = {
    "decision_boundary.py": (["--epochs", "2"], ["moons", "circles", "test accuracy"],
                             ["decision_boundary.png"]),
    "sklearn_datasets.py": (["--epochs", "2"],
                            ["iris", "breast_cancer", "digits", "diabetes", "r2", "accuracy"],
                            ["sklearn_datasets_all.png"]),
    "optimizers_compared.py": (["--epochs", "2"],
                               ["SGD momentum", "Adagrad", "RMSprop", "Adam", "test accuracy"],
                               ["optimizers_compared.png"]),
    "rmsprop_vs_adagrad.py": (["--steps", "1000"], ["4 of 4 claims hold."],
                              ["rmsprop_vs_adagrad.png"]),
    "trajectories.py": (["--steps-scale", "0.1"],
                        ["Rosenbrock", "RMSprop damps the oscillation across the ravine",
                         "(holds)"], ["trajectories.png"]),
    "cpu_vs_gpu.py": (["--epochs", "1"], ["reference", "cpu ", "test accuracy"],
                      ["cpu_vs_gpu.png"]),
}


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
    args, expected, plots = CASES[script]
    done = run_example(script, *args, "--out", str(tmp_path))
    for text in expected:
        assert text in done.stdout, f"{script} did not print {text!r}:\n{done.stdout}"
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
