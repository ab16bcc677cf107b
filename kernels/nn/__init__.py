"""minidl.kernels.nn: the convolution and pooling kernels of the layers.

    reference   plain numpy, written for clarity: the test oracle
    cpu         numba.njit loops (im2col into a BLAS matmul; pooling), the fast path

Both modules export the same functions with the same positional arguments.
They work on arrays in NCHW layout that the caller has already padded (the
layers pad with ``np.pad``: zeros for a convolution, -inf for max pooling), so
no kernel knows about padding. For an input x of shape (N, C, H, W), a
weight w of shape (O, C / groups, KH, KW), stride (sh, sw) and dilation
(dh, dw), the output is (N, O, OH, OW) with

    OH = (H - dh (KH - 1) - 1) // sh + 1        (OW likewise)

    conv2d(x, w, stride, dilation, groups)             y, context (what backward needs)
    conv2d_grad(g, context, input_grad, weight_grad)   dL/dx, dL/dw from g = dL/dy
    max_pool2d(x, kernel, stride)                                y, argmax (int32, flat in H*W)
    max_pool2d_grad(g, argmax, input_hw)                         dL/dx
    avg_pool2d(x, kernel, stride)                                y
    avg_pool2d_grad(g, input_hw, kernel, stride)                 dL/dx

Every ``stride``, ``dilation``, ``kernel`` and ``input_hw`` is a pair of ints.
One-dimensional layers call these with H = 1. This package imports nothing
from minidl.
"""
