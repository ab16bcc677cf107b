"""The command line, in process through ``main([...])``, plus one real ``python -m minidl``."""
from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minidl import kernels
from minidl.checkpoint import load, save
from minidl.data import DataLoader
from minidl.cli import build_parser, main

SMALL = ["train", "--dataset", "moons", "--hidden", "16", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_every_epoch_and_the_final_metrics(capsys):
    code, out, err = run_cli(capsys, *SMALL, "--epochs", "2", "--lr", "0.01")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("moons: classification, 800 train / 200 test samples")
    assert "MLP 2-16-2 relu" in lines[0] and "rmsprop lr=0.01 on cpu" in lines[0]
    assert re.fullmatch(r"epoch 1/2  loss [\d.]+  accuracy [\d.]+  val_loss [\d.]+  "
                        r"val_accuracy [\d.]+", lines[1])
    assert lines[2].startswith("epoch 2/2")
    final = re.fullmatch(r"final: train loss ([\d.]+) accuracy ([\d.]+) \| "
                         r"test loss ([\d.]+) accuracy ([\d.]+)", lines[3])
    assert final and float(final[4]) > 0.8 and len(lines) == 4


def test_train_with_progress_draws_the_bar_on_stderr_only(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)   # a terminal: see test_progress_lines.py
    code, out, err = run_cli(capsys, "train", "--dataset", "moons", "--hidden", "8",
                             "--epochs", "1")
    assert code == 0 and "fit: 100%" in err and "1/1" in err
    assert "epoch 1/1" in out and "final:" in out and "fit:" not in out
    assert "epoch 1/1" not in err


def test_regression_uses_mse_and_r2(capsys):
    code, out, _ = run_cli(capsys, "train", "--dataset", "diabetes", "--hidden", "16",
                           "--epochs", "2", "--optimizer", "adam", "--lr", "0.01",
                           "--no-progress")
    assert code == 0
    assert "regression" in out and "MLP 10-16-1" in out
    assert re.search(r"final: train loss [\d.]+ r2 [-\d.]+ \| test loss [\d.]+ r2 [-\d.]+", out)


@pytest.mark.parametrize("argv, expected, hyper", [
    (["--optimizer", "momentum"], "momentum lr=0.001", {"momentum": 0.9, "nesterov": False}),
    (["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.5", "--nesterov"], "sgd lr=0.1",
     {"lr": 0.1, "momentum": 0.5, "nesterov": True}),
    (["--optimizer", "adagrad", "--lr-decay", "0.01", "--eps", "1e-8"], "adagrad lr=0.01",
     {"lr_decay": 0.01, "eps": 1e-8}),
    (["--alpha", "0.9", "--centered", "--momentum", "0.9", "--eps-in-sqrt",
      "--initial-accumulator-value", "0.1"], "rmsprop lr=0.01",
     {"alpha": 0.9, "centered": True, "momentum": 0.9, "eps_in_sqrt": True,
      "initial_accumulator_value": 0.1}),
    (["--optimizer", "adamw", "--betas", "0.8,0.99", "--amsgrad", "--weight-decay", "0.1",
      "--activation", "gelu", "--device", "reference", "--batch-size", "64"],
     "adamw lr=0.001 on reference", {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1}),
])
def test_every_optimizer_and_its_options_reach_the_optimizer(capsys, tmp_path, argv, expected,
                                                              hyper):
    path = tmp_path / "run.npz"
    code, out, err = run_cli(capsys, *SMALL, "--epochs", "1", "--save", str(path), *argv)
    assert code == 0, err
    assert expected in out
    group = load(path)["optimizer"]["param_groups"][0]
    assert {key: group[key] for key in hyper} == hyper


def test_resume_continues_bit_identically(capsys, tmp_path):
    straight, half = tmp_path / "straight.npz", tmp_path / "half.npz"
    assert main([*SMALL, "--epochs", "3", "--save", str(straight)]) == 0
    assert main([*SMALL, "--epochs", "1", "--save", str(half)]) == 0
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "train", "--resume", str(half), "--epochs", "3",
                           "--save", str(half), "--no-progress")
    assert code == 0
    assert "resumed from" in out and "epoch 2/3" in out and "epoch 1/3" not in out
    a, b = load(straight), load(half)
    assert a["epoch"] == b["epoch"] == 3 and a["history"] == b["history"]
    assert all(np.array_equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_resume_refuses_a_different_architecture(capsys, tmp_path):
    path = tmp_path / "run.npz"
    assert main([*SMALL, "--epochs", "1", "--save", str(path)]) == 0
    capsys.readouterr()
    code, out, err = run_cli(capsys, "train", "--resume", str(path), "--hidden", "32")
    assert code == 2 and out == ""
    assert err == (f"minidl: error: cannot resume {path}: it was trained with --hidden 16, "
                   f"not 32 (a resumed run keeps the checkpoint's model and training "
                   f"settings)\n")


def test_resume_at_the_last_epoch_trains_nothing(capsys, tmp_path):
    path = tmp_path / "run.npz"
    assert main([*SMALL, "--epochs", "1", "--save", str(path)]) == 0
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "train", "--resume", str(path), "--no-progress")
    assert code == 0 and "nothing to train: the run is at epoch 1 of 1" in out


def rewritten(path: Path, target: Path, **changes) -> None:
    """Copy the checkpoint at ``path`` to ``target`` with some entries changed,
    keeping its random states (which ``save`` takes from a loader)."""
    checkpoint = load(path)
    loader = DataLoader(np.zeros((1, 1)), seed=0)
    loader.generator.bit_generator.state = checkpoint.pop("rng")["loader"]
    for key, value in changes.items():
        if key.startswith("args_"):
            checkpoint["args"] = {**checkpoint["args"], key.removeprefix("args_"): value}
        else:
            checkpoint[key] = value
    save(target, loader=loader, **checkpoint)


@pytest.mark.parametrize("changes, message", [
    ({"args": [1]}, "its args are a list, not a dict"),
    ({"args_optimizer": "shampoo"}, "args['optimizer'] is 'shampoo', not one of sgd, momentum"),
    ({"args_activation": None}, "args['activation'] is None, not one of relu"),
    ({"epoch": None}, "epoch is None, not an int from 0 to 9223372036854775807"),
    ({"args_epochs": "5"}, "args['epochs'] is '5', not an int from 0 to 9223372036854775807"),
    ({"args_dataset": 123}, "args['dataset'] is 123, not one of moons, circles"),
    ({"args_dataset": "mnist"}, "args['dataset'] is 'mnist', not one of moons, circles"),
    ({"args_batch_size": 0}, "args['batch_size'] is 0, not an int from 1 to"),
    ({"args_seed": -1}, "args['seed'] is -1, not an int from 0 to 4294967295"),
    ({"args_hidden": (16, "x")}, "args['hidden'] is (16, 'x'), not a list of positive ints"),
    ({"args_conv": 3}, "args['conv'] is 3, not a list of positive ints"),
    ({"args_lr": "fast"}, "args['lr'] is 'fast', not a number or None"),
    ({"args_centered": 1}, "args['centered'] is 1, not a bool or None"),
    ({"args_clip_grad_norm": True}, "args['clip_grad_norm'] is True, not a number or None"),
    ({"history": [0.5]}, "its history is not a dict of lists"),
    ({"history": {"loss": 0.5}}, "its history is not a dict of lists"),
])
def test_resume_from_a_malformed_checkpoint_is_a_one_line_error(capsys, tmp_path, changes,
                                                                message):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    assert main([*SMALL, "--epochs", "1", "--save", str(good)]) == 0
    rewritten(good, bad, **changes)
    capsys.readouterr()
    code, out, err = run_cli(capsys, "train", "--resume", str(bad), "--epochs", "2")
    assert (code, out) == (2, "")
    assert err.startswith(f"minidl: error: {bad}: not a checkpoint of `minidl train --save`: "
                          f"{message}")
    assert err.count("\n") == 1


def test_resume_from_an_unchanged_rewritten_checkpoint_works(capsys, tmp_path):
    """The control for the malformed checkpoints above: the rewriting keeps a good one good."""
    good, copy = tmp_path / "good.npz", tmp_path / "copy.npz"
    assert main([*SMALL, "--epochs", "1", "--save", str(good)]) == 0
    rewritten(good, copy)
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "train", "--resume", str(copy), "--epochs", "2",
                           "--no-progress")
    assert code == 0 and "resumed from" in out and "epoch 2/2" in out


@pytest.mark.parametrize("flag", ["--save", "--plot"])
def test_unwritable_output_paths_are_refused_before_training(capsys, tmp_path, flag):
    code, out, err = run_cli(capsys, *SMALL, flag, str(tmp_path / "absent" / "x.png"))
    assert (code, out) == (2, "")
    assert err == f"minidl: error: {flag} {tmp_path / 'absent' / 'x.png'}: its directory " \
                  f"does not exist\n"
    code, out, err = run_cli(capsys, *SMALL, flag, str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"minidl: error: {flag} {tmp_path}: is a directory, not a file name\n"


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_plot_writes_a_png(capsys, tmp_path):
    path = tmp_path / "curves.png"
    code, out, _ = run_cli(capsys, *SMALL, "--epochs", "2", "--plot", str(path))
    assert code == 0 and f"curves saved to {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a))
    code, out, err = run_cli(capsys, *SMALL, "--plot", str(tmp_path / "x.png"))
    assert (code, out) == (2, "")
    assert err == "minidl: error: --plot needs matplotlib, which is not installed " \
                  "(pip install matplotlib)\n"


def bad_checkpoints(tmp_path):
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))


@pytest.mark.parametrize("argv, message", [
    (["train", "--dataset", "nope"], "Unknown dataset: 'nope'; valid names: moons"),
    (["train", "--dataset", "moons", "--hidden", "12,x"],
     "argument --hidden: invalid value '12,x'"),
    (["train", "--dataset", "moons", "--hidden", "0"], "argument --hidden: invalid value '0'"),
    (["train", "--dataset", "moons", "--hidden", str(10**15)], "Unable to allocate"),
    (["train", "--dataset", "moons", "--lr", "-0.1"], "Invalid learning rate: -0.1"),
    (["train", "--dataset", "moons", "--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    (["train", "--dataset", "moons", "--epochs", "-1"], "argument --epochs: invalid value '-1'"),
    (["train", "--dataset", "moons", "--betas", "0.9"], "argument --betas: invalid value '0.9'"),
    (["train", "--dataset", "moons", "--optimizer", "adam", "--alpha", "0.9"],
     "--alpha does not apply to --optimizer adam"),
    (["train", "--dataset", "moons", "--optimizer", "shampoo"],
     "argument --optimizer: invalid choice"),
    (["train", "--dataset", "moons", "--resume", "{tmp}/corrupt.npz"],
     "{tmp}/corrupt.npz: not a readable checkpoint"),
    (["train", "--resume", "{tmp}/foreign.npz"], "{tmp}/foreign.npz: not a minidl checkpoint"),
    (["train", "--resume", "{tmp}/absent.npz"],
     "--resume {tmp}/absent.npz: does not exist; give a checkpoint written by --save"),
    (["train", "--resume", "{tmp}"], "--resume {tmp}: is a directory"),
    (["train", "--dataset", "moons", "--plot", "{tmp}/out.xyz"],
     "--plot {tmp}/out.xyz: matplotlib cannot write .xyz files; use one of"),
    (["train", "--dataset", "moons", "--save", ""], "--save: an empty path '' names no file"),
    (["train", "--dataset", "moons", "--save", "{tmp}/" + "c" * 300],
     "the file name is longer than the 255 bytes its file system takes"),
    (["train", "--dataset", "moons", "--save", "/dev/null"],
     "--save: '/dev/null' is not a regular file"),
    (["train", "--dataset", "moons", "--save", "{tmp}/x.png", "--plot", "{tmp}/x.png"],
     "--save and --plot name the same file"),
    (["train", "--dataset", "moons", "--epochs", str(2**63)],
     "argument --epochs: invalid value '9223372036854775808': needs an int from 0 to "
     "9223372036854775807"),
    (["train", "--dataset", "moons", "--weight-decay", "-1"],
     "--weight-decay -1.0: Invalid weight_decay value: -1.0"),
    (["train", "--dataset", "moons", "--lr", "-1"], "--lr -1.0: Invalid learning rate: -1.0"),
    (["train", "--dataset", "moons", "--optimizer", "adam", "--betas", "0.9,2"],
     "--betas 0.9,2.0: Invalid beta parameter"),
    (["train", "--dataset", "digits", "--conv", "0"],
     "argument --conv: invalid value '0': expected channel counts as positive ints"),
    (["train"], "the following arguments are required: --dataset"),
    (["fly"], "argument COMMAND: invalid choice: 'fly'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_values_are_one_line_errors_with_status_2(capsys, tmp_path, argv, message):
    bad_checkpoints(tmp_path)
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("minidl: error: ") and err.count("\n") == 1
    assert message.replace("{tmp}", str(tmp_path)) in err


@pytest.mark.skipif(kernels.cuda_problem() is None, reason="a CUDA GPU is usable here")
def test_device_cuda_without_a_gpu_is_a_one_line_error(capsys):
    code, out, err = run_cli(capsys, "train", "--dataset", "moons", "--device", "cuda")
    assert (code, out) == (2, "")
    assert err.startswith("minidl: error: the cuda backend is unavailable: ")
    assert err.count("\n") == 1


def test_datasets_lists_every_dataset_with_its_shape(capsys):
    code, out, _ = run_cli(capsys, "datasets")
    rows = [line.split() for line in out.splitlines()]
    assert code == 0 and rows[0] == ["name", "task", "samples", "features", "classes"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert table["moons"] == ["classification", "1000", "2", "2"]
    assert table["digits"] == ["classification", "1797", "64", "10"]
    assert table["diabetes"] == ["regression", "442", "10", "-"]
    assert len(table) == 10


def test_info_prints_the_environment_report(capsys):
    code, out, _ = run_cli(capsys, "info")
    assert code == 0
    assert re.search(rf"^numpy\s+{re.escape(np.__version__)}$", out, re.MULTILINE)
    assert "numba" in out and "threading layer" in out


def test_help_documents_every_option(capsys):
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("train", "datasets", "info"):
        for action in subparsers.choices[command]._actions:
            assert action.help, f"{command} {action.option_strings} has no help"
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--dataset", "--hidden", "--activation", "--optimizer", "--lr", "--momentum",
                   "--alpha", "--eps", "--centered", "--betas", "--weight-decay", "--nesterov",
                   "--lr-decay", "--epochs", "--batch-size", "--device", "--seed", "--save",
                   "--resume", "--plot", "--no-progress"):
        assert option in out
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("minidl 0.1.0")


def test_python_dash_m_minidl_help():
    # cwd: not the repository root, whose minidl/ would shadow the installed package.
    done = subprocess.run([sys.executable, "-m", "minidl", "--help"], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parent)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: minidl")
    assert all(command in done.stdout for command in ("train", "datasets", "info"))
