"""exp, sigmoid and tanh for njit loops that LLVM can vectorise.

numba compiles ``np.exp`` and ``np.tanh`` of a scalar to calls of libm's expf/exp
and tanhf/tanh, one element at a time: without Intel's SVML (numba uses it only
where the icc_rt package is installed) LLVM has no vector version to call. The
gates of a recurrent layer are all sigmoids and tanhs, so the calls are most of
a step. ``exp`` here is Cephes's (S. Moshier), built only from arithmetic, a
floor and a bit cast, which vectorise:

    exp(x) = 2**k exp(r),   k = floor(x log2(e) + 1/2),   r = x - k ln 2   (|r| <= ln(2)/2)

with ln 2 split into a short high part and a low part, so that k ln 2 is exact
enough; exp(r) is a degree-7 polynomial in float32 (Cephes expf) and a Pade
form 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)) in float64 (Cephes exp); 2**k is
the float whose exponent bits are k + bias. x is first clamped so that 2**k
stays a normal number: to [-87, 88] in float32 and [-708, 708] in float64. The
results differ from libm's by a unit or two in the last place (Cephes: 1.0e-7
relative for expf, 2.2e-16 for exp); beyond the clamp exp(-88) is about 6e-39
instead of smaller, which moves a sigmoid or a tanh by less than 1e-38.

    sigmoid(a) = 1 / (1 + exp(-a)),    tanh(a) = 2 sigmoid(2 a) - 1

The tanh form is exact to a few units in the last place of 1 (not of tanh(a)
itself for tiny a, where it loses relative precision), inside the tolerance of
the tests against the reference and against PyTorch.

Measured on 409600 float32 values in an njit loop (one LSTM layer's gates at
batch 32, sequence 50, hidden 64), one thread, under load: see ``rnn_cpu``.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ..jit import njit


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float whose IEEE-754 bits are ``bits``: int32 -> float32, int64 -> float64."""
    targets = {types.int32: (types.float32, ir.FloatType()),
               types.int64: (types.float64, ir.DoubleType())}
    if bits not in targets:
        return None
    result, llvm_type = targets[bits]

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_type)
    return result(bits), codegen


def exp(x):
    """e**x for a float32 or float64 scalar inside njit code (see the module docstring)."""
    return np.exp(x)


@overload(exp, jit_options={"error_model": "numpy"})
def _exp(x):
    if x == types.float32:
        def exp_float32(x):
            x = min(max(x, np.float32(-87.0)), np.float32(88.0))
            k = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
            r = x - k * np.float32(0.693359375) - k * np.float32(-2.12194440e-4)
            p = np.float32(1.9875691500e-4)
            p = p * r + np.float32(1.3981999507e-3)
            p = p * r + np.float32(8.3334519073e-3)
            p = p * r + np.float32(4.1665795894e-2)
            p = p * r + np.float32(1.6666665459e-1)
            p = p * r + np.float32(5.0000001201e-1)
            p = p * (r * r) + r + np.float32(1.0)
            return p * _float_from_bits(np.int32((np.int64(k) + 127) << 23))
        return exp_float32
    if x == types.float64:
        def exp_float64(x):
            x = min(max(x, -708.0), 708.0)
            k = np.floor(x * 1.4426950408889634073599 + 0.5)
            r = x - k * 6.93145751953125e-1 - k * 1.42860682030941723212e-6
            rr = r * r
            p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                     + 9.99999999999999999910e-1)
            q = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                  + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
            e = 1.0 + 2.0 * p / (q - p)
            return e * _float_from_bits((np.int64(k) + 1023) << 52)
        return exp_float64
    return None


@njit
def sigmoid(a, one):
    """1 / (1 + exp(-a)), with ``one`` in a's dtype."""
    return one / (one + exp(-a))


@njit
def tanh(a, one):
    """tanh(a) = 2 sigmoid(2 a) - 1, with ``one`` in a's dtype."""
    two = one + one
    return two / (one + exp(-two * a)) - one
