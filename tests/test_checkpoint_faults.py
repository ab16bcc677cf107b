"""Checkpoint and command-line faults: killed saves, hostile files, unwritable outputs,
resuming with the options the run header showed, and a closed stdout."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import minidl.nn as nn
from minidl.checkpoint import CheckpointError, load, save
from minidl.cli import main
from minidl.npz import STALE_AFTER

TESTS = Path(__file__).parent
SMALL = ["train", "--dataset", "moons", "--hidden", "16", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def edited(path: Path, target: Path, edit: Callable[[dict], None]) -> None:
    """Copy the checkpoint at ``path`` to ``target`` with its JSON tree changed by
    ``edit(tree)``, the arrays as they were: a file save itself would not write."""
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads(arrays["minidl_checkpoint"].tobytes())
    edit(meta["tree"])
    text = json.dumps(meta).encode()
    np.savez(target, **{**arrays, "minidl_checkpoint": np.frombuffer(text, dtype=np.uint8)})


def aged(path: Path, seconds: float = STALE_AFTER + 60) -> Path:
    """``path`` with its modification time ``seconds`` in the past."""
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


# -- temporary files of killed saves -----------------------------------------------------------
KILLED = ("import os, sys, numpy as np, minidl.checkpoint as c\n"
          "os.replace = lambda *args: os._exit(9)\n"
          "c.save(sys.argv[1], weights=np.zeros(1000))\n")


def killed_save(path: Path) -> Path:
    """The temporary file that a save killed before its rename leaves beside ``path``."""
    before = set(path.parent.iterdir())
    done = subprocess.run([sys.executable, "-c", KILLED, str(path)], cwd=TESTS,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    temporary, = set(path.parent.iterdir()) - before
    return temporary


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_save_removes_the_old_unlocked_temporaries_of_killed_saves(tmp_path):
    path = tmp_path / "run.npz"
    old, young = aged(killed_save(path)), killed_save(path)
    assert old.name.startswith(".run.npz.") and old.name.endswith(".tmp")
    kept = [".run.npz.0123456789abcdef.tmp.keep",   # not a temporary of save
            ".other.npz.0123456789abcdef.tmp",       # another checkpoint's
            ".run.npz.notahex!notahex!.tmp"]
    for name in kept:
        (tmp_path / name).write_bytes(b"x")
        aged(tmp_path / name)
    save(path, weights=np.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.npz", young.name, *kept])
    assert np.array_equal(load(path)["weights"], np.ones(3))


LIVE = ("import sys, numpy as np, minidl.npz as n, minidl.checkpoint as c\n"
        "write = n.write\n"
        "def paused(file, arrays):\n"
        "    write(file, arrays); print('written', flush=True); sys.stdin.readline()\n"
        "n.write = paused\n"
        "c.save(sys.argv[1], weights=np.zeros(3))\n"
        "print('saved', flush=True)\n")


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_live_writers_temporary_survives_whatever_its_age_and_process_id(tmp_path):
    """Across PID namespaces (containers sharing a volume) a process id says nothing:
    the writer's lock does. Its save completes after another save ran meanwhile."""
    path = tmp_path / "run.npz"
    writer = subprocess.Popen([sys.executable, "-c", LIVE, str(path)], cwd=TESTS, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline() == "written\n"
        temporary, = tmp_path.iterdir()
        aged(temporary)
        save(path, weights=np.ones(3))
        assert temporary.exists()
        out, _ = writer.communicate("go\n", timeout=120)
    finally:
        writer.kill()
    assert (writer.returncode, out) == (0, "saved\n")
    assert np.array_equal(load(path)["weights"], np.zeros(3))
    assert os.listdir(tmp_path) == ["run.npz"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="chown needs root")
def test_another_users_temporary_is_left_alone(tmp_path):
    path = tmp_path / "run.npz"
    temporary = killed_save(path)
    os.chown(temporary, 12345, 12345)
    aged(temporary)
    save(path, weights=np.ones(3))
    assert temporary.exists()


def test_stale_temporaries_of_other_paths_are_left_alone(tmp_path):
    other = aged(killed_save(tmp_path / "b.npz"))
    save(tmp_path / "a.npz", weights=np.ones(1))
    assert other.exists()


# -- hostile checkpoint files ----------------------------------------------------------------------
def write_meta(path: Path, text: str) -> None:
    np.savez(path, minidl_checkpoint=np.frombuffer(text.encode(), dtype=np.uint8))


@pytest.mark.parametrize("depth", [900, 100_000])
def test_deeply_nested_metadata_is_a_checkpoint_error(tmp_path, depth):
    path = tmp_path / "deep.npz"
    write_meta(path, json.dumps({"format": "minidl.checkpoint", "version": 1, "tree": {}})
               .replace("{}", '{"a": ' + "[" * depth + "]" * depth + "}"))
    with pytest.raises(CheckpointError, match=r"deep\.npz: the checkpoint tree is nested too "
                                              r"deeply to read"):
        load(path)


def test_a_zip_member_of_raw_bytes_is_refused(tmp_path):
    path = tmp_path / "run.npz"
    save(path, nn.Linear(2, 3))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model/weight.npy"] = b"raw bytes, no .npy header"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(CheckpointError, match=r"the entry 'model/weight' is not a \.npy array "
                                              r"\(it holds 25 raw bytes\)"):
        load(path)


def test_save_names_a_directory_path_and_a_model_without_state(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory; give the file a name"):
        save(tmp_path, nn.Linear(2, 3))
    with pytest.raises(TypeError, match="model must have state_dict\\(\\) or be a state dict, "
                                        "not str 'x'"):
        save(tmp_path / "run.npz", model="x")
    with pytest.raises(TypeError, match="optimizer must have state_dict"):
        save(tmp_path / "run.npz", nn.Linear(2, 3), optimizer=[1.0])
    assert os.listdir(tmp_path) == []


def trained_run(tmp_path: Path, epochs: int = 1, *extra: str) -> Path:
    path = tmp_path / "run.npz"
    assert main([*SMALL, "--epochs", str(epochs), "--save", str(path), *extra]) == 0
    return path


def assert_one_line_error(result: tuple[int, str, str], status: int, message: str) -> None:
    code, out, err = result
    assert (code, out) == (status, "")
    assert err.startswith("minidl: error: ") and err.count("\n") == 1, err
    assert message in err, err


def test_resume_from_a_deeply_nested_checkpoint_is_one_line(capsys, tmp_path):
    path = tmp_path / "deep.npz"
    write_meta(path, '{"format": "minidl.checkpoint", "version": 1, "tree": {"a": '
               + "[" * 5000 + "]" * 5000 + "}}")
    assert_one_line_error(run_cli(capsys, "train", "--resume", str(path)), 2,
                          f"{path}: the checkpoint tree is nested too deeply to read")


def test_resume_with_a_step_of_1e300_is_one_line(capsys, tmp_path):
    def huge_steps(tree: dict) -> None:
        for _, entry in tree["optimizer"]["state"]["items"]:
            entry["step"] = 1e300

    good, bad = trained_run(tmp_path), tmp_path / "step.npz"
    edited(good, bad, huge_steps)
    assert load(bad)["optimizer"]["state"][0]["step"] == 1e300
    capsys.readouterr()
    assert_one_line_error(run_cli(capsys, "train", "--resume", str(bad), "--epochs", "2"), 2,
                          f"{bad}: ")


# -- unwritable outputs ------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
@pytest.mark.parametrize("flag", ["--save", "--plot"])
def test_an_output_in_a_directory_nobody_can_write_is_refused_before_training(capsys, flag):
    """/proc refuses new files even to root, unlike a chmod 555 directory."""
    assert_one_line_error(run_cli(capsys, *SMALL, flag, "/proc/minidl-run.npz"), 2,
                          f"{flag} /proc/minidl-run.npz: cannot write in its directory")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_save_into_a_read_only_directory_is_refused_before_training(capsys, tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        assert_one_line_error(run_cli(capsys, *SMALL, "--save", str(directory / "run.npz")), 2,
                              "cannot write in its directory (Permission denied)")
    finally:
        directory.chmod(0o755)


# -- resuming ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer, option, value", [
    ("rmsprop", "--lr", "0.01"), ("rmsprop", "--alpha", "0.99"), ("adam", "--lr", "0.001"),
    ("adam", "--betas", "0.9,0.999"), ("momentum", "--momentum", "0.9"),
    ("adamw", "--weight-decay", "0.01")])
def test_resume_accepts_the_defaults_the_run_used(capsys, tmp_path, optimizer, option, value):
    path = trained_run(tmp_path, 1, "--optimizer", optimizer)
    capsys.readouterr()
    code, out, err = run_cli(capsys, "train", "--resume", str(path), option, value,
                             "--epochs", "2", "--no-progress")
    assert (code, err) == (0, "") and "epoch 2/2" in out


def test_resume_still_refuses_a_different_lr(capsys, tmp_path):
    path = trained_run(tmp_path)
    capsys.readouterr()
    assert_one_line_error(run_cli(capsys, "train", "--resume", str(path), "--lr", "0.02"), 2,
                          f"cannot resume {path}: it was trained with --lr 0.01, not 0.02")


def test_the_checkpoint_records_the_effective_options(tmp_path):
    args = load(trained_run(tmp_path))["args"]
    assert (args["lr"], args["alpha"], args["eps"], args["centered"]) == (0.01, 0.99, 1e-8, False)
    assert args["betas"] is None  # not an option of rmsprop


def test_an_old_checkpoint_without_the_lr_resumes_with_the_lr_it_used(capsys, tmp_path):
    good = trained_run(tmp_path)
    old = tmp_path / "old.npz"
    edited(good, old, lambda tree: tree["args"].update(lr=None, alpha=None))
    assert load(old)["args"]["lr"] is None
    capsys.readouterr()
    code, out, err = run_cli(capsys, "train", "--resume", str(old), "--lr", "0.01",
                             "--epochs", "2", "--no-progress")
    assert (code, err) == (0, "") and "rmsprop lr=0.01" in out and "epoch 2/2" in out


def test_resume_with_fewer_epochs_than_trained_is_an_error(capsys, tmp_path):
    path = trained_run(tmp_path, 2)
    capsys.readouterr()
    assert_one_line_error(run_cli(capsys, "train", "--resume", str(path), "--epochs", "1"), 2,
                          f"--epochs 1: {path} has already trained 2 epochs (--epochs counts "
                          f"the whole run; pass more than 2 to train on)")


# -- a closed stdout ---------------------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="SIGPIPE and its exit status are POSIX")
@pytest.mark.parametrize("argv", [[*SMALL, "--epochs", "2"], ["--help"]])
def test_a_closed_pipe_ends_quietly(argv):
    """``minidl train ... | head -1``: no message, the status of a process killed by
    SIGPIPE. The reading end is closed before minidl writes, so every write fails;
    stdout is block-buffered, as in a real pipe, so --help fails at the flush."""
    read, write = os.pipe()
    os.close(read)
    try:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
        done = subprocess.run([sys.executable, "-m", "minidl", *argv], cwd=TESTS, env=env,
                              stdout=write, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, b"")


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_under_every_command_is_quiet(capsys, monkeypatch):
    for argv in (["datasets"], ["info"]):
        monkeypatch.setattr(sys, "stdout", ClosedPipe())
        assert main(argv) == 141
        assert capsys.readouterr().err == ""


# -- the command line checks before it trains (issue 21) ----------------------------------------
def test_resume_checks_the_arrays_against_the_architecture_before_building_it(
        capsys, tmp_path, monkeypatch):
    path = trained_run(tmp_path)
    claims = tmp_path / "claims.npz"
    edited(path, claims, lambda tree: tree["args"].update(hidden={"__minidl__": "tuple",
                                                                   "items": [20000, 20000]}))
    monkeypatch.setattr("minidl.cli.build", lambda *a: pytest.fail("the model was built"))
    capsys.readouterr()
    assert_one_line_error(run_cli(capsys, "train", "--resume", str(claims)), 2,
                          f"{claims}: does not fit this run: its settings build a network "
                          f"whose 0.weight has shape (20000, 2), the checkpoint holds one of "
                          f"shape (16, 2)")


def test_a_resumed_run_says_how_far_it_trains_and_that_it_does_not_save(capsys, tmp_path):
    small = tmp_path / "small.npz"
    assert main([*SMALL, "--epochs", "1", "--save", str(small)]) == 0
    edited(small, small, lambda tree: tree["args"].update(epochs=2))
    capsys.readouterr()
    code, out, err = run_cli(capsys, "train", "--resume", str(small), "--no-progress")
    assert code == 0 and err == ""
    assert (f"resumed from {small} at epoch 1, to train to epoch 2 (the run's --epochs; pass "
            f"--epochs to change it)") in out
    assert (f"not saving checkpoints of the resumed run: pass --save (it may be {small} "
            f"itself) to keep them") in out
    code, out, _ = run_cli(capsys, "train", "--resume", str(small), "--epochs", "3",
                           "--save", str(small), "--no-progress")
    assert code == 0 and "(--epochs)" in out and "not saving" not in out
    assert load(small)["epoch"] == 3


def test_a_long_legal_save_name_works_through_the_command_line(capsys, tmp_path):
    path = tmp_path / ("r" * 240 + ".npz")
    code, _, err = run_cli(capsys, *SMALL, "--epochs", "1", "--save", str(path))
    assert (code, err) == (0, "") and load(path)["epoch"] == 1


def test_a_run_that_makes_the_loss_worse_fails_with_one_line(capsys):
    code, out, err = run_cli(capsys, *SMALL, "--epochs", "2", "--lr", "1e6")
    assert code == 1 and "final: train loss" in out
    assert err.startswith("minidl: error: training made the loss worse: ") and \
        err.count("\n") == 1 and "try a smaller --lr than 1e+06" in err


def test_fit_refuses_more_epochs_than_python_counts():
    from minidl.train import fit

    from minidl.optim import SGD

    model = nn.Linear(2, 1)
    optimizer = SGD(model.parameters(), lr=0.1, device="cpu")
    with pytest.raises(ValueError, match="Invalid epochs: 9223372036854775808 \\(needs an int "
                                         "from 0 to 9223372036854775807\\)"):
        fit(model, nn.MSELoss(), optimizer, (np.zeros((2, 2)), np.zeros((2, 1))), epochs=2**63)
