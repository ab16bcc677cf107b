"""PyTorch scripts run on minidl with only their import lines rewritten (issue 16).

Each script in tests/pytorch_scripts/ is a plain, tutorial-style PyTorch program
(``import torch``) that prints its final metric on its last line, ``name: value``.
The test rewrites its imports (``import torch`` -> ``import minidl as torch``,
``from torch.x import y`` -> ``from minidl.x import y``), runs it, and checks the
metric against the bound the tutorial reaches. Where torch is installed the
original runs too (one thread) and the two metrics must agree within the
script's tolerance: the random streams differ, the result must not.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "pytorch_scripts"


class Expectation(NamedTuple):
    good: Callable[[float], bool]   # the metric a working run reaches
    tolerance: float                 # |minidl - torch| allowed


EXPECTED = {
    "linear_fit.py": Expectation(lambda loss: loss < 0.012, 0.002),
    "digits_cnn.py": Expectation(lambda accuracy: accuracy > 0.93, 0.04),
    "quickstart_mlp.py": Expectation(lambda accuracy: accuracy > 0.88, 0.05),
    "init_regression.py": Expectation(lambda rmse: rmse < 0.2, 0.1),
    "makemore_embedding.py": Expectation(lambda loss: loss < 3.0, 0.2),
    "makemore_raw.py": Expectation(lambda loss: loss < 3.2, 0.2),
    "softmax_scratch.py": Expectation(lambda accuracy: accuracy > 0.85, 0.04),
    "polynomial_autograd.py": Expectation(lambda loss: loss < 12.0, 1e-3),
    "makemore_backprop.py": Expectation(lambda difference: difference < 1e-6, 1e-6),
    "lstm_tagger.py": Expectation(lambda accuracy: accuracy == 1.0, 0.0),
    "seq2seq_transformer.py": Expectation(lambda accuracy: accuracy > 0.8, 0.1),
    "gp_regression.py": Expectation(lambda rmse: rmse < 0.08, 0.03),
    "imbalanced_cyclic.py": Expectation(lambda accuracy: accuracy > 0.82, 0.03),  # Bayes: 0.855
    "normalized_digits.py": Expectation(lambda accuracy: accuracy > 0.85, 0.05),
    "reinforce_bandit.py": Expectation(lambda reward: reward > 0.95, 0.04),  # uniform: 0.33
    # independent pixels (each at its training frequency) score 24.6 nats
    "digits_vae.py": Expectation(lambda negative_elbo: negative_elbo < 21.0, 1.0),
}

_IMPORT = re.compile(r"^(\s*)(import|from) torch\b")


def to_minidl(source: str) -> str:
    """The script with its torch imports, and only those, turned into minidl's."""
    lines = []
    for line in source.splitlines():
        if _IMPORT.match(line):
            line = re.sub(r"^(\s*)import torch$", r"\1import minidl as torch", line)
            line = re.sub(r"^(\s*)(import|from) torch\b", r"\1\2 minidl", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def run(script: Path) -> float:
    """Run ``script`` from the scripts folder; the value on its last line."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(SCRIPTS)]),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(script)], cwd=SCRIPTS, env=env, text=True,
                          capture_output=True, timeout=600)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stderr[-3000:]}"
    return float(done.stdout.strip().splitlines()[-1].rsplit(":", 1)[1])


def test_the_rewrite_touches_only_torch_imports() -> None:
    source = ("import torch\nimport torch.nn as nn\nfrom torch import nn, optim\n"
              "from torch.utils.data import DataLoader\nimport torchvision\n"
              "x = torch.zeros(2)  # import torch\n    import torch\n")
    assert to_minidl(source) == (
        "import minidl as torch\nimport minidl.nn as nn\nfrom minidl import nn, optim\n"
        "from minidl.utils.data import DataLoader\nimport torchvision\n"
        "x = torch.zeros(2)  # import torch\n    import minidl as torch\n")


def test_every_script_has_an_expectation() -> None:
    scripts = {p.name for p in SCRIPTS.glob("*.py")} - {"words.py"}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_script_runs_on_minidl_and_reaches_torchs_metric(name: str, tmp_path: Path) -> None:
    rewritten = tmp_path / name
    rewritten.write_text(to_minidl((SCRIPTS / name).read_text()))
    metric = run(rewritten)
    assert EXPECTED[name].good(metric), f"{name} on minidl: {metric}"
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    reference = run(SCRIPTS / name)
    assert EXPECTED[name].good(reference), f"{name} on torch: {reference}"
    assert abs(metric - reference) <= EXPECTED[name].tolerance, (
        f"{name}: minidl {metric}, torch {reference}")
