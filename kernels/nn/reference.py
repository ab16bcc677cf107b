"""Convolution and pooling in plain numpy, written for clarity: the test oracle.

Each kernel offset (p, q) of a KH x KW kernel sees the input through one strided
slice: output pixel (i, j) reads x[..., i sh + p dh, j sw + q dw]. A
convolution is a sum over the offsets of that slice times the weight's (p, q)
entry, per group of channels (group k maps input channels k C/G .. (k+1) C/G - 1
to output channels k O/G .. (k+1) O/G - 1):

    y[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] x[n, k C/G + c, i sh + p dh, j sw + q dw]

Its gradients follow from the same slices: dL/dx scatters g through them,
dL/dw contracts g with them.
"""
from __future__ import annotations

import numpy as np

Pair = tuple[int, int]

name = "reference"


def output_size(size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """Positions a dilated kernel takes along an axis of ``size`` (already padded)."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _window(p: int, q: int, out_hw: Pair, stride: Pair, dilation: Pair) -> tuple:
    """The index of the slice of x that kernel offset (p, q) sees, for every output pixel."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (Ellipsis, slice(p * dh, p * dh + sh * (oh - 1) + 1, sh),
            slice(q * dw, q * dw + sw * (ow - 1) + 1, sw))


def _groups(channels: int, outputs: int, groups: int) -> list[tuple[slice, slice]]:
    """(input channel slice, output channel slice) of each group."""
    cg, og = channels // groups, outputs // groups
    return [(slice(k * cg, (k + 1) * cg), slice(k * og, (k + 1) * og)) for k in range(groups)]


def conv2d(x: np.ndarray, w: np.ndarray, stride: Pair, dilation: Pair, groups: int,
           padding: tuple[Pair, Pair] = ((0, 0), (0, 0)), bias: np.ndarray | None = None
           ) -> tuple[np.ndarray, tuple]:
    """y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] xp[n, c, i sh + p dh, j sw + q dw]
    (per group), xp being x with ``padding`` ((top, bottom), (left, right)) zeros around
    its planes; and the context that ``conv2d_grad`` needs."""
    xp = np.pad(x, ((0, 0), (0, 0), *padding))
    n, c, h, width = xp.shape
    o, _, kh, kw = w.shape
    out_hw = (output_size(h, kh, stride[0], dilation[0]),
              output_size(width, kw, stride[1], dilation[1]))
    y = np.zeros((n, o, *out_hw), dtype=x.dtype)
    for cs, os_ in _groups(c, o, groups):
        for p in range(kh):
            for q in range(kw):
                patch = xp[:, cs][_window(p, q, out_hw, stride, dilation)]
                y[:, os_] += np.einsum("ncij,oc->noij", patch, w[os_, :, p, q])
    if bias is not None:
        y += bias[:, None, None]
    return y, (xp, w, stride, dilation, groups, padding)


def conv2d_grad(g: np.ndarray, context: tuple, input_grad: bool = True,
                weight_grad: bool = True, bias_grad: bool = False
                ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """dL/dx, dL/dw and dL/db from g = dL/dy (each None when not asked for):

        dL/dxp[n, c, i sh + p dh, j sw + q dw] += sum_o g[n, o, i, j] w[o, c, p, q]
        dL/dw[o, c, p, q] = sum_{n, i, j} g[n, o, i, j] xp[n, c, i sh + p dh, j sw + q dw]
        dL/db[o] = sum_{n, i, j} g[n, o, i, j]

    and dL/dx is dL/dxp without the padding.
    """
    xp, w, stride, dilation, groups, ((top, bottom), (left, right)) = context
    out_hw = g.shape[2:]
    gx = np.zeros_like(xp) if input_grad else None
    gw = np.zeros_like(w) if weight_grad else None
    for cs, os_ in _groups(xp.shape[1], w.shape[0], groups):
        for p in range(w.shape[2]):
            for q in range(w.shape[3]):
                window = _window(p, q, out_hw, stride, dilation)
                if input_grad:
                    gx[:, cs][window] += np.einsum("noij,oc->ncij", g[:, os_], w[os_, :, p, q])
                if weight_grad:
                    gw[os_, :, p, q] = np.einsum("noij,ncij->oc", g[:, os_], xp[:, cs][window])
    if input_grad:
        gx = gx[:, :, top:gx.shape[2] - bottom, left:gx.shape[3] - right]
    return gx, gw, g.sum(axis=(0, 2, 3)) if bias_grad else None


def conv2d_input_grad(g: np.ndarray, w: np.ndarray, input_shape: tuple[int, ...], stride: Pair,
                      dilation: Pair, groups: int, padding: tuple[Pair, Pair] = ((0, 0), (0, 0))
                      ) -> np.ndarray:
    """dL/dx of ``conv2d`` for x of ``input_shape`` from g and w alone: the transposed
    convolution of g with w (the input never enters dL/dx)."""
    (top, bottom), (left, right) = padding
    n, c, h, width = input_shape
    xp = np.zeros((n, c, h + top + bottom, width + left + right), g.dtype)
    return conv2d_grad(g, (xp, w, stride, dilation, groups, padding), True, False)[0]


def _windows(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair = (1, 1)
             ) -> tuple[np.ndarray, Pair]:
    """Every pooling window of x as one trailing axis: (N, C, OH, OW, KH * KW)."""
    out_hw = (output_size(x.shape[2], kernel[0], stride[0], dilation[0]),
              output_size(x.shape[3], kernel[1], stride[1], dilation[1]))
    patches = [x[_window(p, q, out_hw, stride, dilation)]
               for p in range(kernel[0]) for q in range(kernel[1])]
    return np.stack(patches, axis=-1), out_hw


def choice_dtype(kernel: Pair) -> type:
    """The integer type of max pooling's choices: int8 where a window has at most 127
    elements (a quarter of int32's memory traffic), else int32."""
    return np.int8 if kernel[0] * kernel[1] <= 127 else np.int32


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair = (1, 1)
               ) -> tuple[np.ndarray, np.ndarray]:
    """y = the largest value of each window (offset (p, q) at (p dh, q dw)); choice = its
    offset p KW + q in the window.

    PyTorch's rule: scanning the window in row-major order, a value replaces the
    best so far when it is larger or NaN. So ties go to the first maximum, and a
    window holding NaN gives NaN and its last NaN.
    """
    windows, _ = _windows(x, kernel, stride, dilation)
    nan = np.isnan(windows)
    last_nan = windows.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    choice = np.where(nan.any(axis=-1), last_nan, np.argmax(windows, axis=-1))
    y = np.take_along_axis(windows, choice[..., None], axis=-1)[..., 0]
    return y, choice.astype(choice_dtype(kernel))


def max_pool2d_grad(g: np.ndarray, choice: np.ndarray, input_hw: Pair, kernel: Pair,
                    stride: Pair, dilation: Pair = (1, 1)) -> np.ndarray:
    """dL/dx: each g goes to the input element its window chose (summed where windows
    overlap): window (i, j)'s offset (p, q) is element (i sh + p dh, j sw + q dw)."""
    n, c, oh, ow = g.shape
    p, q = np.divmod(choice.astype(np.intp), kernel[1])
    rows = np.arange(oh)[:, None] * stride[0] + p * dilation[0]
    cols = np.arange(ow)[None, :] * stride[1] + q * dilation[1]
    gx = np.zeros((n, c, input_hw[0] * input_hw[1]), dtype=g.dtype)
    np.add.at(gx, (np.arange(n)[:, None, None], np.arange(c)[None, :, None],
                   (rows * input_hw[1] + cols).reshape(n, c, -1)), g.reshape(n, c, -1))
    return gx.reshape(n, c, *input_hw)


def avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """y = the mean of each window (divided by KH * KW, padding included)."""
    windows, _ = _windows(x, kernel, stride)
    return windows.mean(axis=-1).astype(x.dtype)


def avg_pool2d_grad(g: np.ndarray, input_hw: Pair, kernel: Pair, stride: Pair) -> np.ndarray:
    """dL/dx: each g, divided by KH * KW, goes to every element of its window."""
    gx = np.zeros((*g.shape[:2], *input_hw), dtype=g.dtype)
    share = g / g.dtype.type(kernel[0] * kernel[1])
    for p in range(kernel[0]):
        for q in range(kernel[1]):
            gx[_window(p, q, g.shape[2:], stride, (1, 1))] += share
    return gx


def embedding_grad(index: np.ndarray, g: np.ndarray, num_embeddings: int) -> np.ndarray:
    """dL/dweight of an embedding lookup: g's rows (lookups, dim) summed into the
    rows ``index`` of a (num_embeddings, dim) zero array, one ``np.add.at``."""
    grad = np.zeros((num_embeddings, g.shape[1]), dtype=g.dtype)
    np.add.at(grad, index, g)
    return grad
