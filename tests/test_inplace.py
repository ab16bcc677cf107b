"""In-place ops with PyTorch's autograd rules: values, gradients, version counters,
views, the errors that keep a gradient from ever being wrong, and writes that land
in an optimizer's flat buffers."""
import threading

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import Tensor, gradcheck


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True, dtype=dtype)


RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 0.9, (3, 4))     # inside every op's domain (log, atanh, asin, ...)
Y = RNG.uniform(0.2, 0.9, (3, 4))

# name -> (extra arguments) for x.name_(*arguments) against minidl.name(x, *arguments)
UNARY = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg", "sin", "cos", "tan",
         "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "exp2", "log2", "log10",
         "log1p", "expm1", "erf", "rsqrt", "reciprocal", "square", "leaky_relu", "hardtanh",
         "relu6", "elu", "selu", "celu", "silu", "mish", "hardsigmoid", "hardswish", "frac",
         "logit", "erfinv", "nan_to_num"]
WITH_ARGUMENTS = {"pow": (2.5,), "clip": (0.3, 0.7), "clamp": (0.3, 0.7), "fmod": (0.3,),
                  "remainder": (0.3,), "lerp": (Y, 0.25), "copysign": (-Y,),
                  "masked_fill": (X > 0.5, -1.0), "tril": (), "triu": (1,),
                  "clamp_min": (0.5,), "clamp_max": (0.5,), "hypot": (Y,), "atan2": (Y,),
                  "xlogy": (Y,), "float_power": (2.0,), "addcmul": (Y, Y), "addcdiv": (Y, Y + 1),
                  "index_fill": (1, np.array([0, 2]), 0.5),
                  "index_add": (1, np.array([0, 2]), Y[:, :2]),
                  "index_copy": (1, np.array([0, 2]), Y[:, :2]),
                  "masked_scatter": (X > 0.5, Y),
                  "scatter_add": (1, np.array([[0], [3], [1]]), Y[:, :1])}
ARITHMETIC = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


@pytest.mark.parametrize("name", UNARY + list(WITH_ARGUMENTS))
def test_method_writes_the_out_of_place_result(name):
    arguments = WITH_ARGUMENTS.get(name, ())
    out_of_place = getattr(minidl, "clip" if name == "clamp" else name)
    x = Tensor(X.copy(), dtype=np.float64)
    array = x.numpy()
    result = getattr(x, name + "_")(*arguments)
    assert result is x and x.numpy() is array and x._version == 1
    np.testing.assert_allclose(array, out_of_place(Tensor(X, dtype=np.float64),
                                                   *arguments).numpy())


@pytest.mark.parametrize("name", UNARY + list(WITH_ARGUMENTS))
def test_method_gradient_inside_a_graph(name):
    """x.name_() on an intermediate result is differentiated as the out-of-place op."""
    arguments = WITH_ARGUMENTS.get(name, ())
    assert gradcheck(lambda x: getattr(x * 1.0, name + "_")(*arguments) * x, leaf(X))


@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_arithmetic_in_place_values_and_gradients(name):
    x = Tensor(X.copy(), dtype=np.float64)
    getattr(x, name + "_")(Y)
    np.testing.assert_allclose(x.numpy(), ARITHMETIC[name](X, Y))
    assert gradcheck(lambda a, b: getattr(a * 1.0, name + "_")(b), leaf(X), leaf(Y))
    assert gradcheck(lambda a, b: getattr(a * 1.0, name + "_")(b, alpha=0.5)
                     if name in ("add", "sub") else getattr(a * 1.0, name + "_")(b),
                     leaf(X), leaf(Y))


@pytest.mark.parametrize("operator", ["+=", "-=", "*=", "/=", "**="])
def test_augmented_assignment_is_in_place(operator):
    x = Tensor(X.copy(), dtype=np.float64)
    same = x
    exec(f"x {operator} 2.0")
    assert x is same
    np.testing.assert_allclose(x.numpy(), eval(f"X {operator[:-1]} 2.0"))

    def fn(a, b):
        h = a * 1.0
        scope = {"h": h, "b": b}
        exec(f"h {operator} b", scope)
        return scope["h"]
    assert gradcheck(fn, leaf(X), leaf(Y))


def test_int_floor_divide_and_remainder_in_place():
    x = minidl.tensor([7, -7, 9])
    x //= 2
    np.testing.assert_array_equal(x.numpy(), [3, -4, 4])
    x %= 3
    np.testing.assert_array_equal(x.numpy(), np.array([3, -4, 4]) % 3)


def test_zero_fill_copy_scatter():
    x = Tensor(X.copy(), dtype=np.float64)
    assert x.zero_() is x and not x.numpy().any()
    x.fill_(2.5)
    assert (x.numpy() == 2.5).all()
    x.copy_(Y[0])                              # broadcast, as PyTorch's copy_
    np.testing.assert_array_equal(x.numpy(), np.broadcast_to(Y[0], X.shape))
    ints = minidl.tensor([1, 2, 3])
    ints.copy_(minidl.tensor([1.7, -2.7, 3.2]))   # copy_ converts, truncating
    np.testing.assert_array_equal(ints.numpy(), [1, -2, 3])
    z = Tensor(np.zeros((2, 3)), dtype=np.float64)
    z.scatter_(1, minidl.tensor([[2], [0]]), 5.0 * np.ones((2, 1)))
    np.testing.assert_array_equal(z.numpy(), [[0, 0, 5], [5, 0, 0]])


def test_fill_copy_and_setitem_gradients_go_to_the_source():
    assert gradcheck(lambda a, b: (a * 1.0).copy_(b) * a, leaf(X), leaf(Y[0]))
    assert gradcheck(lambda a, v: (a * 1.0).fill_(v) * a, leaf(X), leaf(0.5))

    def write_rows(a, v):
        h = a * 2.0
        h[1] = v
        h[[0, 2], 1:3] = v[:2] * 3.0
        return h * a
    assert gradcheck(write_rows, leaf(X), leaf(Y[0]))

    def masked(a, v):
        h = a * 1.0
        h[X > 0.5] = v
        return h
    assert gradcheck(masked, leaf(X), leaf(0.25))


def test_setitem_and_augmented_item_assignment():
    def fn(a, y):
        h = a * 1.0
        h[0] += y[0]                    # python: v = h[0]; v += y[0]; h[0] = v
        h[:, 1] *= y[:, 1]
        return h
    assert gradcheck(fn, leaf(X), leaf(Y))
    h = Tensor(X.copy(), dtype=np.float64)
    h[0] += 1.0
    h[:, 1] *= 2.0
    h[[1, 2]] -= 3.0                   # advanced index: a copy, then setitem
    expected = X.copy()
    expected[0] += 1.0
    expected[:, 1] *= 2.0
    expected[[1, 2]] -= 3.0
    np.testing.assert_allclose(h.numpy(), expected)


def test_advanced_index_augmented_assignment_in_a_graph_refuses_at_backward():
    """``h[[1, 2]] -= y`` reads a copy of h's rows, then writes into h, which the copy's
    op (getitem) links to: minidl's graph links tensors, not PyTorch's grad_fn nodes,
    so backward refuses rather than follow a link to h's new value (README: From PyTorch)."""
    h = leaf(X) * 1.0
    h[[1, 2]] -= leaf(Y[1:])
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*getitem"):
        h.sum().backward()


def test_in_place_on_views_inside_a_graph():
    def through_view(a, y):
        h = a * 1.0
        row = h[1]
        row.mul_(y[1])                 # writes into h: h's graph learns of it (CopySlices)
        flat = h.view(-1)
        flat[:2].add_(y[0, :2])
        return h * row.sum()
    assert gradcheck(through_view, leaf(X), leaf(Y))


def test_residual_add_and_relu_in_place_as_in_a_resnet_block():
    x, w = leaf(RNG.standard_normal((4, 5))), leaf(RNG.standard_normal((5, 5)))

    def block(x, w):
        out = x @ w
        out += x                       # matmul never reads its output
        return out.relu_()
    assert gradcheck(block, x, w)


def test_in_place_on_a_leaf_that_requires_grad_raises_and_changes_nothing():
    x = leaf(X)
    for attempt in (lambda: x.add_(1.0), lambda: x.zero_(), lambda: x.__setitem__(0, 1.0),
                    lambda: x.normal_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            attempt()
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2.0)
    np.testing.assert_array_equal(x.numpy(), X)
    assert x._version == 0
    with minidl.no_grad():            # the way to update a parameter by hand
        x -= 0.5
    np.testing.assert_allclose(x.numpy(), X - 0.5)
    assert x.is_leaf and x.requires_grad and x._version == 1


@pytest.mark.parametrize("change", ["mul_", "setitem", "via_data", "via_detach", "via_view"])
def test_a_saved_input_changed_in_place_makes_backward_refuse(change):
    a, b = leaf(X), leaf(Y)
    h = a * 1.0
    loss = (h * b).sum()               # mul reads h in its backward
    if change == "mul_":
        h.mul_(2.0)
    elif change == "setitem":
        h[0, 0] = 3.0
    elif change == "via_data":
        h.data.zero_()
    elif change == "via_detach":
        h.detach().add_(1.0)
    else:
        with minidl.no_grad():
            h.view(-1)[0] = 7.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*mul"):
        loss.backward()


@pytest.mark.parametrize("op", ["exp", "tanh", "sqrt", "softmax"])
def test_a_saved_output_changed_in_place_makes_backward_refuse(op):
    out = getattr(leaf(X), op)()
    out.add_(1.0)
    with pytest.raises(RuntimeError, match=f"the output of {op}"):
        out.sum().backward()


@pytest.mark.parametrize("op", ["sigmoid", "relu", "gelu", "log", "abs"])
def test_ops_whose_backward_never_reads_their_output_allow_writing_it(op):
    """versions.OUTPUT_FREE_OPS: their closures keep what they need (a mask, e^-|x|)."""
    assert gradcheck(lambda a: getattr(minidl, op)(a).mul_(a), leaf(X))


def test_a_change_after_backward_is_fine_and_grads_are_right():
    a = leaf(X)
    h = a.exp()
    h.sum().backward(retain_graph=False)
    h.data.mul_(2.0)                  # the graph is spent: nothing to protect
    np.testing.assert_allclose(a.grad.numpy(), np.exp(X))


def test_refused_in_place_calls_change_nothing():
    x = minidl.tensor([1, 2, 3])
    for attempt in (lambda: x.add_(0.5), lambda: x.div_(2), lambda: x.__itruediv__(2),
                    lambda: x.add_(minidl.ones(2, 3, dtype=np.int64))):
        with pytest.raises(RuntimeError):
            attempt()
    np.testing.assert_array_equal(x.numpy(), [1, 2, 3])
    assert x._version == 0
    f = minidl.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        f += minidl.ones(2, 3)
    with pytest.raises(RuntimeError, match="one-element"):
        f.fill_(minidl.ones(2))
    assert f._version == 0 and not f.numpy().any()


def test_version_counter_is_shared_by_views_and_counts_writes():
    x = Tensor(X.copy(), dtype=np.float64)
    row, alias, detached = x[0], x.data, x.detach()
    assert x._version == 0
    row.zero_()
    alias.add_(1.0)
    detached[1, 1] = 5.0
    assert x._version == row._version == alias._version == detached._version == 3
    assert (x.numpy()[0] == 1.0).all() and x.numpy()[1, 1] == 5.0


def test_dtypes_follow_pytorch():
    f32 = minidl.ones(3)
    f32 += np.float64(0.1)                     # stays float32
    f32 *= minidl.tensor([1.0, 2.0, 3.0], dtype=np.float64)
    assert f32.dtype == np.float32
    i = minidl.tensor([1, 2, 3])
    i += True
    i *= 2
    np.testing.assert_array_equal(i.numpy(), [4, 6, 8])
    assert i.dtype == np.int64
    b = minidl.tensor([True, False])
    with pytest.raises(RuntimeError, match="can't be cast"):
        b += 1


def test_random_fills_are_seeded_and_checked():
    minidl.manual_seed(3)
    a = minidl.empty(1000).normal_(2.0, 0.5)
    minidl.manual_seed(3)
    b = minidl.empty(1000).normal_(2.0, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert abs(float(a.numpy().mean()) - 2.0) < 0.1 and abs(float(a.numpy().std()) - 0.5) < 0.05
    u = minidl.empty(1000, dtype=np.float64).uniform_(-3.0, -1.0)
    assert u.dtype == np.float64 and u.numpy().min() >= -3.0 and u.numpy().max() < -1.0
    bits = minidl.empty(1000).bernoulli_(0.25)
    assert set(np.unique(bits.numpy())) <= {0.0, 1.0}
    assert minidl.empty(10).exponential_(2.0).numpy().min() >= 0
    with pytest.raises(RuntimeError, match="std >= 0"):
        minidl.empty(3).normal_(0.0, -1.0)
    with pytest.raises(RuntimeError, match="floating-point"):
        minidl.tensor([1, 2]).normal_()


# -- .grad and .data as Tensors on an optimizer's flat buffers ------------------------
def test_grad_is_a_tensor_on_the_flat_grad_buffer():
    model = nn.Linear(3, 2)
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1)
    assert model.weight.grad is None
    model(minidl.ones(4, 3)).sum().backward()
    grad = model.weight.grad
    assert isinstance(grad, Tensor) and grad is model.weight.grad
    assert np.shares_memory(np.asarray(grad), optimizer._flat[0].grad)
    assert isinstance(grad.data, Tensor) and grad.norm().item() > 0
    grad.zero_()
    assert not optimizer._flat[0].grad[:6].any()
    model.bias.grad = minidl.tensor([1.0, -1.0])      # assigning a Tensor or an array
    model.bias.grad += np.array([1.0, 1.0], np.float32)
    np.testing.assert_array_equal(optimizer._flat[0].grad[6:], [2.0, 0.0])


def test_manual_sgd_matches_the_optimizer():
    """The from-scratch idiom ``p -= lr * p.grad`` moves the parameters, also when an
    optimizer holds them in its flat buffers."""
    def trained(manual: bool):
        minidl.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        optimizer = minidl.optim.SGD(model.parameters(), lr=0.05)
        x, y = minidl.randn(16, 4), minidl.randn(16, 1)
        for _ in range(5):
            optimizer.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            if manual:
                with minidl.no_grad():
                    for p in model.parameters():
                        p -= 0.05 * p.grad
            else:
                optimizer.step()
        return [p.numpy().copy() for p in model.parameters()], optimizer
    manual, optimizer = trained(True)
    stepped, _ = trained(False)
    for a, b in zip(manual, stepped):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    flat = optimizer._flat[0]
    np.testing.assert_array_equal(flat.data[:32], manual[0].reshape(-1))


def test_writes_through_data_land_in_the_flat_buffer_and_mark_it_dirty():
    model = nn.Linear(2, 2)
    optimizer = minidl.optim.RMSprop(model.parameters(), lr=0.01)
    flat = optimizer._flat[0]
    flat.host_dirty = False
    model.weight.data.zero_()
    assert not flat.data[:4].any() and flat.host_dirty
    flat.host_dirty = False
    with minidl.no_grad():
        model.bias[0] = 3.0
    assert flat.data[4] == 3.0 and flat.host_dirty
    nn.init.constant_(model.bias, 0.5)
    np.testing.assert_array_equal(flat.data[4:], [0.5, 0.5])


def test_a_step_between_forward_and_backward_is_refused():
    """The optimizer's step writes the params in place: a graph that read them
    before cannot be differentiated after (PyTorch's GAN-training error)."""
    model = nn.Linear(3, 1)
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1)
    loss = model(minidl.ones(2, 3)).sum()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    optimizer.zero_grad()
    model(minidl.ones(2, 3)).sum().backward()         # a new forward is fine
    assert model.weight.grad is not None


def test_zero_grad_in_place_and_to_none():
    model = nn.Linear(3, 2)
    model(minidl.ones(1, 3)).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and not grad.numpy().any()
    model.zero_grad()
    assert model.weight.grad is None


# -- grad mode ----------------------------------------------------------------------
def test_grad_mode_switches_as_context_managers_and_decorators():
    x = leaf([1.0])
    with minidl.no_grad():
        assert not (x * 2).requires_grad
        with minidl.enable_grad():
            assert (x * 2).requires_grad
        with minidl.set_grad_enabled(True):
            assert (x * 2).requires_grad
    with minidl.inference_mode():
        assert not (x * 2).requires_grad and minidl.is_inference_mode_enabled()
    assert not minidl.is_inference_mode_enabled()
    with minidl.inference_mode(False):
        assert (x * 2).requires_grad

    @minidl.no_grad
    def bare(t):
        return t * 2

    @minidl.no_grad()
    def called(t):
        return t * 2

    @minidl.set_grad_enabled(False)
    def disabled(t):
        return t * 2

    assert minidl.is_grad_enabled()       # decorating changed nothing
    assert not bare(x).requires_grad and not called(x).requires_grad
    assert not disabled(x).requires_grad and minidl.is_grad_enabled()
    minidl.set_grad_enabled(False)        # a plain call sets the mode now
    try:
        assert not minidl.is_grad_enabled()
    finally:
        minidl.set_grad_enabled(True)
    with pytest.raises(TypeError, match="mode must be True or False"):
        minidl.set_grad_enabled("no")


def test_grad_mode_is_per_thread():
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen["other"] = minidl.is_grad_enabled()
        done.set()
    thread = threading.Thread(target=other)
    thread.start()
    with minidl.no_grad():
        inside.set()
        done.wait()
    thread.join()
    assert seen["other"] is True


def test_every_named_in_place_form_is_bound():
    missing = [name for name in UNARY + list(WITH_ARGUMENTS) + list(ARITHMETIC)
               + ["zero", "fill", "copy", "scatter", "scatter_add", "normal", "uniform"]
               if not hasattr(Tensor, name + "_")]
    assert missing == []


# -- PyTorch's inplace=True flags ---------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: nn.ReLU(inplace=True), lambda: nn.LeakyReLU(0.1, inplace=True),
    lambda: nn.ReLU6(inplace=True), lambda: nn.Hardtanh(-0.5, 0.5, inplace=True),
    lambda: nn.ELU(inplace=True), lambda: nn.CELU(0.5, inplace=True),
    lambda: nn.SELU(inplace=True), lambda: nn.SiLU(inplace=True), lambda: nn.Mish(inplace=True),
    lambda: nn.Hardsigmoid(inplace=True), lambda: nn.Hardswish(inplace=True),
    lambda: nn.Threshold(0.1, -1.0, inplace=True)], ids=lambda make: repr(make()))
def test_activation_modules_with_inplace_write_into_their_input(make):
    layer, plain = make(), make()
    plain.inplace = False
    x = Tensor(RNG.standard_normal((3, 4)), dtype=np.float64)
    expected = plain(x).numpy().copy()
    assert layer(x) is x
    np.testing.assert_allclose(x.numpy(), expected)
    assert "inplace=True" in repr(layer)
    w = leaf(RNG.standard_normal((4, 4)))
    assert gradcheck(lambda a, w: make()(a @ w) * a, leaf(X), w)   # on a matmul's output


def test_functional_inplace_flags_and_a_network_of_them():
    import minidl.nn.functional as F
    x = minidl.tensor([-1.0, 0.5, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 0.5, 2.0]
    assert F.leaky_relu(x, 0.2, inplace=True) is x
    y = minidl.tensor([-1.0, 2.0])
    assert F.dropout(y, 0.5, training=False, inplace=True) is y
    minidl.manual_seed(0)
    kept = F.dropout(minidl.ones(1000), 0.5, inplace=True)
    assert set(np.unique(kept.numpy())) <= {0.0, 2.0}
    with pytest.raises(RuntimeError, match="relu_: a leaf Variable"):
        F.relu(leaf([1.0]), inplace=True)
    minidl.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Dropout(0.3, inplace=True),
                        nn.Linear(8, 2), nn.ELU(inplace=True)).double()
    net.eval()                            # dropout off: the gradient is deterministic
    assert gradcheck(lambda a: net(a), leaf(X))


def test_random_fills_take_a_generator():
    generator = minidl.Generator().manual_seed(3)
    first = minidl.empty(5).uniform_(-1.0, 1.0, generator=generator).numpy().copy()
    generator.manual_seed(3)
    np.testing.assert_array_equal(minidl.empty(5).uniform_(-1.0, 1.0, generator=generator).numpy(),
                                  first)
    with pytest.raises(TypeError, match="minidl.Generator"):
        minidl.empty(3).normal_(generator=5)


def test_a_tensor_viewed_at_every_step_keeps_no_list_of_dead_views():
    w = Tensor(X.copy(), requires_grad=True)
    for _ in range(1000):
        (w.T * 2.0).sum()                 # w.T: a view of w, gone at once
    assert len(w._views) < 64


def test_an_in_place_op_on_a_detached_alias_leaves_the_bases_graph_alone():
    """As in PyTorch: ``p.data``/``detach()`` share memory and version, not the graph."""
    p, y = leaf(X), leaf(Y)
    alias = p.detach()
    alias.add_(y)                           # allowed, though p is a leaf that requires grad
    assert alias.requires_grad and p.is_leaf and p._version == 1
    np.testing.assert_allclose(p.numpy(), X + Y)
    alias.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.ones_like(Y))
    assert p.grad is None
