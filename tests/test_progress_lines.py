"""Progress output: a tqdm bar on a terminal, one plain line per epoch in a log
(issue 9: tqdm wrote \\r frames into logs, between the CLI's epoch lines)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

import minidl
import minidl.nn as nn
from minidl.cli import main
from minidl.optim import SGD


def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    return model, SGD(model.parameters(), lr=0.1, device="cpu"), X, y


def test_off_a_terminal_fit_prints_one_line_per_epoch(capsys):
    model, optimizer, X, y = problem()
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), val_data=(X, y),
                         epochs=3, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines):
        assert line == (f"fit: epoch {epoch + 1}/3: loss={history.loss[epoch]:.4f}, "
                        f"accuracy={history.accuracy[epoch]:.4f}, "
                        f"val_loss={history.val_loss[epoch]:.4f}, "
                        f"val_accuracy={history.val_accuracy[epoch]:.4f}")


def test_on_a_terminal_fit_draws_the_bar(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    model, optimizer, X, y = problem()
    minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "\r" in err and "fit: 100%" in err and "fit: epoch" not in err


def test_cli_off_a_terminal_prints_only_its_epoch_lines(capsys):
    assert main(["train", "--dataset", "moons", "--hidden", "4", "--epochs", "2"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and [line.split()[:2] for line in out.splitlines()[1:3]] == [
        ["epoch", "1/2"], ["epoch", "2/2"]]


def test_cli_log_with_stdout_and_stderr_together_has_clean_lines():
    env = dict(os.environ, MINIDL_DEVICE="cpu")
    done = subprocess.run([sys.executable, "-m", "minidl", "train", "--dataset", "moons",
                           "--hidden", "4", "--epochs", "3"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout
    assert "\r" not in done.stdout and "fit:" not in done.stdout
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["moons:", "epoch", "epoch", "epoch", "final:"]
