"""PyTorch's namespace on minidl: dtypes, devices, the Tensor and Module methods
that PyTorch code calls (issue 16). Expected texts and values come from
tests/data/torchns_vectors.npz (made by make_torchns_vectors.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import devices

VECTORS = np.load(Path(__file__).parent / "data" / "torchns_vectors.npz")
NO_GPU = not minidl.cuda.is_available()


# -- dtypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("float32", np.float32), ("float", np.float32), ("float64", np.float64),
    ("double", np.float64), ("float16", np.float16), ("half", np.float16),
    ("int64", np.int64), ("long", np.int64), ("int32", np.int32), ("int", np.int32),
    ("int16", np.int16), ("int8", np.int8), ("uint8", np.uint8), ("bool", np.bool_)])
def test_dtypes_are_numpys_and_work_as_dtype_arguments(name: str, expected: type) -> None:
    dtype = getattr(minidl, name)
    assert np.dtype(dtype) == np.dtype(expected)
    assert minidl.zeros(2, dtype=dtype).dtype == expected
    assert minidl.tensor([1, 0]).to(dtype).dtype == expected


def test_the_short_dtype_names_are_torchs() -> None:
    assert minidl.float is np.float32 and minidl.double is np.float64
    assert minidl.int is np.int32 and minidl.long is np.int64 and minidl.bool is np.bool_
    assert minidl.tensor([2.5]).int().dtype == minidl.int   # the method, not the dtype


def test_half_runs_numpys_ops_and_module_to_refuses_it() -> None:
    x = minidl.tensor([1.0, 2.0], dtype=minidl.half)
    assert (x * 2).dtype == np.float16
    with pytest.raises(ValueError, match="Invalid dtype"):
        nn.Linear(2, 2).to(minidl.half)


# -- devices ------------------------------------------------------------------------------
def test_devices_parse_and_compare_like_torchs() -> None:
    assert minidl.device("cuda:0") == minidl.device("cuda", 0)
    assert minidl.device("cuda") != minidl.device("cuda:0")
    assert minidl.device("cpu") == "cpu" and minidl.device("cpu").type == "cpu"
    assert minidl.device("cuda:1").index == 1 and str(minidl.device("cuda:1")) == "cuda:1"
    assert repr(minidl.device("cuda", 0)) == "device(type='cuda', index=0)"
    assert len({minidl.device("cpu"), minidl.device("cpu")}) == 1
    assert minidl.device(minidl.device("cuda:0")) == minidl.device("cuda:0")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        minidl.device("tpu")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        minidl.device("cuda:x")


def test_cuda_and_accelerator_agree_with_the_kernels() -> None:
    from minidl import kernels
    available = kernels.cuda_problem() is None
    assert minidl.cuda.is_available() is available
    assert minidl.accelerator.is_available() is available
    assert (minidl.cuda.device_count() > 0) is available
    expected = minidl.device("cuda") if available else None
    assert minidl.accelerator.current_accelerator() == expected


def test_tensors_live_on_the_cpu() -> None:
    x = minidl.ones(2, device="cpu")
    for made in (minidl.tensor([1.0], device="cpu"), minidl.zeros(2, device=minidl.device("cpu")),
                 minidl.arange(3, device="cpu"), minidl.full((2,), 1.0, device="cpu"),
                 minidl.zeros_like(x, device="cpu"), minidl.rand(2, device="cpu")):
        assert made.device == minidl.device("cpu")
    assert x.device == minidl.device("cpu") and (x * 2).device.type == "cpu"
    assert x.cpu() is x and x.to("cpu") is x and x.to(minidl.device("cpu")) is x


@pytest.mark.skipif(not NO_GPU, reason="this machine has a usable GPU")
def test_cuda_without_a_gpu_says_what_is_missing() -> None:
    x, model = minidl.ones(2), nn.Linear(2, 2)
    before = model.weight.numpy().copy()
    for call in (x.cuda, lambda: x.to("cuda"), lambda: x.to("cuda:0", minidl.float64),
                 model.cuda, lambda: model.to("cuda"),
                 lambda: minidl.randn(2, device="cuda"), lambda: minidl.zeros(2, device="cuda"),
                 lambda: minidl.tensor([1.0], device="cuda:0"),
                 lambda: x.new_zeros(2, device="cuda")):
        with pytest.raises(RuntimeError, match=r"cannot use device 'cuda(:0)?': .*\(use 'cpu'\)"):
            call()
    assert model.weight.dtype == np.float32 and np.array_equal(model.weight.numpy(), before)


def test_cuda_with_a_gpu_keeps_the_tensor_in_host_memory(monkeypatch) -> None:
    monkeypatch.setattr(devices, "cuda_problem", lambda: None)   # as if a GPU were there
    x, model = minidl.ones(2), nn.Linear(2, 2)
    assert x.cuda() is x and x.to("cuda") is x and model.cuda() is model
    assert x.device == minidl.device("cpu") and minidl.cuda.is_available()


# -- Tensor methods -----------------------------------------------------------------------
def test_size_is_numpys_count_and_torchs_method() -> None:
    x = minidl.zeros(2, 3, 4)
    assert x.size == 24 and x.size() == (2, 3, 4)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(dim=1) == 3
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 3"):
        x.size(3)
    assert x.dim() == 3 and x.nelement() == 24


def test_transposes_t_and_mT() -> None:
    m = minidl.arange(6).reshape(2, 3)
    assert m.t().tolist() == [[0, 3], [1, 4], [2, 5]]
    v = minidl.arange(3)
    assert v.t().tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        minidl.zeros(2, 2, 2).t()
    assert minidl.zeros(5, 2, 3).mT.shape == (5, 3, 2)
    with pytest.raises(RuntimeError, match="mT"):
        v.mT
    x = minidl.randn(2, 3, 4, dtype=minidl.float64, requires_grad=True)
    assert minidl.gradcheck(lambda x: x.mT * minidl.arange(4.0).reshape(4, 1), x)


def test_clone_copies_and_stays_in_the_graph() -> None:
    x = minidl.randn(3, dtype=minidl.float64, requires_grad=True)
    y = x.clone()
    assert y.numpy() is not x.numpy() and np.array_equal(y.numpy(), x.numpy())
    assert y.grad_fn is not None and minidl.gradcheck(lambda x: x.clone() ** 2, x)
    y.numpy()[0] = 99.0
    assert x.numpy()[0] != 99.0


def test_tolist_contiguous_and_the_as_forms() -> None:
    x = minidl.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]] and minidl.tensor(3).tolist() == 3
    assert x.contiguous() is x
    assert x.view(2).shape == (2,) and x.view(-1, 1).shape == (2, 1)
    assert x.view_as(minidl.zeros(2, 1)).shape == (2, 1)
    assert x.reshape_as(minidl.zeros(2)).shape == (2,)
    assert x.expand_as(minidl.zeros(3, 2)).tolist() == [[1.5, 2.0]] * 3
    assert x.type_as(minidl.zeros(1, dtype=minidl.long)).tolist() == [[1, 2]]
    assert x.is_floating_point() and not minidl.arange(2).is_floating_point()


def test_new_constructors_take_the_tensors_dtype() -> None:
    x = minidl.zeros(1, dtype=minidl.float64)
    for made, shape, value in ((x.new_zeros(2, 3), (2, 3), 0), (x.new_ones((2,)), (2,), 1),
                               (x.new_full((1, 2), 7), (1, 2), 7),
                               (x.new_tensor([[5, 5]]), (1, 2), 5)):
        assert made.dtype == np.float64 and made.shape == shape
        assert np.all(made.numpy() == value) and made.is_leaf
    assert x.new_zeros(2, dtype=minidl.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    source = np.ones(2)
    copy = x.new_tensor(source)
    source[0] = 5
    assert copy.tolist() == [1.0, 1.0]


def test_to_takes_torchs_forms() -> None:
    x = minidl.tensor([1.5, -2.0])
    assert x.to(minidl.float64).dtype == np.float64
    assert x.to("cpu", minidl.float64).dtype == np.float64
    assert x.to(dtype=minidl.long).tolist() == [1, -2]
    assert x.to(minidl.zeros(1, dtype=minidl.int32)).dtype == np.int32
    assert x.to(minidl.float32) is x and x.to(minidl.float32, copy=True) is not x
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and x.bool().tolist() == [
        True, True]
    assert x.double().dtype == np.float64 and x.long().float().dtype == np.float32
    assert x.type(minidl.float64).dtype == np.float64


# -- Module -------------------------------------------------------------------------------
class WithBuffers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.register_buffer("mask", minidl.ones(2))
        self.register_buffer("scratch", minidl.zeros(3), persistent=False)
        self.register_buffer("unset", None)

    def forward(self, x: minidl.Tensor) -> minidl.Tensor:
        return self.linear(x) * self.mask


def test_buffers_registered_as_tensors_stay_tensors_and_persist_as_asked() -> None:
    model = WithBuffers()
    assert isinstance(model.mask, minidl.Tensor) and model.unset is None
    assert list(model.state_dict()) == ["mask", "linear.weight", "linear.bias"]
    assert [name for name, _ in model.named_buffers()] == ["mask", "scratch"]
    assert [name for name, _ in model.named_buffers(recurse=False)] == ["mask", "scratch"]
    assert len(list(model.buffers())) == 2
    state = model.state_dict()
    state["mask"] = np.array([0.0, 2.0])
    model.load_state_dict(state)
    assert model.mask.tolist() == [0.0, 2.0]
    model.double()
    assert model.mask.dtype == np.float64 and model.scratch.dtype == np.float64


def test_children_and_recurse() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    assert [type(c).__name__ for c in model.children()] == ["Linear", "Sequential"]
    assert list(model.parameters(recurse=False)) == []
    assert [n for n, _ in model[0].named_parameters(recurse=False)] == ["weight", "bias"]
    assert len(list(model.parameters())) == 4


def test_load_state_dict_returns_torchs_named_tuple() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    state = model.state_dict()
    del state["2.bias"]
    state["3.weight"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["3.weight"]
    assert repr(result) == ("IncompatibleKeys(missing_keys=['2.bias'], "
                            "unexpected_keys=['3.weight'])")
    assert model.load_state_dict(model.state_dict()) == ([], [])
    with pytest.raises(RuntimeError) as raised:
        model.load_state_dict(state)
    assert str(raised.value) == str(VECTORS["error_load_state_dict"])


def test_module_to_device_and_dtype() -> None:
    model = nn.Linear(2, 2)
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to("cpu", minidl.float64).weight.dtype == np.float64
    assert model.to(dtype=minidl.float32).weight.dtype == np.float32
    assert model.to(minidl.device("cpu")).weight.dtype == np.float32
