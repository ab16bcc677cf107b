"""The new layers beyond their values (those are in test_layers_torch.py): PyTorch's dtype
rules for integer pooling, bad input refused with PyTorch's exception types and messages
that name the argument and the value, large adaptive outputs, modules' state and repr,
RReLU's random slopes (imports running one way: test_import_order.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.kernels.nn import cpu, reference

X = np.zeros((1, 2, 4, 4), np.float32)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv2d(X.astype(np.float16), minidl.zeros(1, 2, 3, 3)), TypeError,
     "conv2d: input of dtype float16 is not supported"),
    (lambda: F.conv2d(minidl.Tensor(X), np.ones((1, 2, 3, 3), np.float32)), TypeError,
     "conv2d: weight must be a Tensor, got ndarray"),
    (lambda: F.conv2d(minidl.Tensor(X), minidl.zeros(1, 2, 3, 3), np.zeros(1)), TypeError,
     "bias must be a Tensor or None, got ndarray"),
    (lambda: nn.Conv2d(2, 1, 3, dtype=np.int32), RuntimeError, "Conv2d: invalid dtype int32"),
    (lambda: nn.ConvTranspose2d(2, 1, 3, dtype=np.float16), RuntimeError,
     "ConvTranspose2d: invalid dtype float16"),
    (lambda: F.max_pool2d(minidl.Tensor(X, dtype=np.float16), 2), TypeError,
     "max_pool2d: input of dtype float16 is not supported"),
    (lambda: F.avg_pool1d(minidl.Tensor(X[0], dtype=np.float16), 2), TypeError,
     "avg_pool1d: input of dtype float16"),
    (lambda: F.conv1d(minidl.Tensor(X[0], dtype=np.float16), minidl.zeros(1, 4, 3)), TypeError,
     "conv1d: input of dtype float16"),
    (lambda: F.max_pool2d(X > 0, 2), NotImplementedError, "max_pool2d: input of dtype bool"),
    (lambda: F.max_pool1d(np.arange(8).reshape(1, 1, 8), 2), NotImplementedError,
     "max_pool1d: input of dtype int64 is not supported, as in PyTorch"),
    (lambda: F.adaptive_avg_pool2d(np.ones((1, 1, 4, 4), np.int64), 2), NotImplementedError,
     "adaptive_avg_pool2d: input of dtype int64"),
    (lambda: F.max_pool2d(X, 2, padding=2), RuntimeError,
     r"padding \(2, 2\) must be at most half of the effective kernel size \(2, 2\)"),
    (lambda: F.max_pool2d(X, 5), RuntimeError, "output size 0 is too small"),
    (lambda: F.avg_pool2d(np.zeros((4, 4)), 2), RuntimeError, r"got shape \(4, 4\)"),
    (lambda: F.avg_pool2d(X, 2, divisor_override=0), RuntimeError,
     "divisor_override must be a non-zero int, got 0"),
    (lambda: F.adaptive_avg_pool2d(np.ones((1, 1, 0, 4)), 2), RuntimeError,
     r"non-empty spatial dimensions, got shape \(1, 1, 0, 4\)"),
    (lambda: nn.AdaptiveAvgPool2d(-1)(X), RuntimeError,
     "adaptive_avg_pool2d: elements of output_size must be >= 0, got -1"),
    (lambda: F.max_unpool2d(minidl.zeros(1, 1, 2, 2), np.array([[[[0, 1], [2, 99]]]]), 2),
     RuntimeError, r"invalid max index 99 for an output of size \(4, 4\)"),
    (lambda: F.max_unpool2d(minidl.zeros(1, 1, 2, 2), np.zeros((1, 1, 2, 2)), 2),
     RuntimeError, "indices must be integers"),
    (lambda: F.conv_transpose2d(minidl.Tensor(X), minidl.zeros(2, 1, 3, 3), stride=2,
                                output_padding=2), RuntimeError,
     r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\)"),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2)(X, output_size=(20, 20)), ValueError,
     r"requested output_size \(20, 20\) is not between \(9, 9\)"),
    (lambda: nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect"), ValueError,
     "only padding_mode='zeros'"),
    (lambda: F.pad(minidl.zeros(2, 3), (-2, -2)), RuntimeError,
     r"cropping \(-2, -2\) of dimension 1 needs at least 4 elements, it has 3"),
    (lambda: F.pad(minidl.zeros(1, 2, 3), (4, 0), "circular"), ValueError,
     r"circular padding \(4, 0\) of dimension 2 needs <= its size 3"),
    (lambda: F.interpolate(X, size=3, scale_factor=2), ValueError,
     "give exactly one of size and scale_factor"),
    (lambda: F.interpolate(X, size=3, align_corners=True), ValueError,
     "align_corners can only be set with the interpolating modes"),
    (lambda: F.interpolate(X, size=3, mode="linear"), NotImplementedError,
     "got 4-D input .* for mode 'linear'"),
    (lambda: F.interpolate(X, size=3, mode="bicubic"), NotImplementedError,
     "mode 'bicubic' is not supported"),
    (lambda: F.interpolate(np.ones((1, 1, 4, 4), np.int64), size=3), NotImplementedError,
     "input of dtype int64"),
    (lambda: F.pixel_shuffle(minidl.zeros(1, 3, 2, 2), 2), RuntimeError,
     r"divisible by 4 \(upscale_factor 2\), got shape \(1, 3, 2, 2\)"),
    (lambda: nn.PixelUnshuffle(0), RuntimeError, "downscale_factor must be a positive int"),
    (lambda: F.fold(minidl.zeros(1, 8, 5), (4, 4), 2), RuntimeError,
     r"expected input \(N, C \* 4, 9\)"),
    (lambda: F.glu(minidl.zeros(3, 5)), RuntimeError, "halving dimension -1 .* must be even"),
    (lambda: F.prelu(minidl.zeros(3, 5), minidl.zeros(3)), RuntimeError,
     r"weight of shape \(3,\) must hold 1 or 5 slopes"),
    (lambda: F.instance_norm(minidl.zeros(2, 3, 1)), ValueError,
     "more than 1 spatial element when training"),
    (lambda: nn.InstanceNorm1d(3, affine=True)(minidl.zeros(2, 4, 5)), ValueError,
     r"InstanceNorm1d\(3\): input of shape \(2, 4, 5\) has 4 channels"),
    (lambda: F.smooth_l1_loss(minidl.zeros(2), minidl.zeros(2), beta=-1), RuntimeError,
     "beta must be a number >= 0, got -1"),
    (lambda: F.kl_div(minidl.zeros(2), minidl.zeros(2), reduction="x"), ValueError,
     "Invalid reduction: 'x'"),
    (lambda: F.gaussian_nll_loss(minidl.zeros(2, 3), minidl.zeros(2, 3), -minidl.ones(2, 3)),
     ValueError, "var has negative entries"),
    (lambda: F.gaussian_nll_loss(minidl.zeros(2, 3), minidl.zeros(2, 3), minidl.ones(3)),
     ValueError, r"var of shape \(3,\) does not fit the input's shape \(2, 3\)"),
    (lambda: F.triplet_margin_loss(minidl.zeros(2, 3), minidl.zeros(2, 3), minidl.zeros(2, 3),
                                   margin=0), ValueError, "margin must be greater than 0"),
    (lambda: F.multi_margin_loss(minidl.zeros(2, 3), [0, 1], p=3), ValueError,
     "only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(minidl.zeros(2, 3), [0, 3]), RuntimeError,
     r"target must hold 2 classes in \[0, 3\)"),
    (lambda: F.multilabel_margin_loss(minidl.zeros(2, 3), [[0, -1, 0], [4, -1, 0]]),
     RuntimeError, r"target classes must lie in \[-1, 3\)"),
    (lambda: F.margin_ranking_loss(minidl.zeros(3), minidl.zeros(2), minidl.ones(3)),
     RuntimeError, "shapes"),
])
def test_bad_input_raises_pytorchs_exception_naming_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_integer_pooling_follows_pytorchs_dtypes():
    """torch 2.13: max_pool2d keeps int32 and int64; avg_pool divides with truncation toward
    zero and keeps the dtype (values from torch)."""
    x = np.array([[[-7, 5, -3, 2, 9, -1]]])
    y = F.avg_pool1d(x, 2)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), [[[-1, 0, 4]]])
    np.testing.assert_array_equal(F.avg_pool1d(x, 3, padding=1).numpy(), [[[0, 2]]])
    np.testing.assert_array_equal(F.avg_pool1d(x, 3, padding=1, count_include_pad=False)
                                  .numpy(), [[[-1, 2]]])
    image = np.array([[[[1, 2], [3, 4]]]], dtype=np.int32)
    y = F.max_pool2d(image, 2, padding=1)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y.numpy(), image)   # the padding never wins
    y, index = F.max_pool2d(image, 2, return_indices=True)
    assert y.item() == 4 and index.item() == 3 and index.dtype == np.int64


def test_large_adaptive_outputs_are_computed_in_one_pass():
    """AdaptiveAvgPool2d(3000) on 8x8 (issue 21): each output averages the one or two input
    rows and columns its window covers; the gradient sums back to the window counts."""
    x = minidl.Tensor(np.arange(64, dtype=np.float64).reshape(1, 1, 8, 8), requires_grad=True,
                      dtype=np.float64)
    y = nn.AdaptiveAvgPool2d(3000)(x)
    assert y.shape == (1, 1, 3000, 3000)
    rows = [(i * 8 // 3000, -(-(i + 1) * 8 // 3000)) for i in (0, 374, 375, 2999)]
    for i, (r0, r1) in zip((0, 374, 375, 2999), rows):
        np.testing.assert_allclose(y.numpy()[0, 0, i, i], x.numpy()[0, 0, r0:r1, r0:r1].mean())
    y.sum().backward()
    assert np.asarray(x.grad).sum() == pytest.approx(3000 * 3000)


def test_adaptive_average_keeps_an_inf_in_its_window():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.inf
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(x, 2).numpy(),
                                  [[[[np.inf, 1], [1, 1]]]])


def test_pool_modules_repr_and_defaults_as_pytorch():
    assert repr(nn.MaxPool2d(3, 2, 1, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)")
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=2, stride=2, padding=0)"
    y, index = nn.MaxPool2d(2, return_indices=True)(np.arange(16.0).reshape(1, 1, 4, 4))
    assert nn.MaxUnpool2d(2)(y, index).shape == (1, 1, 4, 4)
    assert nn.AdaptiveMaxPool1d(3)(np.zeros((2, 5))).shape == (2, 3)


def test_conv_transpose_layer_shapes_parameters_and_repr():
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, bias=False)
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias is None
    bound = 1 / np.sqrt(3 * 9)   # fan_in = out_channels / groups * kernel area, as PyTorch
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert layer(np.zeros((1, 4, 5, 5))).shape == (1, 6, 11, 11)
    assert layer(np.zeros((1, 4, 5, 5)), output_size=(12, 12)).shape == (1, 6, 12, 12)
    assert repr(layer) == ("ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), groups=2, "
                           "bias=False)")
    assert nn.ConvTranspose1d(2, 3, 4, stride=2)(np.zeros((3, 2, 5))).shape == (3, 3, 12)


def test_rrelu_draws_slopes_in_training_and_uses_their_mean_in_eval():
    minidl.manual_seed(0)
    layer = nn.RReLU(0.1, 0.3)
    x = -minidl.ones(1000)
    slopes = -layer(x).numpy()
    assert 0.1 <= slopes.min() < 0.12 and 0.28 < slopes.max() <= 0.3
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), -0.2)
    np.testing.assert_array_equal(layer(minidl.ones(3)).numpy(), 1.0)


def test_loss_weights_are_buffers_in_the_state_dict():
    loss = nn.MultiMarginLoss(weight=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(loss.state_dict()["weight"], [1, 2, 3])
    assert "weight" not in nn.MultiLabelSoftMarginLoss().state_dict()


def test_instance_norm_state_dict_keys_follow_pytorch():
    assert set(nn.InstanceNorm2d(3).state_dict()) == set()
    assert set(nn.InstanceNorm1d(3, affine=True, track_running_stats=True).state_dict()) == {
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dilated_max_pool_kernel_matches_reference(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    x[0, 0, :3, :3] = np.round(x[0, 0, :3, :3])   # some ties
    for kernel, stride, dilation in (((3, 2), (2, 1), (2, 3)), ((2, 2), (2, 2), (2, 2))):
        y, choice = cpu.max_pool2d(x, kernel, stride, dilation)
        expected, expected_choice = reference.max_pool2d(x, kernel, stride, dilation)
        np.testing.assert_array_equal(y, expected)
        np.testing.assert_array_equal(choice, expected_choice)
        g = rng.standard_normal(y.shape).astype(dtype)
        np.testing.assert_allclose(cpu.max_pool2d_grad(g, choice, x.shape[2:], kernel, stride,
                                                       dilation),
                                   reference.max_pool2d_grad(g, choice, x.shape[2:], kernel,
                                                             stride, dilation), rtol=1e-6)


@pytest.mark.parametrize("channels", [1, 3, 9])   # each im2col layout of the columns
def test_conv_input_grad_kernel_is_the_adjoint_of_conv(channels):
    """<conv(x), g> = <x, conv2d_input_grad(g)> for both backends."""
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, 2 * channels, 7, 6))
    w = rng.standard_normal((4, channels, 3, 2))
    geometry = ((2, 1), (1, 2), 2, ((1, 0), (2, 1)))
    y, _ = reference.conv2d(x, w, *geometry)
    g = rng.standard_normal(y.shape)
    for backend in (cpu, reference):
        adjoint = backend.conv2d_input_grad(g, w, x.shape, *geometry)
        assert np.sum(y * g) == pytest.approx(np.sum(x * adjoint), rel=1e-12)
    np.testing.assert_allclose(cpu.conv2d_input_grad(g, w, x.shape, *geometry),
                               reference.conv2d_input_grad(g, w, x.shape, *geometry),
                               rtol=1e-12, atol=1e-12)


def test_adaptive_max_pool_follows_max_pools_rule_for_ties_and_nan():
    """Where the windows tile the input, adaptive max pooling is max_pool2d, whose choice of
    the first of equal maxima and the last NaN is checked against torch in
    test_conv_torch.py; empty outputs are empty, as in PyTorch."""
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((2, 3, 6, 8)))
    x[rng.random(x.shape) < 0.15] = np.nan
    y, index = F.adaptive_max_pool2d(x, (3, 2), return_indices=True)
    expected, expected_index = F.max_pool2d(x, (2, 4), return_indices=True)
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    np.testing.assert_array_equal(index.numpy(), expected_index.numpy())
    assert F.adaptive_max_pool2d(x, 0).shape == (2, 3, 0, 0)
    assert F.adaptive_avg_pool2d(x, (0, 2)).shape == (2, 3, 0, 2)


@pytest.mark.parametrize("layer", [
    lambda x: F.conv_transpose2d(x, minidl.zeros(4, 2, 3, 3), stride=2),
    lambda x: F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)[0],
    lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
    lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda x: F.adaptive_avg_pool2d(x, 3),
    lambda x: F.adaptive_max_pool2d(x, (3, 0)),
    lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
    lambda x: F.fold(F.unfold(x, 2), (5, 5), 2),
    lambda x: F.pixel_shuffle(x, 2),
    lambda x: nn.InstanceNorm2d(4)(x),
    lambda x: F.local_response_norm(x, 3),
])
def test_empty_batches_and_outputs_pass_forward_and_backward(layer):
    """A batch of 0 images (and an output of size 0) gives empty results and gradients, as
    the convolutions and pools before them do."""
    x = minidl.zeros(0, 4, 5, 5, requires_grad=True)
    y = layer(x)
    assert y.shape[0] == 0
    y.sum().backward()
    assert np.asarray(x.grad).shape == (0, 4, 5, 5)
