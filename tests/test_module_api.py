"""The Module and Tensor names PyTorch users type: containers, walking the tree,
apply, requires_grad_, dtype casts, hooks, numel, numpy interop.

Expected values (reprs, key orders, hook results) were taken from torch 2.13.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import minidl
from minidl import nn, optim


def test_import_minidl_alone_exposes_nn_and_optim():
    code = "import minidl; print(minidl.nn.Linear, minidl.optim.RMSprop, minidl.nn.ModuleList)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# -- containers -----------------------------------------------------------------------
def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(list(layers.parameters())) == 4 and len(layers) == 3
    assert repr(layers) == ("ModuleList(\n"
                            "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (2): ReLU()\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert isinstance(layers[-1], nn.ReLU) and isinstance(layers[0:2], nn.ModuleList)
    del layers[0]
    assert list(layers._modules) == ["0", "1"]
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid"]
    with pytest.raises(IndexError, match="out of range"):
        layers[5]
    with pytest.raises(TypeError, match="int"):
        layers.append(3)
    layers.eval()
    assert not any(m.training for m in layers)


def test_module_list_inside_a_model_trains():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(3, 3) for _ in range(2))
            self.heads = nn.ModuleDict({"out": nn.Linear(3, 1)})

        def forward(self, x):
            for block in self.blocks:
                x = block(x).tanh()
            return self.heads["out"](x)

    net = Net()
    assert list(net.state_dict()) == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                      "blocks.1.bias", "heads.out.weight", "heads.out.bias"]
    opt = optim.SGD(net.parameters(), lr=0.1, device="cpu")
    before = net.blocks[0].weight.numpy().copy()
    net(minidl.ones(4, 3)).sum().backward()
    opt.step()
    assert not np.array_equal(before, net.blocks[0].weight.numpy())


def test_module_dict_registers_in_insertion_order():
    d = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.ReLU()})
    assert list(d.state_dict()) == ["b.weight", "b.bias"] and list(d.keys()) == ["b", "a"]
    assert repr(d) == ("ModuleDict(\n  (b): Linear(in_features=1, out_features=1, bias=True)\n"
                       "  (a): ReLU()\n)")
    assert repr(nn.ModuleDict()) == "ModuleDict()"
    assert "a" in d and list(d) == ["b", "a"]
    d.update([("c", nn.Tanh())])
    assert isinstance(d.pop("a"), nn.ReLU) and list(d) == ["b", "c"]
    with pytest.raises(KeyError, match=r"x\.y"):
        d["x.y"] = nn.ReLU()
    with pytest.raises(TypeError, match="string"):
        d[3] = nn.ReLU()
    with pytest.raises(TypeError, match="int"):
        d["q"] = 3
    with pytest.raises(KeyError, match="'zz'"):
        d["zz"]


# -- walking, apply, freezing, dtypes ------------------------------------------------------
def test_named_modules_and_apply_follow_pytorch_order():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert [n for n, _ in model.named_modules(prefix="net")] == [
        "net", "net.0", "net.1", "net.1.0", "net.1.1"]
    assert len(list(model.modules())) == 5
    order = []
    assert model.apply(lambda m: order.append(type(m).__name__)) is model
    assert order == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]


def test_requires_grad_freezes_parameters():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert model[0].requires_grad_(False) is model[0]
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    model(minidl.ones(3, 2)).sum().backward()
    assert model[0].weight.grad is None and model[1].weight.grad is not None


def test_double_float_and_to_cast_parameters_and_float_buffers():
    model = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1))
    weight = model[0].weight
    model(minidl.ones(2, 1)).sum().backward()
    assert model.double() is model and model[0].weight is weight
    assert [p.dtype for p in model.parameters()] == [np.float64] * 4
    assert weight.grad.dtype == np.float64
    assert [b.dtype for b in model.buffers()] == [np.float64, np.float64, np.int64]
    assert model(minidl.ones(2, 1, dtype=np.float64)).dtype == np.float64
    model.float()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    model.to("float64")
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    with pytest.raises(ValueError, match="Invalid dtype: 'int32'"):
        model.to("int32")
    with pytest.raises(ValueError, match="Invalid dtype: 'cuda:x'"):
        model.to("cuda:x")   # neither a device nor a dtype


def test_to_refuses_parameters_an_optimizer_holds():
    model = nn.Linear(2, 1)
    optim.SGD(model.parameters(), lr=0.1, device="cpu")
    with pytest.raises(ValueError, match="before building the optimizer"):
        model.double()
    assert model.weight.dtype == np.float32
    model.float()   # no change of dtype: fine


# -- hooks ---------------------------------------------------------------------------
def test_forward_hooks_see_and_replace_inputs_and_outputs():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", len(args))))
    post = layer.register_forward_hook(lambda m, args, out: out * 0)
    out = layer(minidl.ones(1, 2))
    assert calls == [("pre", 1)]
    np.testing.assert_array_equal(out.numpy(), 0)
    post.remove()
    post.remove()
    assert not np.array_equal(layer(minidl.ones(1, 2)).numpy(), 0)
    pre.remove()
    with layer.register_forward_pre_hook(lambda m, args: args[0] * 0):
        np.testing.assert_allclose(layer(minidl.ones(1, 2)).numpy(), layer.bias.numpy()[None])
    assert len(calls) == 2   # removed hooks are not called


def test_tensor_hooks_change_the_gradient_that_flows_on():
    x = minidl.ones(3, requires_grad=True)
    x.register_hook(lambda g: g * 2)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = y.register_hook(lambda g: g + 1)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [12.0, 12.0, 12.0])   # torch gives 12 too
    np.testing.assert_array_equal(seen[0], [1.0, 1.0, 1.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0, 6.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        minidl.ones(2).register_hook(print)


# -- tensor conveniences ----------------------------------------------------------------
def test_numel_and_requires_grad_():
    x = minidl.zeros(2, 3)
    assert x.numel() == 6 and minidl.tensor(1.0).numel() == 1
    assert x.requires_grad_() is x and x.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)
    with pytest.raises(TypeError, match="floating-point"):
        minidl.tensor([1, 2]).requires_grad_()


def test_numpy_functions_take_tensors():
    t = minidl.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]], requires_grad=True)
    array = np.asarray(t)
    assert type(array) is np.ndarray and array.dtype == np.float32
    np.testing.assert_array_equal(array, t.numpy())
    np.testing.assert_array_equal(np.asarray(np.argmax(t, axis=1)), [1, 0])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(t), t.numpy())
    stacked = np.stack([minidl.ones(2), minidl.zeros(2)])
    assert type(stacked) is np.ndarray and stacked.shape == (2, 2)
    assert isinstance(np.ones(3, np.float32) + minidl.ones(3), minidl.Tensor)
