"""Checkpoints: round trip without pickle, atomic writes, clear errors, bit-identical resume."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from sklearn.datasets import make_moons

import minidl
import minidl.nn as nn
from minidl import optim
from minidl.checkpoint import CheckpointError, load, restore_rng, save
from minidl.data import DataLoader
from minidl.train import fit


def make_model(seed: int = 0) -> nn.Module:
    minidl.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(16, 2))


def moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n_samples=120, noise=0.2, random_state=0)
    return X.astype(np.float32), y


def trained(steps: int = 3) -> tuple[nn.Module, optim.Optimizer]:
    model = make_model()
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.9), amsgrad=True)
    X, y = moons()
    fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=1, batch_size=120 // steps,
        progress=False, seed=0)
    return model, opt


def test_round_trip_keeps_values_dtypes_and_types(tmp_path):
    model, opt = trained()
    path = tmp_path / "run.npz"
    extra = {"epoch": 3, "lr": 0.1, "name": "moons", "flag": True, "nothing": None,
             "hidden": (64, 64), "losses": [0.5, float("nan")], "counts": {1: "a", "2": 3},
             "scalar": np.float32(1.5), "table": np.arange(6, dtype=np.int16).reshape(2, 3)}
    save(path, model, opt, **extra)
    ckpt = load(path)
    assert set(ckpt) == {"model", "optimizer", "rng", *extra}
    for key, value in model.state_dict().items():
        assert ckpt["model"][key].dtype == value.dtype
        assert np.array_equal(ckpt["model"][key], value)
    saved_opt = opt.state_dict()
    assert ckpt["optimizer"]["param_groups"] == saved_opt["param_groups"]
    assert ckpt["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9)
    assert sorted(ckpt["optimizer"]["state"]) == sorted(saved_opt["state"])
    for index, entry in saved_opt["state"].items():
        for name, value in entry.items():
            assert np.array_equal(ckpt["optimizer"]["state"][index][name], value)
            assert type(ckpt["optimizer"]["state"][index][name]) is type(value)
    assert ckpt["hidden"] == (64, 64) and ckpt["counts"] == {1: "a", "2": 3}
    assert ckpt["losses"][0] == 0.5 and np.isnan(ckpt["losses"][1])
    assert [ckpt[k] for k in ("epoch", "lr", "name", "flag", "nothing")] == \
        [3, 0.1, "moons", True, None]
    assert type(ckpt["scalar"]) is np.float32 and ckpt["scalar"] == 1.5
    assert ckpt["table"].dtype == np.int16 and np.array_equal(ckpt["table"], extra["table"])
    other = make_model(seed=5)
    other.load_state_dict(ckpt["model"])
    assert all(np.array_equal(a, b) for a, b in zip(other.state_dict().values(),
                                                      model.state_dict().values()))


def test_the_file_is_a_plain_npz_without_pickle(tmp_path):
    model, opt = trained()
    save(tmp_path / "run.npz", model, opt)
    with np.load(tmp_path / "run.npz", allow_pickle=False) as npz:
        entries = {key: npz[key] for key in npz.files}
    assert all(array.dtype != object for array in entries.values())
    assert "model/0.weight" in entries and "model/1.running_mean" in entries
    assert any(key.startswith("optimizer/state/") for key in entries)
    meta = json.loads(entries["minidl_checkpoint"].tobytes().decode("utf-8"))
    assert meta["format"] == "minidl.checkpoint" and meta["version"] == 1


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    save(path, make_model(), epoch=1)
    before = path.read_bytes()

    def broken_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save(path, make_model(seed=1), epoch=2)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.npz"]
    monkeypatch.undo()
    assert load(path)["epoch"] == 1


def test_save_writes_a_synced_sibling_then_renames_it_onto_the_path(tmp_path, monkeypatch):
    """The temporary file lies in the target's directory (so os.replace is one atomic
    rename on one file system) and is fsynced before the rename."""
    events = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(descriptor):
        events.append(("fsync", os.fstat(descriptor).st_ino))
        fsync(descriptor)

    def recording_replace(source, target):
        events.append(("replace", os.fspath(source), os.fspath(target)))
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    path = tmp_path / "run.npz"
    save(path, make_model(), epoch=1)
    (kind, temporary, target), = [event for event in events if event[0] == "replace"]
    assert target == str(path) and os.path.dirname(temporary) == str(tmp_path)
    assert temporary != target and not os.path.exists(temporary)
    written = os.stat(path).st_ino  # the renamed file is the one that was fsynced
    assert events.index(("fsync", written)) < events.index((kind, temporary, target))
    assert os.listdir(tmp_path) == ["run.npz"] and load(path)["epoch"] == 1


def test_save_replaces_the_file_and_adds_no_suffix(tmp_path):
    path = tmp_path / "checkpoint"
    save(path, epoch=1)
    save(path, epoch=2)
    assert os.listdir(tmp_path) == ["checkpoint"] and load(path)["epoch"] == 2


def corrupt_files(tmp_path):
    good = tmp_path / "good.npz"
    save(good, make_model(), epoch=1)
    data = good.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.npz").write_text("not a checkpoint")
    np.save(tmp_path / "array.npy", np.zeros(3))
    np.savez(tmp_path / "plain.npz", weights=np.zeros(3))
    with np.load(good) as npz:
        entries = {key: npz[key] for key in npz.files}
    meta = json.loads(entries["minidl_checkpoint"].tobytes())
    meta["version"] = 99
    np.savez(tmp_path / "future.npz", **{**entries, "minidl_checkpoint": np.frombuffer(
        json.dumps(meta).encode(), dtype=np.uint8)})
    np.savez(tmp_path / "missing.npz", **{k: v for k, v in entries.items() if k != "model/0.bias"})
    np.savez(tmp_path / "badjson.npz", **{**entries, "minidl_checkpoint": np.frombuffer(
        b"{oops", dtype=np.uint8)})


@pytest.mark.parametrize("name, message", [
    ("truncated.npz", "not a readable checkpoint"),
    ("text.npz", "not a .npz \\(zip\\) file"),
    ("array.npy", "a single .npy array"),
    ("plain.npz", "not a minidl checkpoint.*weights"),
    ("future.npz", "version 99; this minidl reads version 1"),
    ("missing.npz", "'model/0.bias' is missing"),
    ("badjson.npz", "unreadable 'minidl_checkpoint'"),
])
def test_a_corrupt_file_raises_checkpoint_error_naming_path_and_problem(tmp_path, name, message):
    corrupt_files(tmp_path)
    with pytest.raises(CheckpointError, match=message) as error:
        load(tmp_path / name)
    assert str(tmp_path / name) in str(error.value)
    assert isinstance(error.value, ValueError)


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


def test_a_mismatched_model_fails_in_strict_load_state_dict(tmp_path):
    save(tmp_path / "run.npz", make_model())
    minidl.manual_seed(0)
    wider = nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(32, 2))
    with pytest.raises(ValueError, match="0.weight.*\\(16, 2\\).*\\(32, 2\\)"):
        wider.load_state_dict(load(tmp_path / "run.npz")["model"])


def test_unstorable_values_are_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="'notes/0'.*set"):
        save(tmp_path / "x.npz", notes=[{1, 2}])
    with pytest.raises(TypeError, match="'objects'.*pickle"):
        save(tmp_path / "x.npz", objects=np.array([None, 1], dtype=object))
    with pytest.raises(ValueError, match="'rng' is reserved"):
        save(tmp_path / "x.npz", rng=1)
    assert os.listdir(tmp_path) == []


def test_restore_rng_puts_back_the_global_and_the_loader_generators(tmp_path):
    X, y = moons()
    loader = DataLoader(X, y, batch_size=10, seed=4)
    minidl.manual_seed(1)
    list(loader)
    save(tmp_path / "rng.npz", loader=loader)
    expected = (minidl.random.generator().random(3), [b[1].numpy() for b in loader])
    minidl.manual_seed(99)
    fresh = DataLoader(X, y, batch_size=10, seed=4)
    restore_rng(load(tmp_path / "rng.npz"), fresh)
    assert np.array_equal(minidl.random.generator().random(3), expected[0])
    assert all(np.array_equal(a.numpy(), b) for (_, a), b in zip(fresh, expected[1]))
    with pytest.raises(CheckpointError, match="unseeded"):
        restore_rng(load(tmp_path / "rng.npz"), DataLoader(X, y))


def run(epochs: int, seed: int | None, model=None, opt=None, loader=None):
    X, y = moons()
    if model is None:
        model = make_model()
        opt = optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.5, centered=True)
        loader = DataLoader(X, y, batch_size=16, seed=seed)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, progress=False)
    return model, opt, loader


@pytest.mark.parametrize("loader_seed", [3, None])
def test_resuming_from_a_checkpoint_is_bit_identical(tmp_path, loader_seed):
    """4 epochs straight == 2 epochs, save, fresh objects, load, 2 more epochs.

    Dropout draws from minidl's global generator; the loader shuffles with its
    own seeded generator, or with the global one when unseeded."""
    straight, straight_opt, _ = run(4, loader_seed)

    first, first_opt, first_loader = run(2, loader_seed)
    save(tmp_path / "half.npz", first, first_opt, loader=first_loader, epoch=2)

    minidl.manual_seed(12345)  # a new process would start from some other state
    X, y = moons()
    model = make_model(seed=7)
    opt = optim.RMSprop(model.parameters(), lr=0.5)
    loader = DataLoader(X, y, batch_size=16, seed=loader_seed)
    ckpt = load(tmp_path / "half.npz")
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    restore_rng(ckpt, loader)
    resumed, resumed_opt, _ = run(2, loader_seed, model, opt, loader)

    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert np.array_equal(a, b), name
    expected, got = straight_opt.state_dict(), resumed_opt.state_dict()
    assert got["param_groups"] == expected["param_groups"]
    for index, entry in expected["state"].items():
        for name, value in entry.items():
            assert np.array_equal(got["state"][index][name], value), (index, name)
