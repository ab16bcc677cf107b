"""Convolution and pooling as numba.njit loops on the CPU (the API of ``reference``).

A convolution is im2col and a matmul: every receptive field is copied into a
row of a matrix ("columns", one row per output pixel), of shape
(N OH OW, KH KW C/G), and multiplied by the weight, (O/G, KH KW C/G), in one
BLAS matmul per group. The data path of a forward, for x in NCHW:

    x --(pad, to NHWC)--> xp --(im2col)--> cols
    y_rows = cols @ w_rows^T        (N OH OW, O): the output in NHWC
    y[n, o] = y_rows[n, :, o] + b[o]    back to NCHW, the bias on the way

The copy into xp writes the zero padding too (no separate ``np.pad``), and the
im2col loops read NHWC, where the channels of a kernel position are contiguous
on both sides. The product could be y^T = w_rows @ cols^T as well, (O, N OH
OW), whose copy back to NCHW moves runs of OH OW values instead of single
ones; but OpenBLAS's AVX-512 kernels multiply (1024 x 144) @ (144 x 32) in 52
us and (32 x 144) @ (144 x 1024) in 97 (conv2 of the digits CNN), and the
transposing copy costs 7 us against 5. (OpenBLAS's AVX2 kernels take about
105 us either way.) Backward, from g^T (O, N OH OW), the channels-first copy
of g, whose row sums are dL/db: dL/dw = g^T @ cols (on the columns the forward
kept in its context, already in w's row order), and dL/dcols = (g^T)^T @
w_rows, scattered back onto a padded NHWC gradient by ``col2im``, im2col's
adjoint, and copied into NCHW without the padding.

Below ``FEW_CHANNELS`` input channels per group the columns are stored
transposed, one row per kernel entry: cols^T (KH KW C/G, N OH OW), copied from
the padded NCHW input in runs of OW values, so y^T = w_rows @ cols^T is a
plain matmul and dL/dw = g^T @ cols reads cols^T transposed. With one channel
a row of the NHWC columns holds only KH KW values (9 for the digits CNN's
first layer), which OpenBLAS multiplies slowly. (From ``FEW_CHANNELS`` to
``SHORT_ROWS`` channels, im2col copies each kernel row, KW C values, as one
run.) Measured, float32, batch 64, 3x3 kernels, padding 1, one thread,
OpenBLAS 0.3.31 on its AVX-512 kernels, us, rows layout / transposed:

    channels, size        forward       dL/dw, dL/db    dL/dx, dL/dw, dL/db
    1 -> 16, 8x8           74 /   50       32 /   22       103 /   69
    2 -> 16, 8x8          110 /  108       46 /   63       135 /  166
    3 -> 16, 8x8          130 /  142       69 /   95       185 /  268
    8 -> 16, 8x8          288 /  472      114 /  241       414 /  557
    16 -> 32, 4x4          99 /  257       89 /  125       188 /  365
    1 -> 8, 28x28         763 /  364      324 /  432       986 /  808
    3 -> 16, 32x32       2161 / 2007     1219 / 1647      3655 / 4324

so the transposed columns win a forward and backward with one channel per
group and lose from two on. A direct convolution (no columns: each weight
times a shifted copy of the input plane, vectorised over the output rows) took
70-83 us for the first of these forwards, no clear win over the columns, and
is not kept.

The im2col loops (and the pooling loops) run in parallel over the batch when
they touch at least ``PARALLEL_SIZE`` elements; the layout copies run
serially; the matmul threads as the BLAS library does. The threshold is high
because on two cores shared with other work a parallel loop waits for its
second thread: the forward of 16 -> 32 channels at 4x4 took 7.9 ms with
parallel copies against 0.28 ms serial, measured beside a busy process.

An inner loop indexes a slice from 0 (``target[j] = source[start + j]`` over
``source = row[...]``), not ``row[start + j]``: numba wraps a negative index
around, and where LLVM cannot prove ``start + j >= 0`` the check stays in the
loop and keeps it scalar (measured 3-5x slower for the direct convolution
above). Compiled by ``kernels/jit.py``, as the update loops are:
``error_model="numpy"`` (no zero-division checks that block SIMD), no
fastmath, ``cache=True`` (none where no cache directory is writable), and the
float constants in the arrays' dtype.
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
# Below this many input channels per group, the columns are stored transposed (see above).
FEW_CHANNELS = 2
# Below this many (and from FEW_CHANNELS), im2col copies a whole kernel row in one loop.
SHORT_ROWS = 8


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


def _im2col_t_loop(x, first, kh, kw, sh, sw, dh, dw, oh, ow, cols_t):
    """The columns transposed, from NCHW x, for the group of channels from ``first``:
    cols_t[(p KW + q) C + c, (n OH + i) OW + j] = x[n, first + c, i sh + p dh, j sw + q dw]
    (C = rows / (KH KW)); each (row, n, i) copies a run of OW values."""
    channels = cols_t.shape[0] // (kh * kw)
    for n in prange(x.shape[0]):
        for p in range(kh):
            for q in range(kw):
                for c in range(channels):
                    row = cols_t[(p * kw + q) * channels + c]
                    for i in range(oh):
                        source = x[n, first + c, i * sh + p * dh]
                        target = row[(n * oh + i) * ow:(n * oh + i + 1) * ow]
                        for j in range(ow):
                            target[j] = source[q * dw + j * sw]


def _col2im_t_loop(cols_t, first, kh, kw, sh, sw, dh, dw, oh, ow, gx):
    """The adjoint of ``_im2col_t_loop``: gx[n, first + c, i sh + p dh, j sw + q dw] +=
    cols_t[(p KW + q) C + c, (n OH + i) OW + j] (NCHW gx)."""
    channels = cols_t.shape[0] // (kh * kw)
    for n in prange(gx.shape[0]):
        for p in range(kh):
            for q in range(kw):
                for c in range(channels):
                    row = cols_t[(p * kw + q) * channels + c]
                    for i in range(oh):
                        target = gx[n, first + c, i * sh + p * dh]
                        source = row[(n * oh + i) * ow:(n * oh + i + 1) * ow]
                        for j in range(ow):
                            target[q * dw + j * sw] += source[j]


_im2col = _loops(_im2col_loop)
_col2im = _loops(_col2im_loop)
_im2col_run = _loops(_im2col_run_loop)
_col2im_run = _loops(_col2im_run_loop)
_im2col_t = _loops(_im2col_t_loop)
_col2im_t = _loops(_col2im_t_loop)


def _merged(a: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, H, W C), a view of a contiguous array (explicit sizes, not -1:
    a batch of 0 images has no size to infer)."""
    return a.reshape(a.shape[0], a.shape[1], a.shape[2] * a.shape[3])


def _short_rows(x_nhwc: np.ndarray, geometry: tuple[int, ...]) -> bool:
    """Whether the run loops apply and pay: fewer than ``SHORT_ROWS`` channels and no
    dilation along W (measured, batch 64, 3x3, us, run loop vs loop per kernel column:
    C = 1 at 8x8, 37 vs 78; C = 3 at 32x32, 1378 vs 1778; C = 16 at 4x4, 58 vs 37)."""
    return x_nhwc.shape[3] < SHORT_ROWS and geometry[5] == 1 and x_nhwc.flags.c_contiguous


def _im2col_into(x_nhwc: np.ndarray, geometry: tuple[int, ...], cols: np.ndarray) -> None:
    """cols = im2col(x_nhwc), by the loop that is faster for its channel count."""
    if _short_rows(x_nhwc, geometry):
        kh, kw, sh, sw, dh, _, oh, ow = geometry
        _im2col_run.run(cols.size, _merged(x_nhwc), kh, kw, sh, sw, dh, oh, ow, cols)
    else:
        _im2col.run(cols.size, x_nhwc, *geometry, cols)


def _col2im_into(cols: np.ndarray, geometry: tuple[int, ...], gx_nhwc: np.ndarray) -> None:
    """gx_nhwc += col2im(cols), by the loop ``_im2col_into`` would choose."""
    if _short_rows(gx_nhwc, geometry):
        kh, kw, sh, sw, dh, _, oh, ow = geometry
        _col2im_run.run(cols.size, cols, kh, kw, sh, sw, dh, oh, ow, _merged(gx_nhwc))
    else:
        _col2im.run(cols.size, cols, *geometry, gx_nhwc)


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


def _to_nchw_loop(a, shift, out):
    """out[n, o, k] = a[n, k, o] + shift[o]: (N, OH OW, O) -> (N, O, OH OW)."""
    for n in range(out.shape[0]):
        source, target = a[n], out[n]
        for o in range(out.shape[1]):
            row, add = target[o], shift[o]
            for k in range(out.shape[2]):
                row[k] = source[k, o] + add


def _channel_major_loop(g, out, sums, partial):
    """out[o, n, k] = g[n, o, k], (N, O, OH OW) -> (O, N, OH OW), and sums[o] = the sum
    over n and k of g[n, o, k]. The sum runs in OH OW lanes, partial[o, k] = sum over
    n, which vectorise with the copy (a single running total per channel does not:
    without fastmath the additions keep their order), and then over the lanes."""
    partial[:] = partial.dtype.type(0)
    for n in range(g.shape[0]):
        for o in range(g.shape[1]):
            source, target, lanes = g[n, o], out[o, n], partial[o]
            for k in range(g.shape[2]):
                target[k] = source[k]
                lanes[k] += source[k]
    for o in range(g.shape[1]):
        total = sums.dtype.type(0)
        for k in range(g.shape[2]):
            total += partial[o, k]
        sums[o] = total


_pad_nhwc = njit(_pad_nhwc_loop)
_crop_nchw = njit(_crop_nchw_loop)
_batch_major = njit(_batch_major_loop)
_to_nchw = njit(_to_nchw_loop)
_channel_major = njit(_channel_major_loop)


# -- convolution --------------------------------------------------------------------------
class Context(NamedTuple):
    """What the backward of one convolution needs from its forward."""
    cols: np.ndarray            # per group: im2col of the input, transposed or not
    transposed: bool            # cols[k] is (KH KW C/G, N OH OW), else (N OH OW, KH KW C/G)
    weight_rows: np.ndarray     # the weight as (O, KH KW C/G), in the columns' order
    input_shape: tuple[int, ...]
    padding: tuple[Pair, Pair]
    geometry: tuple[int, ...]   # (kh, kw, sh, sw, dh, dw, oh, ow), as the im2col loops take it
    groups: int


def _padded_nchw(x: np.ndarray, padding: tuple[Pair, Pair]) -> np.ndarray:
    """x with zeros around its planes, still NCHW."""
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + top + bottom, w + left + right), x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def conv2d(x: np.ndarray, w: np.ndarray, stride: Pair, dilation: Pair, groups: int,
           padding: tuple[Pair, Pair] = ((0, 0), (0, 0)), bias: np.ndarray | None = None
           ) -> tuple[np.ndarray, Context]:
    """y = conv(x, w) + bias, x zero-padded by ``padding`` ((top, bottom), (left, right)).

    Per group k, one BLAS matmul: y_k (N OH OW, O/G) = cols_k @ w_k^T, w_k being
    (O/G, KH KW C/G); below ``FEW_CHANNELS`` channels per group, from the columns
    stored transposed, y_k^T (O/G, N OH OW) = w_k @ cols_k^T. Either is copied into
    y (N, O, OH, OW) with the bias added on the way.
    """
    n, c, h, width = x.shape
    o, cg, kh, kw = w.shape
    (top, bottom), (left, right) = padding
    padded_hw = (h + top + bottom, width + left + right)
    oh = output_size(padded_hw[0], kh, stride[0], dilation[0])
    ow = output_size(padded_hw[1], kw, stride[1], dilation[1])
    og, transposed = o // groups, cg < FEW_CHANNELS
    weight_rows = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(o, kh * kw * cg)
    geometry = (kh, kw, *stride, *dilation, oh, ow)
    if transposed:
        xp = _padded_nchw(x, padding)
        cols = np.empty((groups, kh * kw * cg, n * oh * ow), x.dtype)
        product = np.empty((o, n * oh * ow), x.dtype)     # y^T: (O, N, OH, OW)
    else:
        xp = np.empty((n, *padded_hw, c), x.dtype)
        _pad_nhwc(x, top, left, xp)
        cols = np.empty((groups, n * oh * ow, kh * kw * cg), x.dtype)
        product = np.empty((n * oh * ow, o), x.dtype)     # y in NHWC: (N, OH, OW, O)
    for k in range(groups):
        rows, outputs = weight_rows[k * og:(k + 1) * og], slice(k * og, (k + 1) * og)
        if transposed:
            _im2col_t.run(cols[k].size, xp, k * cg, *geometry, cols[k])
            np.matmul(rows, cols[k], out=product[outputs])
        else:
            _im2col_into(xp[..., k * cg:(k + 1) * cg], geometry, cols[k])
            np.matmul(cols[k], rows.T, out=product[:, outputs])
    y = np.empty((n, o, oh, ow), x.dtype)
    shift = np.zeros(o, x.dtype) if bias is None else bias
    if transposed:
        _batch_major(product.reshape(o, n, oh * ow), shift, y.reshape(n, o, oh * ow))
    else:
        _to_nchw(product.reshape(n, oh * ow, o), shift, y.reshape(n, o, oh * ow))
    return y, Context(cols, transposed, weight_rows, x.shape, padding, geometry, groups)


def _input_grad(g_t: np.ndarray, weight_rows: np.ndarray, input_shape: tuple[int, ...],
                padding: tuple[Pair, Pair], geometry: tuple[int, ...], groups: int,
                transposed: bool) -> np.ndarray:
    """dL/dx from g^T (O, N OH OW): per group k, dL/dcols_k = (g_k^T)^T @ w_k (transposed
    where the columns are), scattered back onto the padded input by col2im, then cropped."""
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    og, cg = g_t.shape[0] // groups, c // groups
    padded_hw = (h + top + bottom, w + left + right)
    gxp = np.zeros((n, c, *padded_hw) if transposed else (n, *padded_hw, c), g_t.dtype)
    for k in range(groups):
        g_k, rows = g_t[k * og:(k + 1) * og], weight_rows[k * og:(k + 1) * og]
        if transposed:
            cols_k = rows.T @ g_k
            _col2im_t.run(cols_k.size, cols_k, k * cg, *geometry, gxp)
        else:
            _col2im_into(g_k.T @ rows, geometry, gxp[..., k * cg:(k + 1) * cg])
    if transposed:
        return np.ascontiguousarray(gxp[:, :, top:top + h, left:left + w])
    gx = np.empty(input_shape, g_t.dtype)
    _crop_nchw(gxp, top, left, gx)
    return gx


def conv2d_grad(g: np.ndarray, context: Context, input_grad: bool = True,
                weight_grad: bool = True, bias_grad: bool = False
                ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dL/dx, dL/dw, dL/db) from g = dL/dy; each None when not asked for.

    With g^T (O, N OH OW) the channels-first copy of g, per group k:
    dL/dw_k = g_k^T @ cols_k and dL/dcols_k = (g_k^T)^T @ w_k (both transposed
    where the columns are), scattered back onto the padded input by col2im;
    dL/db = the row sums of g^T.
    """
    n, c = context.input_shape[:2]
    o, groups, geometry = g.shape[1], context.groups, context.geometry
    og, cg, cols, transposed = o // groups, c // groups, context.cols, context.transposed
    kh, kw = geometry[:2]
    positions = geometry[6] * geometry[7]   # OH OW
    g_t, gb = np.empty((o, n * positions), g.dtype), np.empty(o, g.dtype)
    _channel_major(g.reshape(n, o, positions), g_t.reshape(o, n, positions), gb,
                   np.empty((o, positions), g.dtype))
    gx = gw = None
    if input_grad:
        gx = _input_grad(g_t, context.weight_rows, context.input_shape, context.padding,
                         geometry, groups, transposed)
    if weight_grad:
        gw_rows = np.empty((o, kh * kw * cg), g.dtype)
        for k in range(groups):
            np.matmul(g_t[k * og:(k + 1) * og], cols[k].T if transposed else cols[k],
                      out=gw_rows[k * og:(k + 1) * og])
        gw = np.ascontiguousarray(gw_rows.reshape(o, kh, kw, cg).transpose(0, 3, 1, 2))
    return gx, gw, gb if bias_grad else None


def conv2d_input_grad(g: np.ndarray, w: np.ndarray, input_shape: tuple[int, ...], stride: Pair,
                      dilation: Pair, groups: int, padding: tuple[Pair, Pair] = ((0, 0), (0, 0))
                      ) -> np.ndarray:
    """dL/dx of ``conv2d`` for x of ``input_shape``, from g = dL/dy and w alone (no forward
    context): the transposed convolution of g with w, col2im of the columns w^T g."""
    o, cg, kh, kw = w.shape
    weight_rows = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(o, kh * kw * cg)
    g_t = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(o, -1)
    geometry = (kh, kw, *stride, *dilation, *g.shape[2:])
    return _input_grad(g_t, weight_rows, input_shape, padding, geometry, groups,
                       cg < FEW_CHANNELS)


# -- pooling -------------------------------------------------------------------------------
# The loops see (N C, H, W): one plane per image and channel, prange over the planes
# (measured 2x faster than four indices for max pooling 64 x 16 x 8 x 8). Max pooling
# keeps PyTorch's rule: a value replaces the best so far when it is larger or NaN
# (ties to the first maximum, NaN to the last NaN), written as selects, not branches:
# on fresh data a branch mispredicts about half the time.

def _max_pool_loop(x, kh, kw, sh, sw, dh, dw, y, choice):
    """y = the largest value of each window (kernel offset (p, q) at (p dh, q dw)),
    choice = its offset p KW + q in the window."""
    for m in prange(x.shape[0]):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                h0, w0 = i * sh, j * sw
                best, offset = x[m, h0, w0], 0
                for p in range(kh):
                    for q in range(kw):
                        value = x[m, h0 + p * dh, w0 + q * dw]
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


def _max_pool_grad_loop(g, choice, kw, sh, sw, dh, dw, gx):
    """gx[m, i sh + p dh, j sw + q dw] += g[m, i, j] for the chosen offset p KW + q."""
    for m in prange(g.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                p, q = divmod(choice[m, i, j], kw)
                gx[m, i * sh + p * dh, j * sw + q * dw] += g[m, i, j]


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
    return np.ascontiguousarray(a).reshape(a.shape[0] * a.shape[1], *a.shape[2:])


def _pooled(x: np.ndarray, kernel: Pair, stride: Pair, dtype,
            dilation: Pair = (1, 1)) -> np.ndarray:
    """An empty (N, C, OH, OW) output for pooling x."""
    return np.empty((*x.shape[:2], output_size(x.shape[2], kernel[0], stride[0], dilation[0]),
                     output_size(x.shape[3], kernel[1], stride[1], dilation[1])), dtype)


def _halving(kernel: Pair, stride: Pair, dilation: Pair = (1, 1)) -> bool:
    """2 x 2 windows at stride 2, undilated: the loops written for them apply."""
    return tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and tuple(dilation) == (1, 1)


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair = (1, 1)
               ) -> tuple[np.ndarray, np.ndarray]:
    y = _pooled(x, kernel, stride, x.dtype, dilation)
    choice = _pooled(x, kernel, stride, choice_dtype(kernel), dilation)
    size = y.size * kernel[0] * kernel[1]
    if _halving(kernel, stride, dilation):
        _max_pool_2x2.run(size, _planes(x), _planes(y), _planes(choice))
    else:
        _max_pool.run(size, _planes(x), *kernel, *stride, *dilation, _planes(y),
                      _planes(choice))
    return y, choice


def max_pool2d_grad(g: np.ndarray, choice: np.ndarray, input_hw: Pair, kernel: Pair,
                    stride: Pair, dilation: Pair = (1, 1)) -> np.ndarray:
    gx = np.zeros((*g.shape[:2], *input_hw), g.dtype)
    if _halving(kernel, stride, dilation):
        _max_pool_2x2_grad.run(g.size, _planes(g), _planes(choice), _planes(gx))
    else:
        _max_pool_grad.run(g.size, _planes(g), _planes(choice), kernel[1], *stride, *dilation,
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


# -- embedding ------------------------------------------------------------------------------
def _embedding_grad_loop(index, g, grad):
    """grad[index[k], :] += g[k, :] for every lookup k, in order (serial: two lookups of
    one row would race in parallel)."""
    for k in range(index.shape[0]):
        row = index[k]
        for d in range(g.shape[1]):
            grad[row, d] += g[k, d]


_embedding_grad = njit(_embedding_grad_loop)


def embedding_grad(index: np.ndarray, g: np.ndarray, num_embeddings: int) -> np.ndarray:
    """dL/dweight of an embedding lookup: the rows of g (lookups, dim) added into
    the rows ``index`` (int64, one per lookup) of a (num_embeddings, dim) zero array."""
    grad = np.zeros((num_embeddings, g.shape[1]), dtype=g.dtype)
    _embedding_grad(index, np.ascontiguousarray(g), grad)
    return grad
