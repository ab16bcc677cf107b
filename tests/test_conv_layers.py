"""The convolution, pooling, normalisation and embedding layers: gradients against finite
differences (float64), shapes, initialisation, and errors that name the shapes."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

fast = settings(max_examples=15, deadline=None)


def leaf(*shape: int, seed: int = 0) -> minidl.Tensor:
    data = np.random.default_rng(seed).standard_normal(shape)
    return minidl.Tensor(data, requires_grad=True, dtype=np.float64)


@st.composite
def conv_settings(draw):
    """A small conv2d: shapes, stride, padding (ints or "same"/"valid"), dilation, groups."""
    groups = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["same", "valid", 0, 1, (1, 0), (0, 2)]))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = [r + draw(st.integers(0, 2)) for r in reach]   # 0: the kernel spans the input
    return {"x": (draw(st.integers(1, 2)), cg * groups, *size),
            "w": (og * groups, cg, *kernel), "bias": draw(st.booleans()), "stride": stride,
            "padding": padding, "dilation": dilation, "groups": groups}


@fast
@given(conv_settings())
def test_conv2d_gradients_match_finite_differences(case):
    x, w = leaf(*case["x"], seed=1), leaf(*case["w"], seed=2)
    inputs = (x, w, leaf(case["w"][0], seed=3)) if case["bias"] else (x, w)
    options = {key: case[key] for key in ("stride", "padding", "dilation", "groups")}
    assert minidl.gradcheck(lambda *t: F.conv2d(*t, **options), *inputs)


@fast
@given(st.integers(1, 3), st.integers(1, 2), st.integers(0, 2),
       st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
def test_conv1d_layer_gradients_match_finite_differences(kernel, stride, padding, mode):
    minidl.manual_seed(0)
    layer = nn.Conv1d(2, 3, kernel, stride=stride, padding=padding, padding_mode=mode,
                      dtype=np.float64)
    x = leaf(2, 2, 5)
    assert minidl.gradcheck(lambda x, w, b: F.conv1d(
        F.pad(x, (padding, padding), mode.replace("zeros", "constant")), w, b, stride),
        x, layer.weight, layer.bias)
    # the layer computes that same function
    expected = F.conv1d(F.pad(x, (padding, padding), mode.replace("zeros", "constant")),
                        layer.weight, layer.bias, stride)
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy())


@fast
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.booleans(),
       st.sampled_from(["max", "avg"]))
def test_pooling_gradients_match_finite_differences(kh, kw, stride, pad, kind):
    x = leaf(2, 2, 5, 4)
    padding = (kh // 2, kw // 2) if pad else 0
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    assert minidl.gradcheck(lambda x: pool(x, (kh, kw), stride, padding), x)
    pool1d = F.max_pool1d if kind == "max" else F.avg_pool1d
    assert minidl.gradcheck(lambda x: pool1d(x, kw, stride, kw // 2 if pad else 0), leaf(2, 3, 6))


@pytest.mark.parametrize("output_size", [1, (2, 3), (None, 2), (5, 4)])
def test_adaptive_avg_pool2d_gradients(output_size):
    assert minidl.gradcheck(lambda x: F.adaptive_avg_pool2d(x, output_size), leaf(2, 2, 5, 4))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradients(mode):
    assert minidl.gradcheck(lambda x: F.pad(x, (2, 1, 0, 3), mode), leaf(2, 4, 5))


def test_norm_gradients():
    x = leaf(3, 2, 3, 2)
    assert minidl.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                            x, leaf(2, seed=4), leaf(2, seed=5))
    assert minidl.gradcheck(lambda x, w, b: F.layer_norm(x, (3, 2), w, b),
                            x, leaf(3, 2, seed=6), leaf(3, 2, seed=7))


def test_embedding_gradient_accumulates_repeated_indices():
    weight = leaf(5, 3)
    index = np.array([[1, 4, 1], [1, 0, 2]])
    assert minidl.gradcheck(lambda w: F.embedding(index, w), weight)
    weight.grad = None
    out = F.embedding(index, weight, padding_idx=2)
    assert out.shape == (2, 3, 3)
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(weight.grad[:, 0], [1, 3, 0, 0, 1])   # 1 three times; 2 pads


def test_embedding_layer():
    minidl.manual_seed(0)
    layer = nn.Embedding(10, 4, padding_idx=-1)
    assert layer.padding_idx == 9 and repr(layer) == "Embedding(10, 4, padding_idx=9)"
    np.testing.assert_array_equal(layer.weight.numpy()[9], 0)
    assert layer(minidl.Tensor(np.array([3, 9]))).shape == (2, 4)
    with pytest.raises(IndexError, match="index 10 is out of range for 10 embeddings"):
        layer(np.array([[1, 10]]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        layer(np.array([-1]))
    with pytest.raises(TypeError, match="integer indices"):
        layer(np.array([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


def test_conv2d_layer_shapes_init_and_repr():
    minidl.manual_seed(0)
    layer = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert layer.weight.shape == (6, 2, 3, 2) and layer.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2)    # fan_in = in_channels / groups * kH * kW
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound
    assert layer(np.zeros((5, 4, 7, 6), np.float32)).shape == (5, 6, 4, 4)
    assert layer(np.zeros((4, 7, 6), np.float32)).shape == (6, 4, 4)   # unbatched
    assert repr(layer) == ("Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), "
                           "groups=2)")
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Conv2d(1, 1, 3, bias=False).bias is None


@pytest.mark.parametrize("kernel,dilation", [(2, 1), (3, 1), (4, 2), (3, 3)])
def test_same_padding_keeps_the_size(kernel, dilation):
    layer = nn.Conv2d(1, 2, kernel, padding="same", dilation=dilation)
    assert layer(np.zeros((1, 1, 7, 6), np.float32)).shape == (1, 2, 7, 6)
    assert nn.Conv1d(1, 2, kernel, padding="same", dilation=dilation)(
        np.zeros((1, 1, 9), np.float32)).shape == (1, 2, 9)


def test_pool_layers():
    x = minidl.Tensor(np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d(1)(x).numpy().ravel(), [7.5, 23.5])
    assert nn.MaxPool1d(3, stride=1)(np.zeros((2, 3, 5))).shape == (2, 3, 3)
    assert nn.AvgPool1d(2)(np.zeros((2, 3, 5))).shape == (2, 3, 2)
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")


def test_batch_norm2d_layer():
    layer = nn.BatchNorm2d(3)
    x = np.random.default_rng(0).normal(2.0, 3.0, (8, 3, 4, 4)).astype(np.float32)
    y = layer(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    assert int(layer.num_batches_tracked) == 1
    assert set(layer.state_dict()) == {"weight", "bias", "running_mean", "running_var",
                                       "num_batches_tracked"}
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects input of shape "
                                         r"\(N, 3, H, W\), got shape \(8, 3\)"):
        layer(np.zeros((8, 3), np.float32))


def test_layer_norm_layer():
    layer = nn.LayerNorm(4)
    y = layer(np.random.default_rng(0).normal(5, 2, (3, 4))).numpy()
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-5)
    assert nn.LayerNorm((2, 3), elementwise_affine=False).weight is None
    with pytest.raises(RuntimeError, match=r"input of shape \(3, 5\) does not end in "
                                         r"normalized_shape \(4,\)"):
        layer(np.zeros((3, 5)))


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(np.zeros((3, 5)), minidl.zeros(2, 3, 3, 3)),
     r"expected input of shape \(N, C, H, W\) or \(C, H, W\), got shape \(3, 5\)"),
    (lambda: nn.Conv2d(3, 2, 3)(np.zeros((1, 2, 5, 5))),
     r"input of shape \(1, 2, 5, 5\) has 2 channels, but weight of shape \(2, 3, 3, 3\) "
     r"with groups=1 expects 3"),
    (lambda: nn.Conv2d(1, 2, 5)(np.zeros((1, 1, 4, 6))),
     r"the kernel \(5, 5\) .* spans \(5, 5\), more than the padded input \(4, 6\)"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"groups=4 must divide in_channels=4 and "
                                           r"out_channels=6"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), minidl.zeros(3, 2, 3, 3), groups=2),
     r"groups=2 does not divide the 3 output channels"),
    (lambda: nn.Conv2d(1, 2, 3, padding="same", stride=2), "padding='same' needs stride 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding="full"), "Invalid padding: 'full'"),
    (lambda: nn.Conv2d(1, 2, 3, padding_mode="mirror"), "Invalid padding_mode: 'mirror'"),
    (lambda: nn.Conv2d(1, 2, 0), r"Invalid kernel_size: 0"),
    (lambda: nn.Conv1d(2, 2, 3)(np.zeros((1, 2, 3, 3))),
     r"conv1d: expected input of shape \(N, C, L\) or \(C, L\), got shape \(1, 2, 3, 3\)"),
    (lambda: F.pad(minidl.zeros(2, 3), (4, 0), "reflect"), r"reflect padding \(4, 0\) of "
                                                            r"dimension 1 needs < its size 3"),
    (lambda: F.pad(minidl.zeros(2, 3), (1, 0, 0, 0, 1, 1)), "at most one pair per dimension"),
    (lambda: F.pad(minidl.zeros(2, 3), (1,)), "pairs of ints"),
    (lambda: F.pad(minidl.zeros(2, 3), (1, 1), "wrap"), "invalid mode 'wrap'"),
])
def test_bad_input_names_the_argument_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("channels", [1, 3, 12])   # each layout of the im2col columns
def test_an_empty_batch_flows_through_conv_and_pooling(channels):
    """As in PyTorch, a batch of 0 images gives 0 outputs and zero weight gradients."""
    conv = nn.Conv2d(channels, 4, 3, padding=1)
    x = minidl.Tensor(np.zeros((0, channels, 6, 6), np.float32), requires_grad=True)
    y = nn.AvgPool2d(3, 1)(nn.MaxPool2d(2)(conv(x)))
    assert y.shape == (0, 4, 1, 1)
    y.sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(conv.weight.grad, 0)
    np.testing.assert_array_equal(conv.bias.grad, 0)


def test_cnn_output_shape_and_float32():
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(128, 10))
    out = model(np.zeros((5, 1, 8, 8)))
    assert out.shape == (5, 10) and out.dtype == np.float32


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_unbatched_input_too(mode):
    minidl.manual_seed(0)
    layer = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    np.testing.assert_allclose(layer(x).numpy(), layer(x[None]).numpy()[0])
    assert layer(x).shape == (3, 5, 4)
