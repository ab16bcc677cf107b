"""`minidl train --conv`: the CNN it builds, resuming it, and the errors it gives."""
from __future__ import annotations

import re

import pytest

import minidl.nn as nn
from minidl.cli import build_cnn, main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_cnn_is_the_digits_cnn():
    model = build_cnn((1, 8, 8), (16, 32), (), "relu", 10)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d,
                     nn.Flatten, nn.Linear]
    assert model[3].weight.shape == (32, 16, 3, 3) and model[7].weight.shape == (10, 128)
    assert [type(layer) for layer in build_cnn((1, 8, 8), (4,), (20,), "tanh", 3)][-4:] == [
        nn.Flatten, nn.Linear, nn.Tanh, nn.Linear]


def test_train_conv_on_digits_and_resume(capsys, tmp_path):
    path = tmp_path / "cnn.npz"
    code, out, err = run_cli(capsys, "train", "--dataset", "digits", "--conv", "4,8",
                             "--epochs", "1", "--lr", "1e-3", "--no-progress", "--save", str(path))
    assert code == 0 and err == ""
    assert "MLP 32-10 after conv 4-8 relu" in out.splitlines()[0]
    final = re.search(r"test loss [\d.]+ accuracy ([\d.]+)", out)
    assert final and float(final[1]) > 0.3
    code, out, err = run_cli(capsys, "train", "--resume", str(path), "--epochs", "2",
                             "--no-progress")
    assert code == 0 and err == "" and "resumed from" in out and "epoch 2/2" in out
    code, _, err = run_cli(capsys, "train", "--resume", str(path), "--conv", "4")
    assert code == 2 and "it was trained with --conv 4,8, not 4" in err


def test_hidden_none_and_conv_with_hidden(capsys):
    code, out, _ = run_cli(capsys, "train", "--dataset", "digits", "--conv", "2", "--hidden",
                           "12", "--epochs", "0", "--no-progress")
    assert code == 0 and "MLP 32-12-10 after conv 2" in out
    code, out, _ = run_cli(capsys, "train", "--dataset", "iris", "--hidden", "none",
                           "--epochs", "0", "--no-progress")
    assert code == 0 and "MLP 4-3 relu" in out


@pytest.mark.parametrize("argv,message", [
    (["--dataset", "moons", "--conv", "8"], "--conv needs an image dataset (digits); "
                                            "'moons' is not one"),
    (["--dataset", "digits", "--conv", "4,4,4,4"], "--conv 4,4,4,4: each block halves the "
                                                   "8x8 images, so at most 3 blocks fit"),
    (["--dataset", "digits", "--conv", "4,x"], "argument --conv: invalid value '4,x'"),
])
def test_conv_errors(capsys, argv, message):
    code, _, err = run_cli(capsys, "train", *argv, "--epochs", "1", "--no-progress")
    assert code == 2 and message in err, err
