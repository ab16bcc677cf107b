"""minidl.autograd: custom Functions, grad() and backward() from several roots, and
Tensor.backward's PyTorch arguments (gradient=, inputs=, create_graph=)."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
from minidl import Tensor
from minidl.autograd import Function


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * 3 * x ** 2


class ScaleShift(Function):
    """y = scale * x + b with a Python number among the inputs (its gradient: None)."""
    @staticmethod
    def forward(ctx, x, scale, b):
        ctx.scale = scale
        ctx.seen_needs = ctx.needs_input_grad
        return x * scale + b

    @staticmethod
    def backward(ctx, g):
        return g * ctx.scale, None, g          # g for b: summed over the broadcast rows


class SquareAndDouble(Function):
    """Two outputs, x**2 and 2x; backward sees one gradient per output."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x, 2 * x

    @staticmethod
    def backward(ctx, g_square, g_double):
        x, = ctx.saved_tensors
        ctx.grads_seen = (g_square, g_double)
        zero = minidl.zeros_like(x)
        return (zero if g_square is None else g_square * 2 * x) + \
            (zero if g_double is None else g_double * 2)


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_a_function_is_a_node_with_its_own_backward():
    x = leaf([1.0, -2.0, 0.5])
    y = Cube.apply(x)
    assert y.requires_grad and y.grad_fn.name == "CubeBackward"
    np.testing.assert_array_equal(y.numpy(), x.numpy() ** 3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2)
    assert minidl.gradcheck(lambda t: Cube.apply(t) * 2, leaf([0.3, -1.1]))


def test_non_tensor_inputs_needs_input_grad_and_broadcast_gradients():
    x, b = leaf(np.ones((2, 3))), leaf([1.0, 2.0, 3.0])
    y = ScaleShift.apply(x, 2.5, b)
    (y * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.5 * np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 5.0, 7.0])
    assert y.grad_fn.name == "ScaleShiftBackward"
    frozen = Tensor(np.ones(3))
    out = ScaleShift.apply(frozen, 1.0, b)
    assert out.requires_grad


def test_needs_input_grad_and_no_grad_mode():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, k, c):
            seen["needs"], seen["grad_mode"] = ctx.needs_input_grad, minidl.is_grad_enabled()
            return a + c

        @staticmethod
        def backward(ctx, g):
            return g, None, None
    a, c = leaf([1.0]), Tensor(np.array([2.0]))
    Probe.apply(a, 3, c)
    assert seen == {"needs": (True, False, False), "grad_mode": False}
    with minidl.no_grad():
        assert not Probe.apply(a, 3, c).requires_grad


def test_several_outputs_one_backward_zeros_or_none_for_the_unused():
    x = leaf([1.0, 3.0])
    square, double = SquareAndDouble.apply(x)
    (square.sum() + 10 * double.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 20)

    x = leaf([1.0, 3.0])
    square, _ = SquareAndDouble.apply(x)
    square.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())

    class Lazy(SquareAndDouble):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return SquareAndDouble.forward(ctx, x)
    x = leaf([1.0, 3.0])
    square, double = Lazy.apply(x)
    double.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    assert double.grad_fn.name == "LazyBackward"


def test_the_unused_output_gets_none_after_set_materialize_grads_false():
    grads = {}

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 1

        @staticmethod
        def backward(ctx, g1, g2):
            grads["seen"] = (g1 is None, g2 is None)
            return g1 if g2 is None else g2
    x = leaf([1.0])
    first, second = Pair.apply(x)
    second.sum().backward(retain_graph=True)
    assert grads["seen"] == (True, False)
    first.sum().backward()
    assert grads["seen"] == (False, True)     # a second pass starts afresh


def test_setup_context_form_and_non_differentiable_outputs():
    class ArgmaxAndValue(Function):
        @staticmethod
        def forward(x):
            index = x.argmax()
            return x.max(), index

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.index, ctx.shape = output[1].item(), inputs[0].shape

        @staticmethod
        def backward(ctx, g, g_index):
            grad = minidl.zeros(ctx.shape, dtype=minidl.float64)
            grad[ctx.index] = g
            return grad
    x = leaf([1.0, 5.0, 2.0])
    value, index = ArgmaxAndValue.apply(x)
    assert value.requires_grad and not index.requires_grad   # an int64 output
    value.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])

    seen = {}

    class Marked(Function):     # a float output marked: no gradient, zeros in backward
        @staticmethod
        def forward(ctx, x):
            doubled = x * 2
            ctx.mark_non_differentiable(doubled)
            return doubled, (x * 1)

        @staticmethod
        def backward(ctx, g, g_other):
            seen["g"] = g.tolist()
            return 2 * g + g_other
    x = leaf([1.0, 2.0])
    doubled, copy = Marked.apply(x)
    assert not doubled.requires_grad and copy.requires_grad
    (copy * 3).sum().backward()
    assert seen["g"] == [0.0, 0.0] and x.grad.tolist() == [3.0, 3.0]   # torch 2.13's


def test_bad_backward_results_raise_pytorchs_errors():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g
    with pytest.raises(RuntimeError, match=r"TooManyBackward returned an incorrect number "
                                           r"of gradients \(expected 1, got 2\)"):
        TooMany.apply(leaf([1.0])).sum().backward()

    class ExtraNone(TooMany):
        @staticmethod
        def backward(ctx, g):
            return g, None
    x = leaf([1.0])
    ExtraNone.apply(x).sum().backward()
    assert x.grad.numpy().tolist() == [1.0]

    class WrongShape(TooMany):
        @staticmethod
        def backward(ctx, g):
            return minidl.ones(5, dtype=minidl.float64)
    with pytest.raises(RuntimeError, match=r"invalid gradient at index 0 - got \[5\] but "
                                           r"expected shape compatible with \[2\]"):
        WrongShape.apply(leaf([1.0, 2.0])).sum().backward()

    class GradForANumber(ScaleShift):
        @staticmethod
        def backward(ctx, g):
            return g, g.sum(), g
    with pytest.raises(RuntimeError, match="position 2, but the corresponding forward "
                                           "input was not a Tensor"):
        GradForANumber.apply(leaf([1.0]), 2.0, leaf([0.0])).sum().backward()

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1
    with pytest.raises(NotImplementedError, match="backward"):
        NoBackward.apply(leaf([1.0])).sum().backward()
    with pytest.raises(TypeError, match="argument 0 is of type int"):
        class SavesANumber(TooMany):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
        SavesANumber.apply(leaf([1.0]))


def test_a_saved_tensor_written_in_place_refuses_backward():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h)
    with minidl.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    hidden = x * w
    loss = (hidden ** 2).sum()
    gx, gh = minidl.autograd.grad(loss, [x, hidden], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 2 * (x.numpy() * w.numpy()) * w.numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * hidden.numpy())
    assert x.grad is None and w.grad is None
    (gw,) = minidl.autograd.grad([loss, hidden], w, grad_outputs=[None, Tensor(np.ones(2))])
    np.testing.assert_allclose(gw.numpy(), 2 * x.numpy() ** 2 * w.numpy() + x.numpy())
    with pytest.raises(RuntimeError, match="already freed"):
        minidl.autograd.grad(loss, x)


def test_grad_of_an_unused_input():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        minidl.autograd.grad((x * 2).sum(), [x, unused])
    assert minidl.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    zeros = minidl.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)[1]
    np.testing.assert_array_equal(zeros.numpy(), [0.0])
    with pytest.raises(ValueError, match="allow_unused"):
        minidl.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        minidl.autograd.grad((x * 2).sum(), Tensor(np.ones(1)))


def test_create_graph_is_refused_everywhere():
    x = leaf([1.0])
    for call in (lambda: (x * x).sum().backward(create_graph=True),
                 lambda: minidl.autograd.grad((x * x).sum(), x, create_graph=True),
                 lambda: minidl.autograd.backward((x * x).sum(), create_graph=True)):
        with pytest.raises(NotImplementedError, match="second derivatives"):
            call()
    assert x.grad is None


def test_backward_from_several_roots_and_inputs():
    x, w = leaf([1.0, 2.0]), leaf([0.5, 0.5])
    a, b = (x * w).sum(), (x * x).sum()
    minidl.autograd.backward([a, b])
    np.testing.assert_allclose(x.grad.numpy(), w.numpy() + 2 * x.numpy())
    np.testing.assert_allclose(w.grad.numpy(), x.numpy())

    x, w = leaf([1.0, 2.0]), leaf([0.5, 0.5])
    hidden = x * w
    hidden.sum().backward(inputs=[w, hidden])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), x.numpy())
    np.testing.assert_allclose(hidden.grad.numpy(), [1.0, 1.0])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 1).sum().backward(inputs=[])

    y = x * 3
    y.backward(gradient=Tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])
    with pytest.raises(RuntimeError, match="grad_tensors has 1 entries"):
        minidl.autograd.backward([(x * 1).sum(), (x * 2).sum()], [None])


def test_gradcheck_with_pytorchs_signature():
    assert minidl.autograd.gradcheck(Cube.apply, (leaf([0.2, -0.7]),))

    class Wrong(Cube):
        @staticmethod
        def backward(ctx, g):
            return g
    assert minidl.autograd.gradcheck(Wrong.apply, leaf([0.2, -0.7]),
                                     raise_exception=False) is False
    with pytest.raises(minidl.GradcheckError):
        minidl.autograd.gradcheck(Wrong.apply, leaf([0.2, -0.7]))


def test_grad_and_backward_inputs_run_only_the_ops_on_the_way_to_the_inputs():
    """As in PyTorch's engine: a hook of a tensor off the way from the roots to
    ``inputs`` does not fire, and a retained non-leaf on the way gets its .grad
    (torch 2.13: b's hook silent, c.grad == [3, 3] in both cases)."""
    for differentiate in (lambda y, a: minidl.autograd.grad(y, a),
                          lambda y, a: y.backward(inputs=[a])):
        a = minidl.ones(2, requires_grad=True)
        b = minidl.ones(2, requires_grad=True)
        fired = []
        b.register_hook(lambda g: fired.append(g))
        c = a * 2
        c.retain_grad()
        differentiate((c * 3 * b).sum(), a)
        assert fired == [] and b.grad is None
        np.testing.assert_array_equal(c.grad.numpy(), [3.0, 3.0])


def test_a_retained_non_leaf_among_the_inputs_gains_its_gradient_once():
    """torch 2.13: grad(y, c) fills a retained c's .grad too (3), and
    backward(inputs=[c]) adds the gradient once more (6), not twice."""
    a = minidl.ones(2, requires_grad=True)
    c = a * 2
    c.retain_grad()
    y = (c * 3).sum()
    minidl.autograd.grad(y, c, retain_graph=True)
    np.testing.assert_array_equal(c.grad.numpy(), [3.0, 3.0])
    y.backward(inputs=[c])
    np.testing.assert_array_equal(c.grad.numpy(), [6.0, 6.0])


def test_grad_stops_at_the_inputs():
    """The op that made an input is not run when nothing wanted lies behind it (as
    in PyTorch, which never calls it): a heaviside, whose backward raises, is fine."""
    x = minidl.tensor([1.0, -2.0], requires_grad=True)
    step = minidl.heaviside(x, minidl.tensor([0.5]))
    (g,) = minidl.autograd.grad((step * 3).sum(), step)
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])
