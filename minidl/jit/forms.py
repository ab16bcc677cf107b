"""Compiled forms: each traced op as a forward and a backward on preallocated buffers.

A form reads and writes the plan's buffer table by slot number: ``v[slot]`` is
a value (an input, a parameter's array, an op's output buffer) and ``g[slot]``
the gradient buffer of that value. Each form repeats the numpy calls of the
eager op (``nn/functional.py``, ``nn/losses.py``) with ``out=`` arguments,
calls the kernel of ``kernels/nn/cpu.py`` the eager op calls, or calls a loop
of ``kernels/nn/fused_cpu.py`` that does the float operations of several of
those numpy calls in their order, so a replayed step computes what the eager
step computes, bit for bit, without allocating, dispatching or walking a graph:

    linear          y = x W^T + b            gx = g W,  gW = g^T x,  gb = sum_rows g
    relu            y = max(x, 0), m = x > 0 gx = g m
                    (after a linear: run inside it, the bias, the ReLU and its mask in
                    one loop forward, the mask and the bias grad in one loop backward)
    cross_entropy   l = mean_i(log sum_k e^(s_ik) - s_i,t_i),  s = x - max_k x
                    gx = (softmax(x) - onehot(t)) / N
                    (loops for the max, the sums and the gradient around numpy's exp
                    and log)
    conv2d, max_pool2d, avg_pool2d   the njit kernels of kernels/nn/cpu.py, called
                    as the eager op calls them (their own outputs and contexts)
    flatten         a reshaped view, forward and backward
    mse_loss        l = sum_i (x_i - y_i)^2 / n            gx = 2 (x - y) g / n
    dropout         y = x m / (1 - p), m from minidl's generator at each call
    batch_norm      BatchNorm1d/2d's forward with its running statistics, and eager's
                    chain of ops backward, array for array

A form whose gradient is an array of its own (a kernel's result, a view) hands
it on by reference to the next form; into a parameter's slot, which is the
optimizer's flat grad buffer, it copies.

``build(record, slots)`` returns the form of one ``OpRecord``, or raises
``Unsupported`` naming what the form cannot hold.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import conv, pooling
from ..random import generator
from ..tensor import Tensor
from .trace import OpRecord


class Unsupported(Exception):
    """The traced call has no compiled form; the message says why."""


def _fused() -> Any:
    """``minidl.kernels.nn.fused_cpu``, imported when a plan is built (it loads numba)."""
    from ..kernels.nn import fused_cpu
    return fused_cpu


class Form:
    """One op of a plan: ``inputs`` and ``output`` are slots; ``needs[i]`` says
    whether the backward computes the gradient of input i."""
    kind = ""
    inputs: tuple[int, ...] = ()
    output = -1
    needs: tuple[bool, ...] = ()
    into_param: tuple[bool, ...] = ()
    made_by = ""      # what makes the output array, when not a preallocated buffer

    def _connect(self, inputs: list, output: Any, slots: Any) -> None:
        """Take slots for ``inputs`` and ``output``; note which gradients flow."""
        self.inputs = tuple(slots.slot(t) for t in inputs)
        self.output = slots.output(output)
        self.needs = tuple(slots.needs_grad(s) for s in self.inputs)
        self.into_param = tuple(slots.kinds[s] == "param" for s in self.inputs)

    def _give(self, g: list, i: int, grad: np.ndarray) -> None:
        """``grad`` as the gradient of input i: copied into a parameter's grad,
        else handed on as it is."""
        if self.into_param[i]:
            np.copyto(g[self.inputs[i]], grad)
        else:
            g[self.inputs[i]] = grad

    def holds(self, v: list) -> bool:
        """Whether this call's values take the path this form was traced on."""
        return True

    def forward(self, v: list) -> None:
        raise NotImplementedError

    def backward(self, v: list, g: list) -> None:
        raise NotImplementedError

    def describe(self, name: Any) -> tuple[str, str]:
        """(forward line, backward line) for ``plan`` text; ``name(slot)`` names a slot."""
        raise NotImplementedError


def _float_tensor(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor) or value.dtype.kind != "f":
        raise Unsupported(f"{what} is not a float Tensor")
    return value


def _input(x: Any, weight: Tensor) -> tuple[Any, Any]:
    """(the op's input, the dtype a replay casts it to or None), as eager ops cast
    input that is not a float Tensor to the weight's dtype."""
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        return x, None
    return x, weight.dtype


class Linear(Form):
    kind = "linear"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        weight = _float_tensor(args["weight"], "linear's weight")
        x, self.cast = _input(args["x"], weight)
        if np.ndim(x._data if isinstance(x, Tensor) else x) != 2:
            raise Unsupported("linear on input that is not 2-d (the compiled form takes "
                              "(N, in))")
        self.has_bias = args["bias"] is not None
        self._connect([x, weight] + ([args["bias"]] if self.has_bias else []), record.output,
                      slots)
        self.relu: ReLU | None = None
        self.fused = _fused()

    def _rows(self, v: list) -> np.ndarray:
        x = v[self.inputs[0]]
        return x if self.cast is None else np.asarray(x, dtype=self.cast)

    def fuse_relu(self, relu: ReLU) -> None:
        """Run the ReLU that reads this output inside this form: forward, the bias,
        the ReLU and its mask in one loop; backward, the mask and the bias grad."""
        self.relu, relu.fused = relu, True
        relu.made_by = "the linear's buffer (the ReLU runs inside it)"
        self.bias_grad = np.empty_like(relu.zeros[0])   # the sums of a frozen bias

    def forward(self, v: list) -> None:
        out = v[self.output]
        np.matmul(self._rows(v), v[self.inputs[1]].T, out=out)
        if self.relu is not None:
            self.fused.bias_relu(out, v[self.inputs[2]], self.relu.mask)
        elif self.has_bias:
            out += v[self.inputs[2]]

    def backward(self, v: list, g: list) -> None:
        grad = g[self.output]
        if self.relu is not None:
            self.fused.relu_bias_grad(g[self.relu.output], self.relu.mask, grad,
                                      g[self.inputs[2]] if self.needs[2] else self.bias_grad)
        elif self.has_bias and self.needs[2]:
            self.fused.column_sums(grad, g[self.inputs[2]])
        if self.needs[0]:
            np.matmul(grad, v[self.inputs[1]], out=g[self.inputs[0]])
        if self.needs[1]:
            np.matmul(grad.T, self._rows(v), out=g[self.inputs[1]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, w = name(self.inputs[0]), name(self.inputs[1])
        bias = f" + {name(self.inputs[2])}" if self.has_bias else ""
        out = name(self.output)
        forward = f"{out} = {x} @ {w}.T{bias}   (one BLAS gemm into {out}, bias added in place)"
        parts = []
        if self.relu is not None:
            forward = (f"{out} = max({x} @ {w}.T{bias}, 0)   (one BLAS gemm into {out}; "
                       f"bias, ReLU and its mask in one loop: fused_cpu.bias_relu)")
            relu = name(self.relu.output)
            parts.append(f"d{out} = d{relu} * mask and d{name(self.inputs[2])} = its rows' "
                         f"sums in one loop (fused_cpu.relu_bias_grad)")
        if self.needs[0]:
            parts.append(f"d{x} = d{out} @ {w}")
        if self.needs[1]:
            parts.append(f"d{w} = d{out}.T @ {x}")
        if self.has_bias and self.needs[2] and self.relu is None:
            parts.append(f"d{name(self.inputs[2])} = sum of d{out}'s rows")
        return forward, ";  ".join(parts)


class ReLU(Form):
    kind = "relu"

    def __init__(self, record: OpRecord, slots: Any):
        x = _float_tensor(record.args["x"], "relu's input")
        self._connect([x], record.output, slots)
        self.zeros = np.zeros(x.shape, x.dtype)     # numpy's SIMD loop: max against an array
        self.mask = np.empty(x.shape, bool)
        self.fused = False                          # done by the linear before it

    def forward(self, v: list) -> None:
        x = v[self.inputs[0]]
        if self.fused:
            v[self.output] = x
            return
        np.greater(x, 0, out=self.mask)
        np.maximum(x, self.zeros, out=v[self.output])

    def backward(self, v: list, g: list) -> None:
        if self.needs[0] and not self.fused:
            np.multiply(g[self.output], self.mask, out=g[self.inputs[0]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, out = name(self.inputs[0]), name(self.output)
        if self.fused:
            return f"{out} is {x} (fused into the linear)", ""
        return (f"{out} = max({x}, 0); mask = {x} > 0",
                f"d{x} = d{out} * mask" if self.needs[0] else "")


class CrossEntropy(Form):
    """The sparse path of ``cross_entropy``: integer classes, no weight, no
    smoothing, every target a class (a batch holding ``ignore_index`` or an
    out-of-range class runs eagerly: ``holds``)."""
    kind = "cross_entropy"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        x = _float_tensor(args["input"], "cross_entropy's input")
        target = args["target"]
        classes = target._data if isinstance(target, Tensor) else np.asarray(target)
        if x.ndim != 2 or classes.ndim != 1 or classes.dtype.kind not in "iu":
            raise Unsupported("cross_entropy's compiled form takes logits (N, C) and integer "
                              "classes (N,)")
        if args["weight"] is not None or args["label_smoothing"]:
            raise Unsupported("cross_entropy with weight or label_smoothing")
        if args["reduction"] not in ("mean", "sum"):
            raise Unsupported(f"cross_entropy with reduction={args['reduction']!r}")
        self._connect([x, target], record.output, slots)
        n, self.n_classes = x.shape
        self.divisor = n if args["reduction"] == "mean" else 1
        self.shifted, self.exps = np.empty(x.shape, x.dtype), np.empty(x.shape, x.dtype)
        self.totals, self.logs, self.losses = (np.empty(n, x.dtype) for _ in range(3))
        self.fused = _fused()

    def holds(self, v: list) -> bool:
        return self.fused.classes_in_range(v[self.inputs[1]], self.n_classes)

    def forward(self, v: list) -> None:
        x, classes, fused = v[self.inputs[0]], v[self.inputs[1]], self.fused
        fused.shift_rows(x, self.shifted)
        np.exp(self.shifted, out=self.exps)
        fused.row_sums(self.exps, self.totals)
        np.log(self.totals, out=self.logs)
        fused.cross_entropy_loss(self.logs, self.shifted, classes, self.divisor, self.losses,
                                 v[self.output])

    def backward(self, v: list, g: list) -> None:
        if self.needs[0]:
            self.fused.cross_entropy_grad(self.exps, self.totals, v[self.inputs[1]],
                                          g[self.output] / self.divisor, g[self.inputs[0]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, t, out = name(self.inputs[0]), name(self.inputs[1]), name(self.output)
        mean = "mean" if self.divisor != 1 else "sum"
        return (f"{out} = {mean} of logsumexp({x}) - {x}[row, {t}]   (shifted by the row max; "
                f"exps kept; fused_cpu loops around numpy's exp and log)",
                f"d{x} = (exps / row sums - onehot({t})) * d{out}" + (
                    f" / {self.divisor}" if self.divisor != 1 else "") if self.needs[0] else "")


class Conv2d(Form):
    kind = "conv2d"
    made_by = "the conv2d kernel"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        weight = _float_tensor(args["weight"], "conv2d's weight")
        x, self.cast = _input(args["input"], weight)
        shape = x.shape if isinstance(x, Tensor) else np.shape(x)
        if len(shape) != 4:
            raise Unsupported("conv2d of an unbatched image (the compiled form takes N, C, H, W)")
        self.has_bias = args["bias"] is not None
        self._connect([x, weight] + ([args["bias"]] if self.has_bias else []),
                      record.output, slots)
        kernel = weight.shape[2:]
        self.stride = conv.as_tuple("stride", args["stride"], 2)
        self.dilation = conv.as_tuple("dilation", args["dilation"], 2)
        self.groups = args["groups"]
        self.pads = conv.conv_padding(args["padding"], kernel, self.stride, self.dilation)
        self.context = None

    def forward(self, v: list) -> None:
        x = v[self.inputs[0]]
        x = np.ascontiguousarray(x if self.cast is None else np.asarray(x, dtype=self.cast))
        v[self.output], self.context = conv._kernels().conv2d(
            x, np.ascontiguousarray(v[self.inputs[1]]), self.stride, self.dilation,
            self.groups, self.pads, v[self.inputs[2]] if self.has_bias else None)

    def backward(self, v: list, g: list) -> None:
        grads = conv._kernels().conv2d_grad(
            np.ascontiguousarray(g[self.output]), self.context, self.needs[0], self.needs[1],
            self.has_bias and self.needs[2])
        for i, needed in enumerate(self.needs):
            if needed:
                self._give(g, i, grads[i])

    def describe(self, name: Any) -> tuple[str, str]:
        x, w, out = name(self.inputs[0]), name(self.inputs[1]), name(self.output)
        bias = f" + {name(self.inputs[2])}" if self.has_bias else ""
        grads = ", ".join(f"d{name(slot)}" for slot, needed in zip(self.inputs, self.needs)
                          if needed)
        return (f"{out} = conv2d({x}, {w}){bias}   (kernels.nn.cpu.conv2d: im2col + one gemm)",
                f"{grads} = kernels.nn.cpu.conv2d_grad(d{out}, the forward's columns)")


class Pool2d(Form):
    """max_pool2d and avg_pool2d of 4-d input (``pooling._max_pool``/``_avg_pool``): the
    pooling kernels on the padded input, for the options whose every window is whole
    (no ceil_mode extra, no indices returned, no divisor but the window's area)."""
    made_by = "the pooling kernel"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        x = _float_tensor(args["x"], f"{args['op']}'s input")
        self.kind, self.maximum = args["op"], record.kind == "max_pool"
        if self.maximum and args["return_indices"]:
            raise Unsupported(f"{self.kind} with return_indices")
        if not self.maximum and (args["divisor_override"] is not None
                                 or (not args["count_include_pad"] and any(
                                     conv.as_tuple("padding", args["padding"], 2)))):
            raise Unsupported(f"{self.kind} with another divisor than the window's area")
        self.windows = pooling._Windows(self.kind, x.shape[2:], args["kernel_size"],
                                        args["stride"], args["padding"],
                                        args["dilation"] if self.maximum else 1,
                                        args["ceil_mode"])
        if any(self.windows.extra):
            raise Unsupported(f"{self.kind} with ceil_mode windows past the input")
        self._connect([x], record.output, slots)
        self.kernel = self.windows.kernel
        self.choice = None

    def forward(self, v: list) -> None:
        win, kernels = self.windows, pooling._kernels()
        data = win.pad(v[self.inputs[0]], -np.inf if self.maximum else 0)
        if self.maximum:
            v[self.output], self.choice = kernels.max_pool2d(data, win.kernel, win.stride,
                                                             win.dilation)
        else:
            v[self.output] = kernels.avg_pool2d(data, win.kernel, win.stride)

    def backward(self, v: list, g: list) -> None:
        if not self.needs[0]:
            return
        win, kernels = self.windows, pooling._kernels()
        grad = np.ascontiguousarray(g[self.output])
        if self.maximum:
            grad = kernels.max_pool2d_grad(grad, self.choice, win.padded, win.kernel,
                                           win.stride, win.dilation)
        else:
            grad = kernels.avg_pool2d_grad(grad, win.padded, win.kernel, win.stride)
        self._give(g, 0, win.crop(grad))

    def describe(self, name: Any) -> tuple[str, str]:
        x, out = name(self.inputs[0]), name(self.output)
        return (f"{out} = {self.kind}({x}, {self.kernel})   (kernels.nn.cpu.{self.kind})",
                f"d{x} = kernels.nn.cpu.{self.kind}_grad(d{out})")


class Flatten(Form):
    kind = "flatten"
    made_by = "a view of its input"

    def __init__(self, record: OpRecord, slots: Any):
        x = _float_tensor(record.args["x"], "flatten's input")
        self.in_shape, self.out_shape = x.shape, record.output.shape
        self._connect([x], record.output, slots)

    def forward(self, v: list) -> None:
        v[self.output] = v[self.inputs[0]].reshape(self.out_shape)

    def backward(self, v: list, g: list) -> None:
        if self.needs[0]:
            self._give(g, 0, g[self.output].reshape(self.in_shape))

    def describe(self, name: Any) -> tuple[str, str]:
        x, out = name(self.inputs[0]), name(self.output)
        return (f"{out} = {x} viewed as {self.out_shape}",
                f"d{x} = d{out} viewed as {self.in_shape}")


class MSELoss(Form):
    """``mse_loss`` with reduction "mean" or "sum": l = sum_i (x_i - y_i)^2 / n,
    dl/dx = 2 (x - y) g / n (eager: the two factors of diff * diff, added)."""
    kind = "mse_loss"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        x, target = _float_tensor(args["input"], "mse_loss's input"), args["target"]
        if args["reduction"] not in ("mean", "sum"):
            raise Unsupported(f"mse_loss with reduction={args['reduction']!r}")
        if np.shape(target._data if isinstance(target, Tensor) else target) != x.shape:
            raise Unsupported("mse_loss with a target of another shape")
        self._connect([x, target], record.output, slots)
        # an int (Tensor.size is an ElementCount, by which numpy divides in float64)
        self.count = x._data.size if args["reduction"] == "mean" else 1
        self.dtype = x.dtype
        self.diff = np.empty(x.shape, x.dtype)
        self.squares = np.empty(x.shape, x.dtype)

    def forward(self, v: list) -> None:
        np.subtract(v[self.inputs[0]], np.asarray(v[self.inputs[1]], self.dtype), out=self.diff)
        np.multiply(self.diff, self.diff, out=self.squares)
        v[self.output][()] = np.sum(self.squares) / self.count

    def backward(self, v: list, g: list) -> None:
        if self.needs[0]:
            grad = g[self.inputs[0]]
            np.multiply(g[self.output] / self.count, self.diff, out=grad)
            grad += grad

    def describe(self, name: Any) -> tuple[str, str]:
        x, t, out = name(self.inputs[0]), name(self.inputs[1]), name(self.output)
        return (f"{out} = sum of ({x} - {t})**2 / {self.count}",
                f"d{x} = 2 ({x} - {t}) d{out} / {self.count}")


class Dropout(Form):
    """``F.dropout``: in training y = x m / (1 - p), m drawn from minidl's generator
    at each call exactly as the eager op draws it (the same random stream); out of
    training, or with p = 0, the identity (the output is the input's slot)."""
    kind = "dropout"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        x = _float_tensor(args["x"], "dropout's input")
        self.p, self.identity = args["p"], record.output is x
        if self.identity:
            self.kind, self.inputs, self.needs = "dropout (identity)", (slots.slot(x),), (False,)
            self.output = self.inputs[0]
            return
        self._connect([x], record.output, slots)
        self.scale = np.empty(x.shape, x.dtype)

    def forward(self, v: list) -> None:
        if self.identity:
            return
        x = v[self.inputs[0]]
        if self.p == 1:
            self.scale.fill(0)
        else:
            keep = generator().random(x.shape) >= self.p
            np.divide(keep.astype(x.dtype), np.asarray(1.0 - self.p, dtype=x.dtype),
                      out=self.scale)
        np.multiply(x, self.scale, out=v[self.output])

    def backward(self, v: list, g: list) -> None:
        if not self.identity and self.needs[0]:
            np.multiply(g[self.output], self.scale, out=g[self.inputs[0]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, out = name(self.inputs[0]), name(self.output)
        if self.identity:
            return f"{out} is {x} (not training)", ""
        return (f"{out} = {x} * mask / {1 - self.p:g}, mask drawn from minidl's generator",
                f"d{x} = d{out} * mask / {1 - self.p:g}")


class BatchNorm(Form):
    """``BatchNorm1d/2d.forward``: num_batches_tracked, the running statistics and

        y = (x - mean) / sqrt(var + eps) * w + b

    (the batch's mean and biased var in training, the running statistics outside).
    Forward and backward repeat, array for array, what eager's chain of ops
    (``F.batch_norm``: mean, sub, mul, mean, add, sqrt, div, mul, add) and its
    backward compute, in the order ``Tensor.backward`` sums them, so the result
    is eager's to the bit."""
    kind = "batch_norm"

    def __init__(self, record: OpRecord, slots: Any):
        module = self.module = record.args["self"]
        x = _float_tensor(record.args["input"], f"{type(module).__name__}'s input")
        self.affine = module.weight is not None
        self._connect([x] + ([module.weight, module.bias] if self.affine else []),
                      record.output, slots)
        self.batch_stats = module.training or not module.track_running_stats
        self.update = module.training and module.track_running_stats
        channels = x.shape[1]
        self.axes = (0, *range(2, x.ndim))
        self.shape = (1, channels) + (1,) * (x.ndim - 2)
        self.count = x.size // channels
        self.eps = x.dtype.type(module.eps)
        self.centered = np.empty(x.shape, x.dtype)
        self.normalized = np.empty(x.shape, x.dtype)
        self.std = np.empty(self.shape, x.dtype)       # sqrt(var + eps), or 1 / it outside training

    def forward(self, v: list) -> None:
        module, x, axes = self.module, v[self.inputs[0]], self.axes
        if self.update:
            module.num_batches_tracked += 1
        if self.batch_stats:
            mean = np.sum(x, axis=axes, keepdims=True) / self.count
            np.subtract(x, mean, out=self.centered)
            var = np.sum(self.centered * self.centered, axis=axes, keepdims=True) / self.count
            np.sqrt(var + self.eps, out=self.std)
            np.divide(self.centered, self.std, out=self.normalized)
            if self.update:
                factor = 1.0 / float(module.num_batches_tracked) if module.momentum is None \
                    else module.momentum
                module.running_mean *= 1.0 - factor
                module.running_mean += factor * mean.reshape(-1)
                module.running_var *= 1.0 - factor
                module.running_var += factor * var.reshape(-1) * (self.count / (self.count - 1))
        else:
            np.subtract(x, module.running_mean.reshape(self.shape).astype(x.dtype),
                        out=self.centered)
            self.std[...] = 1.0 / np.sqrt(module.running_var.reshape(self.shape) + module.eps)
            np.multiply(self.centered, self.std, out=self.normalized)
        out = v[self.output]
        if self.affine:
            np.multiply(self.normalized, v[self.inputs[1]].reshape(self.shape), out=out)
            out += v[self.inputs[2]].reshape(self.shape)
        else:
            out[...] = self.normalized

    def backward(self, v: list, g: list) -> None:
        grad, axes, count = g[self.output], self.axes, self.count
        if self.affine:
            if self.needs[2]:
                g[self.inputs[2]][...] = grad.sum(axis=axes, keepdims=True).reshape(-1)
            if self.needs[1]:
                g[self.inputs[1]][...] = (grad * self.normalized).sum(
                    axis=axes, keepdims=True).reshape(-1)
            grad = grad * v[self.inputs[1]].reshape(self.shape)
        if not self.needs[0]:
            return
        if not self.batch_stats:
            np.multiply(grad, self.std, out=g[self.inputs[0]])
            return
        centered, std = self.centered, self.std
        grad_std = (-grad * centered / std**2).sum(axis=axes, keepdims=True)
        grad_squares = np.broadcast_to(grad_std / (2 * std) / count, centered.shape)
        grad_centered = grad / std + grad_squares * centered + grad_squares * centered
        grad_mean = (-grad_centered).sum(axis=axes, keepdims=True)
        np.add(grad_centered, np.broadcast_to(grad_mean / count, centered.shape),
               out=g[self.inputs[0]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, out = name(self.inputs[0]), name(self.output)
        stats = "the batch's mean and var" if self.batch_stats else "the running statistics"
        moved = "; running statistics and num_batches_tracked moved" if self.update else ""
        affine = f" * {name(self.inputs[1])} + {name(self.inputs[2])}" if self.affine else ""
        grads = ", ".join(f"d{name(slot)}" for slot, needed in zip(self.inputs, self.needs)
                          if needed)
        return (f"{out} = ({x} - mean) / sqrt(var + eps){affine}   ({stats}{moved})",
                f"{grads}: eager's chain of ops, replayed on kept arrays")


FORMS = {"dropout": Dropout, "batch_norm": BatchNorm, "mse_loss": MSELoss, "linear": Linear, "relu": ReLU, "cross_entropy": CrossEntropy, "conv2d": Conv2d,
         "max_pool": Pool2d, "avg_pool": Pool2d, "flatten": Flatten}


def build(record: OpRecord, slots: Any) -> Form:
    """The compiled form of one recorded call."""
    return FORMS[record.kind](record, slots)
