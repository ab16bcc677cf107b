"""Resampling: ``interpolate``/``Upsample``, ``pixel_shuffle``/``pixel_unshuffle`` and
``unfold``/``fold`` (im2col and its adjoint), with PyTorch's arguments.

``interpolate`` resizes the spatial axes of (N, C, L) or (N, C, H, W) one axis at a
time (each mode is separable). Output position i of an axis of size ``in`` resized
to ``out`` reads, with scale = 1 / scale_factor when a scale factor is given (and
not recomputed), else in / out:

    nearest         x[min(floor(i scale), in - 1)]
    nearest-exact   x[min(floor((i + 0.5) scale), in - 1)]
    linear          (1 - t) x[k] + t x[min(k + 1, in - 1)],  k = floor(s), t = s - k, for
                    s = i (in - 1) / (out - 1)                   with align_corners
                    s = max((i + 0.5) scale - 0.5, 0)            without
    area            the mean of adaptive pooling's windows (``adaptive_avg_pool``)

computed in the input's dtype, as PyTorch does. "bilinear" is "linear" along H and
then W. The gradient adds each output's g back to the elements it read, with their
weights (``weighted_gather``).

``pixel_shuffle(x, r)`` moves channel blocks into space, (*, C r^2, H, W) -> (*, C, H r,
W r), y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]; ``pixel_unshuffle`` undoes it.
``channel_shuffle(x, g)`` interleaves the channels of g groups (ShuffleNet): with
C = g m, y[:, i g + k] = x[:, k m + i].

``unfold`` copies every sliding block of (N, C, H, W), zero-padded, into a column:
(N, C KH KW, L), row c KH KW + p KW + q of column (i, j) holding
xp[n, c, i sh + p dh, j sw + q dw]; ``fold`` sums such columns back into an image,
and each one's gradient is the other.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .conv import as_tuple
from .module import Module
from .adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, weighted_gather

__all__ = ["interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "unfold", "fold", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
           "PixelUnshuffle", "ChannelShuffle", "Unfold", "Fold"]

MODES = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 2, "area": 0}


# -- interpolate -------------------------------------------------------------------------------
def _per_axis(name: str, value: Any, dims: int, kind: type) -> tuple | None:
    """None, or ``value`` (one number or ``dims`` of them) as a ``dims``-tuple."""
    if value is None:
        return None
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims or any(isinstance(v, bool) or not isinstance(v, kind) or
                                  not v >= 0 for v in values):
        raise ValueError(f"interpolate: {name} must be a non-negative number or {dims} of "
                         f"them for input with {dims} spatial dimensions, got {value!r}")
    return values


def _source_index(mode: str, size: int, out: int, scale: Any, align_corners: bool,
                  dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``weighted_gather``'s (index, weight) for one axis: see the module docstring."""
    i = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        shift = dtype.type(0.5 if mode == "nearest-exact" else 0.0)
        source = np.floor((i.astype(dtype) + shift) * scale).astype(np.int64)
        return np.minimum(source, size - 1)[:, None], np.ones((out, 1))
    if align_corners:
        step = dtype.type((size - 1) / (out - 1)) if out > 1 else dtype.type(0)
        source = step * i.astype(dtype)
    else:
        half = dtype.type(0.5)
        source = np.maximum(scale * (i.astype(dtype) + half) - half, dtype.type(0))
    low = source.astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    t = np.clip(source - low.astype(dtype), 0, 1)
    return np.stack([low, high], axis=1), np.stack([1 - t, t], axis=1)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """x (N, C, L) or (N, C, H, W) resized to ``size`` or by ``scale_factor`` (one of the
    two): see the module docstring for the modes."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (one of "
                                  f"{', '.join(MODES)})")
    if x.dtype.kind != "f" or x.dtype.itemsize < 4:
        raise NotImplementedError(f"interpolate: input of dtype {x.dtype} is not supported "
                                  f"(float32 or float64)")
    dims = x.ndim - 2
    if dims not in (1, 2) or (MODES[mode] and MODES[mode] != dims):
        raise NotImplementedError(f"interpolate: got {x.ndim}-D input (shape {x.shape}) for "
                                  f"mode {mode!r}; it takes 3-D (N, C, L) or 4-D (N, C, H, W) "
                                  f"input, linear 3-D and bilinear 4-D")
    if align_corners is not None and not MODES[mode]:
        raise ValueError("interpolate: align_corners can only be set with the interpolating "
                         "modes linear and bilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    sizes = _per_axis("size", size, dims, numbers.Integral)
    scales = _per_axis("scale_factor", scale_factor, dims, numbers.Real)
    if sizes is None:
        sizes = tuple(math.floor(n * s) for n, s in zip(x.shape[2:], scales))
        if recompute_scale_factor:
            scales = None
    if any(n < 1 for n in sizes) or 0 in x.shape[2:]:
        raise ValueError(f"interpolate: input of shape {x.shape} and output size {sizes} "
                         f"must both be non-empty")
    if mode == "area":
        return (adaptive_avg_pool1d if dims == 1 else adaptive_avg_pool2d)(x, sizes)
    for axis, (n, out) in enumerate(zip(x.shape[2:], sizes), start=2):
        scale = x.dtype.type(n / out) if scales is None or not scales[axis - 2] > 0 else \
            x.dtype.type(1.0 / scales[axis - 2])
        x = weighted_gather(x, axis, *_source_index(mode, n, out, scale, bool(align_corners),
                                                    x.dtype))
    return x


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """``interpolate`` under its older name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) input: see ``interpolate``."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        shown = (f"scale_factor={float(self.scale_factor)!r}" if self.scale_factor is not None
                 and not isinstance(self.scale_factor, (tuple, list))
                 else f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                 else f"size={self.size!r}")
        return f"{shown}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")``."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)``."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


# -- pixel shuffle -----------------------------------------------------------------------------
def _factor(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RuntimeError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): see the module docstring."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle: expected input (*, C r^2, H, W) with C r^2 "
                           f"divisible by {r * r} (upscale_factor {r}), got shape {x.shape}")
    *batch, c, h, w = x.shape
    lead = len(batch)
    y = ops.reshape(x, *batch, c // (r * r), r, r, h, w)
    y = ops.permute(y, *range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return ops.reshape(y, *batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of ``pixel_shuffle``."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise RuntimeError(f"pixel_unshuffle: expected input (*, C, H, W) with H and W "
                           f"divisible by downscale_factor {r}, got shape {x.shape}")
    *batch, c, h, w = x.shape
    lead = len(batch)
    y = ops.reshape(x, *batch, c, h // r, r, w // r, r)
    y = ops.permute(y, *range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return ops.reshape(y, *batch, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with C = groups m: the channels as a (groups, m) grid, transposed to
    (m, groups) and read out again, so each group's channels interleave."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, got input of shape "
                           f"{x.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise RuntimeError(f"channel_shuffle: groups must be a positive int, got {groups!r}")
    n, c, *rest = x.shape
    if c % groups:
        raise RuntimeError(f"channel_shuffle: the number of channels must be divisible by "
                           f"groups, got {c} channels and groups={groups}")
    y = ops.reshape(x, n, groups, c // groups, *rest)
    return ops.reshape(ops.swapaxes(y, 1, 2), x.shape)


class PixelShuffle(Module):
    """Channel blocks into space: see ``pixel_shuffle``."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = _factor("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Space into channel blocks: see ``pixel_unshuffle``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = _factor("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


# -- unfold and fold ---------------------------------------------------------------------------
class _Blocks:
    """The sliding blocks of an (H, W) image: kernel, dilation, padding, stride, and their
    positions; ``slices(p, q)`` is what kernel offset (p, q) sees of the padded image."""

    def __init__(self, op: str, image_hw: tuple[int, int], kernel_size: Any, dilation: Any,
                 padding: Any, stride: Any):
        self.kernel = as_tuple("kernel_size", kernel_size, 2)
        self.dilation = as_tuple("dilation", dilation, 2)
        self.padding = as_tuple("padding", padding, 2, minimum=0)
        self.stride = as_tuple("stride", stride, 2)
        self.padded = tuple(n + 2 * p for n, p in zip(image_hw, self.padding))
        self.out = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, d, s in zip(
            self.padded, self.kernel, self.dilation, self.stride))
        if min(self.out) < 1:
            raise RuntimeError(f"{op}: the kernel {self.kernel} with dilation {self.dilation} "
                               f"does not fit the padded image {self.padded}")

    def slices(self, p: int, q: int) -> tuple:
        (dh, dw), (sh, sw), (oh, ow) = self.dilation, self.stride, self.out
        return (Ellipsis, slice(p * dh, p * dh + sh * (oh - 1) + 1, sh),
                slice(q * dw, q * dw + sw * (ow - 1) + 1, sw))

    def unfold(self, image: np.ndarray) -> np.ndarray:
        """(N, C, H, W) -> (N, C KH KW, L)."""
        n, c = image.shape[:2]
        (top, left), (kh, kw) = self.padding, self.kernel
        padded = np.pad(image, [(0, 0), (0, 0), (top, top), (left, left)])
        blocks = np.stack([padded[self.slices(p, q)] for p in range(kh) for q in range(kw)],
                          axis=2)
        return blocks.reshape(n, c * kh * kw, self.out[0] * self.out[1])

    def fold(self, columns: np.ndarray) -> np.ndarray:
        """(N, C KH KW, L) -> (N, C, H, W), the blocks summed where they overlap."""
        (kh, kw), (top, left) = self.kernel, self.padding
        n, c = columns.shape[0], columns.shape[1] // (kh * kw)
        blocks = columns.reshape(n, c, kh * kw, *self.out)
        padded = np.zeros((n, c, *self.padded), columns.dtype)
        for k in range(kh * kw):
            padded[self.slices(*divmod(k, kw))] += blocks[:, :, k]
        return padded[:, :, top:self.padded[0] - top, left:self.padded[1] - left]


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Every sliding block of (N, C, H, W) or (C, H, W) as a column: (N, C KH KW, L)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected input of shape (N, C, H, W) or (C, H, W), got "
                           f"shape {x.shape}")
    blocks = _Blocks("unfold", x.shape[-2:], kernel_size, dilation, padding, stride)
    image = x._data if x.ndim == 4 else x._data[None]
    out = blocks.unfold(image)

    def backward(g: np.ndarray):
        return (blocks.fold(g if x.ndim == 4 else g[None]).reshape(x.shape),)
    return Tensor._make(out if x.ndim == 4 else out[0], (x,), backward)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Columns (N, C KH KW, L) or (C KH KW, L) summed back into images (N, C, H, W) of
    ``output_size``: the adjoint of ``unfold``."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    blocks = _Blocks("fold", as_tuple("output_size", output_size, 2), kernel_size, dilation,
                     padding, stride)
    area, positions = blocks.kernel[0] * blocks.kernel[1], blocks.out[0] * blocks.out[1]
    if x.ndim not in (2, 3) or x.shape[-2] % area or x.shape[-1] != positions:
        raise RuntimeError(f"fold: expected input (N, C * {area}, {positions}) or (C * {area}, "
                           f"{positions}) for kernel {blocks.kernel} and output_size "
                           f"{tuple(as_tuple('output_size', output_size, 2))}, got shape "
                           f"{x.shape}")
    columns = x._data if x.ndim == 3 else x._data[None]
    out = blocks.fold(columns)

    def backward(g: np.ndarray):
        return (blocks.unfold(g if x.ndim == 3 else g[None]).reshape(x.shape),)
    return Tensor._make(out if x.ndim == 3 else out[0], (x,), backward)


class Unfold(Module):
    """Sliding blocks as columns: see ``unfold``."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns summed back into images: see ``fold``."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class ChannelShuffle(Module):
    """Interleaves the channels of ``groups`` groups: see ``channel_shuffle``."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
