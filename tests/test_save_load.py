"""``minidl.save(obj, f)`` and ``minidl.load(f)`` in PyTorch's order (issue 16):
tensors, state dicts and nested containers round-trip through paths and file
objects, without pickle; the checkpoint form ``save(path, model, ...)`` stays."""
from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.checkpoint import CheckpointError


def model(seed: int) -> nn.Sequential:
    minidl.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


@pytest.mark.parametrize("dtype,requires_grad", [(np.float32, False), (np.float32, True),
                                                 (np.float64, True), (np.int64, False),
                                                 (np.bool_, False)])
def test_a_tensor_round_trips_as_a_tensor(tmp_path, dtype, requires_grad):
    t = minidl.tensor(np.arange(6).reshape(2, 3), dtype=dtype, requires_grad=requires_grad)
    minidl.save(t, tmp_path / "t.pt")
    back = minidl.load(tmp_path / "t.pt")
    assert isinstance(back, minidl.Tensor) and back.requires_grad == requires_grad
    assert back.dtype == dtype and np.array_equal(np.asarray(back), np.asarray(t))


def test_model_load_state_dict_of_load_round_trips(tmp_path):
    source, target = model(0), model(1)
    source.train()(minidl.randn(16, 4))   # moves the BatchNorm buffers off their start
    minidl.save(source.state_dict(), tmp_path / "model.pt")
    target.load_state_dict(minidl.load(tmp_path / "model.pt"))
    x = minidl.randn(5, 4)
    source.eval(), target.eval()
    np.testing.assert_array_equal(np.asarray(target(x)), np.asarray(source(x)))
    assert list(minidl.load(tmp_path / "model.pt")) == list(source.state_dict())


def test_an_optimizer_state_dict_round_trips(tmp_path):
    net = model(0)
    optimizer = minidl.optim.Adam(net.parameters(), lr=1e-2, device="cpu")
    net(minidl.randn(8, 4)).sum().backward()
    optimizer.step()
    minidl.save(optimizer.state_dict(), tmp_path / "optim.pt")
    copy = model(0)
    restored = minidl.optim.Adam(copy.parameters(), lr=1.0, device="cpu")
    restored.load_state_dict(minidl.load(tmp_path / "optim.pt"))
    assert restored.param_groups[0]["lr"] == 1e-2
    for key, value in optimizer.state_dict()["state"][0].items():
        np.testing.assert_array_equal(restored.state_dict()["state"][0][key], value)


def test_nested_containers_keep_their_types():
    t = minidl.ones(2)
    obj = {"epoch": 3, "loss": 0.25, "name": "run", "done": False, "none": None,
           "array": np.arange(3, dtype=np.int32), "scalar": np.float64(1.5),
           "list": [t, (1, "two", [np.zeros(2)])], 7: {"inner": t}}
    buffer = io.BytesIO()
    minidl.save(obj, buffer)
    buffer.seek(0)
    back = minidl.load(buffer)
    assert set(back) == set(obj)
    assert (back["epoch"], back["loss"], back["name"], back["done"], back["none"]) == \
        (3, 0.25, "run", False, None)
    assert type(back["array"]) is np.ndarray and back["array"].dtype == np.int32
    assert type(back["scalar"]) is np.float64
    tensor, (one, two, (zeros,)) = back["list"]
    assert isinstance(tensor, minidl.Tensor) and isinstance(back[7]["inner"], minidl.Tensor)
    assert (one, two) == (1, "two") and type(zeros) is np.ndarray
    assert isinstance(back["list"][1], tuple)


def test_an_open_file_is_written_and_read_where_it_stands(tmp_path):
    with open(tmp_path / "f.pt", "wb") as file:
        minidl.save([1, 2], file)
    with open(tmp_path / "f.pt", "rb") as file:
        assert minidl.load(file) == [1, 2]


def test_the_checkpoint_form_is_recognised_from_its_arguments(tmp_path):
    net = model(0)
    optimizer = minidl.optim.SGD(net.parameters(), lr=0.1, device="cpu")
    minidl.save(tmp_path / "a.npz", net, optimizer, epoch=2)
    minidl.save(str(tmp_path / "b.npz"), model=net)
    checkpoint = minidl.load(tmp_path / "a.npz")
    assert set(checkpoint) == {"model", "optimizer", "rng", "epoch"}
    assert set(minidl.load(tmp_path / "b.npz")) == {"model", "rng"}


def test_mixing_the_forms_is_refused(tmp_path):
    with pytest.raises(TypeError, match="save\\(obj, f\\) writes one object; epoch"):
        minidl.save(minidl.ones(1), tmp_path / "x.pt", epoch=1)
    with pytest.raises(TypeError, match="model given twice"):
        minidl.save(tmp_path / "x.pt", model(0), model=model(1))
    with pytest.raises(TypeError, match="a value of type Sequential; save its state_dict"):
        minidl.save(model(0), tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_pickles_are_refused_never_unpickled(tmp_path):
    legacy = tmp_path / "torch.pt"   # torch.save's zip: archive/data.pkl and storages
    with zipfile.ZipFile(legacy, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0]}))
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"weight": [1.0]}))
    with pytest.raises(CheckpointError, match="'archive/data.pkl' is not a .npy array"):
        minidl.load(legacy)
    with pytest.raises(CheckpointError, match="not a .npz"):
        minidl.load(plain)


def test_pytorchs_load_arguments(tmp_path):
    minidl.save(minidl.ones(2), tmp_path / "t.pt")
    for location in (None, "cpu", "cpu:0"):
        minidl.load(tmp_path / "t.pt", map_location=location, weights_only=False)
    with pytest.raises(ValueError, match="map_location='cuda'.*host memory"):
        minidl.load(tmp_path / "t.pt", map_location="cuda")
