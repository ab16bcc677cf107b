"""Convolution and pooling as numba.njit loops on the CPU (the API of ``reference``).

A convolution is im2col and a matmul: every receptive field is copied into a
row of a matrix ("columns", one row per output pixel), of shape
(N OH OW, KH KW C/G), and multiplied by the weight, (O/G, KH KW C/G), in one
BLAS matmul per group. The data path of a forward, for x in NCHW:

    x --(pad, to NHWC)--> xp --(im2col)--> cols
    y^T = w_rows @ cols^T           (O, N OH OW): the output with its channels first
    y[n, o] = y^T[o, n] + b[o]      runs of OH OW values back to NCHW

The copy into xp writes the zero padding too (no separate ``np.pad``), and the
im2col loops read NHWC, where the channels of a kernel position are contiguous
on both sides. Choosing y^T rather than y's NHWC rows as the matmul's product
turns the copy back into NCHW from a transpose of single values into a copy of
runs of OH OW (measured 31 -> 8 us for 64 x 16 x 8 x 8), and the bias rides
along. Backward, from g^T (O, N OH OW), the channels-first copy of g, whose row
sums are dL/db: dL/dw = g^T @ cols (on the columns the forward kept in its
context, already in w's row order), and dL/dcols = (g^T)^T @ w_rows, scattered
back onto a padded NHWC gradient by ``col2im``, im2col's adjoint, and copied
into NCHW without the padding.

Measured against the direct seven-loop convolution (njit, innermost loop over
the output row), float32, batch 64, 3x3 kernels, padding 1, one thread, us for
forward / grad input / grad weight:

    8x8,   1 -> 16 channels      im2col  99 /  106 /  112    direct   503 /   487 /   441
    4x4,  16 -> 32 channels      im2col 278 /  272 /  282    direct  4338 /  4386 /  4103
    28x28, 1 -> 8 channels       im2col 954 / 1059 / 1553    direct  1884 /  1812 /  2071
    32x32, 3 -> 16 channels      im2col 4105 / 4105 / 4249   direct 14493 / 13960 / 16471

(the timings are the first version's; the copies around the matmul have been
trimmed since). im2col won at every size, so it is the only algorithm here. An
im2col with one row per kernel entry, (C KH KW, N OH OW), read straight from
NCHW, lost too (us, batch 64: 65 against 47 at 1 channel 8x8, 355 against 24
at 16 channels 4x4): its contiguous runs are only OW long. The im2col loops (and
the pooling loops) run in parallel over the batch when they touch at least
``PARALLEL_SIZE`` elements; the layout copies run serially; the matmul threads
as the BLAS library does. The threshold is high because on two cores shared
with other work a parallel loop waits for its second thread: the forward of
16 -> 32 channels at 4x4 took 7.9 ms with parallel copies against 0.28 ms
serial, measured beside a busy process.
Compiled by ``kernels/jit.py``, as the update loops are: ``error_model="numpy"``
(no zero-division checks that block SIMD), no fastmath, ``cache=True`` (none
where no cache directory is writable), and the float constants in the arrays'
dtype.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numba import prange

from ..jit import Loops, njit
from .reference import choice_dtype, output_size

Pair = tuple[int, int]

name = "cpu"

# Elements a loop touches from which it runs in parallel (see the measurements above).
PARALLEL_SIZE = 1_000_000
# im2col copies a whole kernel row in one loop below this many channels (see _im2col_into).
FEW_CHANNELS = 8



def _loops(loop: Callable) -> Loops:
    """``loop`` compiled serially and in parallel, run in parallel from
    ``PARALLEL_SIZE`` elements touched (read at each call)."""
    return Loops(loop, lambda: PARALLEL_SIZE)


# -- im2col ---------------------------------------------------------------------------------
def _im2col_loop(x, kh, kw, sh, sw, dh, dw, oh, ow, cols):
    """cols[(n OH + i) OW + j, (p KW + q) C + c] = x[n, i sh + p dh, j sw + q dw, c] (NHWC x)."""
    channels = x.shape[3]
    for n in prange(x.shape[0]):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for p in range(kh):
                    for q in range(kw):
                        start, h, w = (p * kw + q) * channels, i * sh + p * dh, j * sw + q * dw
                        for c in range(channels):
                            cols[row, start + c] = x[n, h, w, c]


def _col2im_loop(cols, kh, kw, sh, sw, dh, dw, oh, ow, gx):
    """The adjoint of im2col: gx[n, i sh + p dh, j sw + q dw, c] += cols[row, col] (NHWC gx)."""
    channels = gx.shape[3]
    for n in prange(gx.shape[0]):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for p in range(kh):
                    for q in range(kw):
                        start, h, w = (p * kw + q) * channels, i * sh + p * dh, j * sw + q * dw
                        for c in range(channels):
                            gx[n, h, w, c] += cols[row, start + c]


def _im2col_run_loop(x, kh, kw, sh, sw, dh, oh, ow, cols):
    """im2col for few channels and no dilation along W, on x as (N, H, W C): the KW C
    values of a kernel row are one contiguous run on both sides, copied by one loop
    that vectorises even when C = 1."""
    run = cols.shape[1] // kh
    channels = run // kw
    for n in prange(x.shape[0]):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for p in range(kh):
                    h, start, first = i * sh + p * dh, p * run, j * sw * channels
                    for t in range(run):
                        cols[row, start + t] = x[n, h, first + t]


def _col2im_run_loop(cols, kh, kw, sh, sw, dh, oh, ow, gx):
    """The adjoint of ``_im2col_run_loop``, on gx as (N, H, W C)."""
    run = cols.shape[1] // kh
    channels = run // kw
    for n in prange(gx.shape[0]):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for p in range(kh):
                    h, start, first = i * sh + p * dh, p * run, j * sw * channels
                    for t in range(run):
                        gx[n, h, first + t] += cols[row, start + t]


_im2col = _loops(_im2col_loop)
_col2im = _loops(_col2im_loop)
_im2col_run = _loops(_im2col_run_loop)
_col2im_run = _loops(_col2im_run_loop)


def _im2col_into(x_nhwc: np.ndarray, kernel_hw: Pair, stride: Pair, dilation: Pair,
                 out_hw: Pair, cols: np.ndarray) -> None:
    """cols = im2col(x_nhwc), by the loop that is faster for its channel count (measured,
    batch 64, 3x3, us, run loop vs loop per kernel column: C = 1 at 8x8, 37 vs 78;
    C = 3 at 32x32, 1378 vs 1778; C = 16 at 4x4, 58 vs 37)."""
    if dilation[1] == 1 and x_nhwc.shape[3] < FEW_CHANNELS:
        _im2col_run.run(cols.size, _merged(x_nhwc), *kernel_hw, *stride, dilation[0],
                                    *out_hw, cols)
    else:
        _im2col.run(cols.size, x_nhwc, *kernel_hw, *stride, *dilation, *out_hw, cols)


def _col2im_into(cols: np.ndarray, kernel_hw: Pair, stride: Pair, dilation: Pair,
                 out_hw: Pair, gx_nhwc: np.ndarray) -> None:
    """gx_nhwc += col2im(cols), by the loop ``_im2col_into`` would choose (the per-column
    loop where gx_nhwc is a group's channel slice, which the run loop cannot merge)."""
    if dilation[1] == 1 and gx_nhwc.shape[3] < FEW_CHANNELS and gx_nhwc.flags.c_contiguous:
        _col2im_run.run(cols.size, cols, *kernel_hw, *stride, dilation[0], *out_hw,
                                    gx_nhwc.reshape(gx_nhwc.shape[0], gx_nhwc.shape[1], -1))
    else:
        _col2im.run(cols.size, cols, *kernel_hw, *stride, *dilation, *out_hw, gx_nhwc)


# -- layout copies ---------------------------------------------------------------------------
def _pad_nhwc_loop(x, top, left, out):
    """out[n, top + h, left + w, c] = x[n, c, h, w], zero on the rest of out's border
    (x in NCHW, out in NHWC, zero-padded)."""
    out[:] = out.dtype.type(0)
    for n in range(x.shape[0]):
        for h in range(x.shape[2]):
            for w in range(x.shape[3]):
                for c in range(x.shape[1]):
                    out[n, top + h, left + w, c] = x[n, c, h, w]


def _crop_nchw_loop(a, top, left, out):
    """out[n, c, h, w] = a[n, top + h, left + w, c] (a in NHWC, out in NCHW, a cropped
    to out's size)."""
    for n in range(out.shape[0]):
        for h in range(out.shape[2]):
            for w in range(out.shape[3]):
                for c in range(out.shape[1]):
                    out[n, c, h, w] = a[n, top + h, left + w, c]


def _batch_major_loop(a, shift, out):
    """out[n, o, k] = a[o, n, k] + shift[o]: (O, N, OH OW) -> (N, O, OH OW), runs of OH OW."""
    for n in range(out.shape[0]):
        for o in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[n, o, k] = a[o, n, k] + shift[o]


def _channel_major_loop(g, out, sums):
    """out[o, n, k] = g[n, o, k] and sums[o] = sum over n, k of g[n, o, k]:
    (N, O, OH OW) -> (O, N, OH OW)."""
    sums[:] = sums.dtype.type(0)
    for n in range(g.shape[0]):
        for o in range(g.shape[1]):
            total = sums.dtype.type(0)
            for k in range(g.shape[2]):
                out[o, n, k] = g[n, o, k]
                total += g[n, o, k]
            sums[o] += total


_pad_nhwc = njit(_pad_nhwc_loop)
_crop_nchw = njit(_crop_nchw_loop)
_batch_major = njit(_batch_major_loop)
_channel_major = njit(_channel_major_loop)


# -- convolution --------------------------------------------------------------------------
class Context(NamedTuple):
    """What the backward of one convolution needs from its forward."""
    cols: np.ndarray            # im2col of the input, (N OH OW, KH KW C/G) per group
    weight_rows: np.ndarray     # the weight as (O, KH KW C/G), in the columns' order
    input_shape: tuple[int, ...]
    padding: tuple[Pair, Pair]
    kernel_hw: Pair
    out_hw: Pair
    stride: Pair
    dilation: Pair
    groups: int


def _merged(a: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, H, W C), contiguous (a copy only for a group's channel slice)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


def conv2d(x: np.ndarray, w: np.ndarray, stride: Pair, dilation: Pair, groups: int,
           padding: tuple[Pair, Pair] = ((0, 0), (0, 0)), bias: np.ndarray | None = None
           ) -> tuple[np.ndarray, Context]:
    """y = conv(x, w) + bias, x zero-padded by ``padding`` ((top, bottom), (left, right)).

    Per group k: y_k^T (O/G, N OH OW) = w_k (O/G, KH KW C/G) @ cols_k^T, one BLAS
    matmul; its rows are output channels, so y (N, O, OH, OW) is a copy of runs of
    OH OW values, with the bias added on the way.
    """
    n, c, h, width = x.shape
    o, cg, kh, kw = w.shape
    (top, bottom), (left, right) = padding
    padded_hw = (h + top + bottom, width + left + right)
    oh = output_size(padded_hw[0], kh, stride[0], dilation[0])
    ow = output_size(padded_hw[1], kw, stride[1], dilation[1])
    og = o // groups
    x_nhwc = np.empty((n, *padded_hw, c), x.dtype)
    _pad_nhwc(x, top, left, x_nhwc)
    weight_rows = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(o, -1)
    cols = np.empty((groups, n * oh * ow, kh * kw * cg), x.dtype)
    y_t = np.empty((o, n * oh * ow), x.dtype)    # y with the channels first: (O, N, OH, OW)
    for k in range(groups):
        _im2col_into(x_nhwc[..., k * cg:(k + 1) * cg], (kh, kw), stride, dilation, (oh, ow),
                     cols[k])
        np.matmul(weight_rows[k * og:(k + 1) * og], cols[k].T, out=y_t[k * og:(k + 1) * og])
    y = np.empty((n, o, oh, ow), x.dtype)
    _batch_major(y_t.reshape(o, n, -1), np.zeros(o, x.dtype) if bias is None else bias,
                 y.reshape(n, o, -1))
    return y, Context(cols, weight_rows, x.shape, padding, (kh, kw), (oh, ow), stride,
                      dilation, groups)


def conv2d_grad(g: np.ndarray, context: Context, input_grad: bool = True,
                weight_grad: bool = True, bias_grad: bool = False
                ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dL/dx, dL/dw, dL/db) from g = dL/dy; each None when not asked for.

    With g^T (O, N OH OW) the channels-first copy of g, per group k:
    dL/dw_k = g_k^T @ cols_k and dL/dcols_k = (g_k^T)^T @ w_k, scattered back
    onto the padded input by col2im; dL/db = the row sums of g^T.
    """
    n, c, h, w = context.input_shape
    (top, bottom), (left, right) = context.padding
    o, groups, (kh, kw), (oh, ow) = g.shape[1], context.groups, context.kernel_hw, context.out_hw
    og, cg = o // groups, c // groups
    g_t, gb = np.empty((o, n * oh * ow), g.dtype), np.empty(o, g.dtype)
    _channel_major(g.reshape(n, o, -1), g_t.reshape(o, n, -1), gb)
    gx = gw = None
    if input_grad:
        gx_nhwc = np.zeros((n, h + top + bottom, w + left + right, c), g.dtype)
        for k in range(groups):
            cols = g_t[k * og:(k + 1) * og].T @ context.weight_rows[k * og:(k + 1) * og]
            _col2im_into(cols, (kh, kw), context.stride, context.dilation, (oh, ow),
                         gx_nhwc[..., k * cg:(k + 1) * cg])
        gx = np.empty(context.input_shape, g.dtype)
        _crop_nchw(gx_nhwc, top, left, gx)
    if weight_grad:
        gw_rows = np.empty((o, kh * kw * cg), g.dtype)
        for k in range(groups):
            np.matmul(g_t[k * og:(k + 1) * og], context.cols[k],
                      out=gw_rows[k * og:(k + 1) * og])
        gw = np.ascontiguousarray(gw_rows.reshape(o, kh, kw, cg).transpose(0, 3, 1, 2))
    return gx, gw, gb if bias_grad else None


# -- pooling -------------------------------------------------------------------------------
# The loops see (N C, H, W): one plane per image and channel, prange over the planes
# (measured 2x faster than four indices for max pooling 64 x 16 x 8 x 8). Max pooling
# keeps PyTorch's rule: a value replaces the best so far when it is larger or NaN
# (ties to the first maximum, NaN to the last NaN), written as selects, not branches:
# on fresh data a branch mispredicts about half the time.

def _max_pool_loop(x, kh, kw, sh, sw, y, choice):
    """y = the largest value of each window, choice = its offset p KW + q in the window."""
    for m in prange(x.shape[0]):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                h0, w0 = i * sh, j * sw
                best, offset = x[m, h0, w0], 0
                for p in range(kh):
                    for q in range(kw):
                        value = x[m, h0 + p, w0 + q]
                        better = (value > best) | (value != value)
                        best = value if better else best
                        offset = p * kw + q if better else offset
                y[m, i, j] = best
                choice[m, i, j] = offset


def _max_pool_2x2_loop(x, y, choice):
    """``_max_pool_loop`` for 2 x 2 windows at stride 2, the usual MaxPool2d(2): the
    window's rows are two row slices and the loop over j vectorises (measured, us,
    64 x 16 x 8 x 8 / 64 x 32 x 4 x 4: 20 / 38 against 198 / 111 for the general
    loop, whose runtime strides and window loops keep it scalar)."""
    for m in prange(x.shape[0]):
        for i in range(y.shape[1]):
            top, bottom = x[m, 2 * i], x[m, 2 * i + 1]
            y_row, choice_row = y[m, i], choice[m, i]
            for j in range(y.shape[2]):
                best, offset = top[2 * j], 0
                value = top[2 * j + 1]
                better = (value > best) | (value != value)
                best = value if better else best
                offset = 1 if better else offset
                value = bottom[2 * j]
                better = (value > best) | (value != value)
                best = value if better else best
                offset = 2 if better else offset
                value = bottom[2 * j + 1]
                better = (value > best) | (value != value)
                best = value if better else best
                offset = 3 if better else offset
                y_row[j] = best
                choice_row[j] = offset


def _max_pool_grad_loop(g, choice, kw, sh, sw, gx):
    """gx[m, i sh + p, j sw + q] += g[m, i, j] for the chosen offset p KW + q."""
    for m in prange(g.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                p, q = divmod(choice[m, i, j], kw)
                gx[m, i * sh + p, j * sw + q] += g[m, i, j]


def _max_pool_2x2_grad_loop(g, choice, gx):
    """``_max_pool_grad_loop`` for 2 x 2 windows at stride 2, on gx zeroed: windows do
    not overlap, so each g is stored, not added, in the row its offset names
    (measured 27 us against 72 for the general loop on 64 x 16 x 4 x 4 gradients, and
    121 for storing g or 0 in each of the four elements by selects)."""
    for m in prange(g.shape[0]):
        for i in range(g.shape[1]):
            top, bottom = gx[m, 2 * i], gx[m, 2 * i + 1]
            g_row, choice_row = g[m, i], choice[m, i]
            for j in range(g.shape[2]):
                offset = choice_row[j]
                row = top if offset < 2 else bottom
                row[2 * j + (offset & 1)] = g_row[j]


def _avg_pool_loop(x, kh, kw, sh, sw, scale, y):
    """y[m, i, j] = scale * sum of the window (scale = 1 / (KH KW), in x's dtype)."""
    for m in prange(x.shape[0]):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                total = x.dtype.type(0)
                for p in range(kh):
                    for q in range(kw):
                        total += x[m, i * sh + p, j * sw + q]
                y[m, i, j] = total * scale


def _avg_pool_grad_loop(g, kh, kw, sh, sw, scale, gx):
    """gx[window of (i, j)] += scale * g[m, i, j]."""
    for m in prange(g.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                share = g[m, i, j] * scale
                for p in range(kh):
                    for q in range(kw):
                        gx[m, i * sh + p, j * sw + q] += share


_max_pool = _loops(_max_pool_loop)
_max_pool_2x2 = _loops(_max_pool_2x2_loop)
_max_pool_grad = _loops(_max_pool_grad_loop)
_max_pool_2x2_grad = _loops(_max_pool_2x2_grad_loop)
_avg_pool = _loops(_avg_pool_loop)
_avg_pool_grad = _loops(_avg_pool_grad_loop)


def _planes(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N C, H, W), a view of a contiguous array."""
    return np.ascontiguousarray(a).reshape(-1, *a.shape[2:])


def _pooled(x: np.ndarray, kernel: Pair, stride: Pair, dtype) -> np.ndarray:
    """An empty (N, C, OH, OW) output for pooling x."""
    return np.empty((*x.shape[:2], output_size(x.shape[2], kernel[0], stride[0]),
                     output_size(x.shape[3], kernel[1], stride[1])), dtype)


def _halving(kernel: Pair, stride: Pair) -> bool:
    """2 x 2 windows at stride 2: the loops written for them apply."""
    return tuple(kernel) == (2, 2) and tuple(stride) == (2, 2)


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair) -> tuple[np.ndarray, np.ndarray]:
    y, choice = _pooled(x, kernel, stride, x.dtype), _pooled(x, kernel, stride,
                                                              choice_dtype(kernel))
    size = y.size * kernel[0] * kernel[1]
    if _halving(kernel, stride):
        _max_pool_2x2.run(size, _planes(x), _planes(y), _planes(choice))
    else:
        _max_pool.run(size, _planes(x), *kernel, *stride, _planes(y), _planes(choice))
    return y, choice


def max_pool2d_grad(g: np.ndarray, choice: np.ndarray, input_hw: Pair, kernel: Pair,
                    stride: Pair) -> np.ndarray:
    gx = np.zeros((*g.shape[:2], *input_hw), g.dtype)
    if _halving(kernel, stride):
        _max_pool_2x2_grad.run(g.size, _planes(g), _planes(choice), _planes(gx))
    else:
        _max_pool_grad.run(g.size, _planes(g), _planes(choice), kernel[1], *stride,
                           _planes(gx))
    return gx


def avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    y = _pooled(x, kernel, stride, x.dtype)
    scale = x.dtype.type(1 / (kernel[0] * kernel[1]))
    _avg_pool.run(y.size * kernel[0] * kernel[1], _planes(x), *kernel, *stride, scale,
                                                   _planes(y))
    return y


def avg_pool2d_grad(g: np.ndarray, input_hw: Pair, kernel: Pair, stride: Pair) -> np.ndarray:
    gx = np.zeros((*g.shape[:2], *input_hw), g.dtype)
    scale = g.dtype.type(1 / (kernel[0] * kernel[1]))
    _avg_pool_grad.run(g.size * kernel[0] * kernel[1], _planes(g), *kernel, *stride, scale,
                                                        _planes(gx))
    return gx
