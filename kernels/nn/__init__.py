"""minidl.kernels.nn: the convolution and pooling kernels of the layers.

    reference   plain numpy, written for clarity: the test oracle
    cpu         numba.njit loops (im2col into a BLAS matmul; pooling), the fast path

Both modules export the same functions with the same positional arguments.
They work on arrays in NCHW layout. A convolution takes its zero padding as an
argument, ((top, bottom), (left, right)), and pads inside the kernel; pooling
sees input the caller has already padded (with -inf for max pooling, zeros for
the average). For an input x of shape (N, C, H, W) (padded), a weight w of
shape (O, C / groups, KH, KW), stride (sh, sw) and dilation (dh, dw), the
output is (N, O, OH, OW) with

    OH = (H - dh (KH - 1) - 1) // sh + 1        (OW likewise)

    conv2d(x, w, stride, dilation, groups, padding, bias)    y, context (for backward)
    conv2d_grad(g, context, input_grad, weight_grad, bias_grad)
                                                 dL/dx, dL/dw, dL/db from g = dL/dy
    conv2d_input_grad(g, w, input_shape, stride, dilation, groups, padding)
                                                 dL/dx alone, without a forward: the
                                                 transposed convolution of g with w
    max_pool2d(x, kernel, stride, dilation=(1, 1))
                                                 y, choice (offset p KW + q in the window)
    max_pool2d_grad(g, choice, input_hw, kernel, stride, dilation=(1, 1))
                                                 dL/dx
    avg_pool2d(x, kernel, stride)                y
    avg_pool2d_grad(g, input_hw, kernel, stride) dL/dx
    embedding_grad(index, g, num_embeddings)     dL/dweight of an embedding: the rows of
                                                 g (lookups, dim) added into rows index

Every ``stride``, ``dilation``, ``kernel`` and ``input_hw`` is a pair of ints.
One-dimensional layers call these with H = 1.

The recurrent layers' kernels are a pair of their own, with one API:

    rnn_reference   plain numpy, one time step at a time: the test oracle
    rnn_cpu         one BLAS matmul for all the steps' input, one njit loop over
                    the steps with the gate math fused; BPTT over the kept gates

    forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)
                                         y, h_n, c_n, context
    backward(gy, gh_n, gc_n, context)    dL/dx, dL/dh0, dL/dc0, dL/dw_ih, dL/dw_hh,
                                         dL/db_ih, dL/db_hh

for one layer and direction over time-major x (T, B, I) (see ``rnn_reference``);
``vexp`` holds the exp, sigmoid and tanh that ``rnn_cpu``'s loops vectorise.

A compiled step's fused loops (``minidl.compile``) are a pair too:
``fused_reference`` (the eager ops' numpy calls) and ``fused_cpu`` (njit loops
that do those float operations in numpy's order): bias_relu, relu_bias_grad,
column_sums, shift_rows, row_sums, cross_entropy_loss, cross_entropy_grad,
classes_in_range (see ``fused_cpu``).
This package imports nothing from minidl.
"""
