"""The fast paths of a compiled step, each against what it replaces, to the bit:

- the fused loops of ``kernels/nn/fused_cpu.py`` against ``fused_reference`` (the
  numpy calls of the eager ops), on shapes that take every branch of numpy's
  summation order (rows of 1, below 8, up to 128 and beyond, a single column)
  and on NaN, infinities and signed zeros;
- the forms that call them, in steps that take those branches, against eager steps
  (and mse_loss, whose divisor once was a float64 ElementCount);
- an optimizer update prepared once per hyperparameters (``FlatGroup.step``)
  against the same update computed afresh, across a change of lr and a loaded state.
"""
import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.kernels import cpu as update_kernels, reference as update_reference
from minidl.kernels.nn import fused_cpu, fused_reference

# NaN and infinity inputs are part of the cases: numpy says so as it computes them.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

SHAPES = [(1, 1), (5, 1), (200, 1), (64, 10), (7, 3), (64, 128), (300, 3), (3, 700), (2, 20000)]


def special(shape, dtype, seed):
    """Numbers over six decades with a NaN, infinities and zeros of both signs."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)
    flat = a.reshape(-1)
    for i, value in zip(rng.choice(flat.size, min(flat.size, 4), replace=False),
                        (-0.0, 0.0, np.inf, np.nan)):
        flat[i] = value
    return a.astype(dtype)


def assert_bits(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype == bool:
        np.testing.assert_array_equal(got, want)
    else:
        assert np.array_equal(got.reshape(-1).view(np.uint8), want.reshape(-1).view(np.uint8))


def both(call):
    """``call(kernels)`` for fused_cpu and fused_reference, each on fresh copies."""
    return call(fused_cpu), call(fused_reference)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_the_linear_and_relu_loops_match_numpy_to_the_bit(shape, dtype):
    x, grad = special(shape, dtype, 1), special(shape, dtype, 2)
    bias = special(shape[1:], dtype, 3)
    mask = x > 0

    def run(kernels):
        out, relu_mask = x.copy(), np.empty(shape, bool)
        kernels.bias_relu(out, bias, relu_mask)
        sums, masked, masked_sums = (np.empty(shape[1], dtype), np.empty(shape, dtype),
                                     np.empty(shape[1], dtype))
        kernels.column_sums(grad, sums)
        kernels.relu_bias_grad(grad, mask, masked, masked_sums)
        return out, relu_mask, sums, masked, masked_sums
    for got, want in zip(*both(run)):
        assert_bits(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_the_cross_entropy_loops_match_numpy_to_the_bit(shape, dtype):
    x = special(shape, dtype, 4) if shape[0] > 1 else np.ones(shape, dtype)
    x[0] = np.linspace(-3, 3, shape[1])                  # one row without specials
    classes = np.random.default_rng(5).integers(0, shape[1], shape[0])

    def run(kernels):
        shifted, totals = np.empty(shape, dtype), np.empty(shape[0], dtype)
        kernels.shift_rows(x, shifted)
        exps = np.exp(shifted)
        kernels.row_sums(exps, totals)
        losses, loss, grad = np.empty(shape[0], dtype), np.empty((), dtype), np.empty(shape, dtype)
        kernels.cross_entropy_loss(np.log(totals), shifted, classes, shape[0], losses, loss)
        kernels.cross_entropy_grad(exps, totals, classes, dtype(1) / dtype(shape[0]), grad)
        return (shifted, totals, losses, loss, grad, kernels.classes_in_range(classes, shape[1]),
                kernels.classes_in_range(classes, shape[1] - 1),
                kernels.classes_in_range(-classes - 1, shape[1]))
    got, want = both(run)
    for a, b in zip(got[:5], want[:5]):
        assert_bits(a, b)
    assert got[5:] == want[5:] and got[5] is True
    assert np.isfinite(got[3]) or shape[0] > 1


def test_the_sums_take_numpys_pairwise_order():
    """Not a plain running sum: 0.1 added a million times in float32."""
    a = np.full(10**6, 0.1, np.float32)
    out = np.empty(1, np.float32)
    fused_cpu.row_sums(a.reshape(1, -1), out)
    running = np.float32(0)
    for value in a[:4096]:
        running += value
    assert out[0] == a.sum() and np.float32(4096 * 0.1) != running


def eager_and_compiled(make, optimizer, data, steps=30, **loss_options):
    """The same network twice from one seed: losses and parameters after ``steps``
    eager and compiled steps, which must agree to the bit."""
    results, loss_fn = [], loss_options.pop("loss_fn", None)
    for compiled in (False, True):
        minidl.manual_seed(0)
        model = make()
        opt = optimizer(model.parameters())
        loss_fn = loss_fn or nn.CrossEntropyLoss(**loss_options)

        def step(x, y, model=model, opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        run = minidl.compile(step, fallback=False) if compiled else step
        losses = [run(*data(i)).item() for i in range(steps)]
        results.append((losses, [np.asarray(p).copy() for p in model.parameters()], run))
    (eager_losses, eager_params, _), (losses, params, run) = results
    assert losses == eager_losses
    for p, q in zip(eager_params, params):
        assert_bits(q, p)
    return run


def classes_data(rows, features, classes, dtype=np.float32):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, rows, features)).astype(dtype)
    y = rng.integers(0, classes, (4, rows))
    return lambda i: (minidl.tensor(x[i % 4]), minidl.tensor(y[i % 4]))


def test_cross_entropy_sum_over_many_rows_and_classes_in_float64():
    """300 rows and 200 classes: the pairwise sums split in halves; reduction="sum"."""
    run = eager_and_compiled(
        lambda: nn.Sequential(nn.Linear(12, 200), nn.ReLU(), nn.Linear(200, 200)).double(),
        lambda params: minidl.optim.SGD(params, lr=1e-4),
        classes_data(300, 12, 200, np.float64), reduction="sum")
    assert "fused_cpu.relu_bias_grad" in run.plan and "sum of logsumexp" in run.plan


def test_a_frozen_bias_still_masks_the_relu_gradient():
    def make():
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
        model[0].bias.requires_grad_(False)
        return model
    eager_and_compiled(make, lambda params: minidl.optim.RMSprop(params, lr=1e-2),
                       classes_data(50, 8, 3))     # a mean over 50 rows


def test_a_relu_not_after_a_linear_and_a_single_column():
    """Flatten between the linear and the ReLU: the plain ReLU form; a Linear(8, 1)
    before a ReLU: the bias grad is the pairwise sum of one contiguous column."""
    run = eager_and_compiled(
        lambda: nn.Sequential(nn.Linear(8, 16), nn.Flatten(), nn.ReLU(), nn.Linear(16, 1),
                              nn.ReLU(), nn.Linear(1, 3)),
        lambda params: minidl.optim.Adam(params, lr=1e-2), classes_data(200, 8, 3))
    assert "mask = " in run.plan and "relu_bias_grad" in run.plan


def test_mse_loss_of_a_regression_follows_eager_to_the_bit():
    """200 values: the gradient's 1 / 200 in float32, as eager's mean computes it."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 200, 8)).astype(np.float32)
    y = rng.standard_normal((4, 200, 1)).astype(np.float32)
    eager_and_compiled(lambda: nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)),
                       lambda params: minidl.optim.SGD(params, lr=1e-2),
                       lambda i: (minidl.tensor(x[i % 4]), minidl.tensor(y[i % 4])),
                       loss_fn=nn.MSELoss())


def flat_rmsprop(lr=1e-2, seed=0):
    minidl.manual_seed(seed)
    params = [minidl.randn(5, 3, requires_grad=True), minidl.randn(7, requires_grad=True)]
    return params, minidl.optim.RMSprop(params, lr=lr, momentum=0.5, centered=True)


def test_a_prepared_update_is_the_update_computed_afresh():
    """cpu's ``rmsprop.prepare(*args)()`` against ``rmsprop(*args)`` and the reference."""
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal(50).astype(np.float32) for _ in range(5)]
    arrays[2] = np.abs(arrays[2])
    hyper = (0.01, 0.99, 1e-8, 0.1, 0.5, True, False, False, False)
    results = []
    for run in (lambda *a: update_kernels.rmsprop.prepare(*a)(), update_kernels.rmsprop,
                update_reference.rmsprop):
        copies = [a.copy() for a in arrays]
        run(*copies, *hyper)
        results.append(copies)
    for got in results[1:]:
        for a, b in zip(results[0], got):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    for a, b in zip(results[0], results[1]):
        assert_bits(a, b)
    assert not np.array_equal(results[0][0], arrays[0])


def test_the_prepared_update_follows_a_new_lr_and_a_loaded_state():
    """An optimizer that prepared its update keeps to the afresh one through a change
    of lr (a scheduler's) and a load_state_dict that swaps the state buffers."""
    params, opt = flat_rmsprop()
    other_params, other = flat_rmsprop(seed=1)
    grads = np.random.default_rng(10).standard_normal((12, 22)).astype(np.float32)

    def step(optimizer, group_params, grad):
        for p, lo, hi in zip(group_params, (0, 15), (15, 22)):
            p.grad = minidl.tensor(grad[lo:hi].reshape(p.shape))
        optimizer.step()
    for i in range(3):
        step(opt, params, grads[i])
        step(other, other_params, grads[i])
    opt.param_groups[0]["lr"] = other.param_groups[0]["lr"] = 0.05
    other.load_state_dict(opt.state_dict())       # new state buffers under a prepared call
    for p, q in zip(other_params, params):
        p.data = q.detach().clone()
    expected = [np.asarray(p).copy() for p in params]
    for i in range(3, 6):
        step(opt, params, grads[i])
        step(other, other_params, grads[i])
    for p, q, before in zip(params, other_params, expected):
        assert_bits(np.asarray(q), np.asarray(p))
        assert np.abs(np.asarray(p) - before).max() > 0.05   # steps of the new lr


def test_the_loops_and_their_reference_share_one_api():
    import inspect

    def api(module):
        return {name: list(inspect.signature(f).parameters) for name, f in vars(module).items()
                if inspect.isfunction(f) and not name.startswith("_")
                and f.__module__ == module.__name__}
    assert api(fused_cpu) == api(fused_reference) and len(api(fused_cpu)) == 8
