"""The Tensor: construction, dtypes, the autograd engine and the optimizer binding."""
from __future__ import annotations

import weakref

import numpy as np
import pytest

import minidl
from minidl.versions import Version
from minidl import Tensor


# -- construction and dtypes ------------------------------------------------------
def test_float32_by_default_float64_on_request():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.ones(2, dtype=np.float64)).dtype == np.float32
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert minidl.tensor([[1.5]], dtype=np.float64).dtype == np.float64


def test_integers_and_bools_keep_their_kind():
    assert Tensor([1, 2, 3]).dtype.kind == "i"
    assert Tensor(np.array([1, 2], dtype=np.uint8)).dtype == np.uint8
    assert Tensor([True, False]).dtype == bool


def test_requires_grad_needs_a_float_tensor():
    with pytest.raises(TypeError, match="int"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        Tensor([1, 2]).requires_grad = True
    assert Tensor([1.0], requires_grad=True).requires_grad


def test_non_numeric_data_raises():
    with pytest.raises(TypeError, match="dtype"):
        Tensor(["a", "b"])


def test_array_conveniences():
    data = np.arange(6.0).reshape(2, 3)
    x = Tensor(data, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert isinstance(x.numpy(), np.ndarray) and x.numpy() is x.numpy()
    assert isinstance(x.data, Tensor) and not x.data.requires_grad    # PyTorch's .data
    assert x.data.numpy() is x.numpy() and x.data is not x
    np.testing.assert_array_equal(x.numpy(), data)
    assert x.grad is None and x.is_leaf
    assert Tensor([[4.5]]).item() == 4.5 and isinstance(Tensor([3]).item(), int)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        x.item()


def test_detach_shares_data_and_leaves_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    assert x.detach().numpy() is x.numpy()


def test_repr():
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(Tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=float64)"
    assert repr(Tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(Tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"   # as torch's
    assert repr(Tensor([True, False])) == "tensor([ True, False])"
    assert repr(Tensor([1, 2], dtype=np.int32)) == "tensor([1, 2], dtype=int32)"


@pytest.mark.parametrize("make", [minidl.randn, minidl.rand])
def test_random_tensors_follow_the_seed(make):
    minidl.manual_seed(7)
    first = make(2, 3)
    minidl.manual_seed(7)
    second = make((2, 3))
    third = make(2, 3)
    assert first.shape == (2, 3) and first.dtype == np.float32
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    assert not np.array_equal(second.numpy(), third.numpy())
    assert make(4, dtype=np.float64, requires_grad=True).requires_grad


def test_rand_is_uniform_on_the_unit_interval_and_randn_is_normal():
    minidl.manual_seed(0)
    uniform, normal = minidl.rand(10_000).numpy(), minidl.randn(10_000).numpy()
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.02
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1) < 0.05


def test_zeros_and_ones():
    assert np.array_equal(minidl.zeros(2, 3).numpy(), np.zeros((2, 3))) and minidl.zeros(2).dtype == np.float32
    assert np.array_equal(minidl.ones((2,)).numpy(), [1, 1])
    assert minidl.ones(2, dtype=np.float64).dtype == np.float64
    assert minidl.zeros(3, requires_grad=True).requires_grad


@pytest.mark.parametrize("seed", [-1, 1.5, "3"])
def test_manual_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match=repr(seed).replace(".", r"\.")):
        minidl.manual_seed(seed)


@pytest.mark.parametrize("make", [minidl.randn, minidl.rand])
def test_random_tensors_need_a_float_dtype(make):
    with pytest.raises(TypeError, match="int64"):
        make(3, dtype=np.int64)


# -- the engine ---------------------------------------------------------------------
def test_backward_chain_rule():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
    y = (x * x + x * 3).sum()  # dy/dx = 2x + 3, x reached along three paths
    y.backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0, 9.0])


def test_backward_through_a_shared_intermediate():
    """h feeds the output directly and through a longer path: its gradient must be
    complete (both paths summed) before it is passed on to x."""
    x = Tensor([0.5, -1.0], requires_grad=True, dtype=np.float64)
    h = x * 2
    y = (h * h + (h * 3).exp()).sum()  # dy/dh = 2h + 3 e^(3h), dh/dx = 2
    y.backward()
    h_value = 2 * x.numpy()
    np.testing.assert_allclose(x.grad, 2 * (2 * h_value + 3 * np.exp(3 * h_value)))


def test_backward_on_a_leaf_gives_one():
    x = Tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.shape == () and x.grad == 1.0


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with minidl.no_grad():
        assert not minidl.is_grad_enabled()
        y = x * 2
    assert minidl.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with minidl.no_grad():
            1 / 0
    assert minidl.is_grad_enabled()


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 - 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 3])


def test_retain_graph_allows_a_second_backward():
    x = Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [8.0])


def test_backward_through_a_freed_graph_raises():
    x = Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_non_scalar_backward_needs_a_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_long_chain_has_no_recursion_limit():
    x = Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000])


def test_intermediates_keep_no_grad_and_release_the_graph():
    x = Tensor(np.ones(1000), requires_grad=True)
    hidden = x.exp()
    loss = hidden.sum()
    hidden_ref = weakref.ref(hidden)
    del hidden
    assert hidden_ref() is not None, "the graph holds the intermediate until backward"
    loss.backward()
    assert hidden_ref() is None, "backward released the graph"
    with pytest.warns(UserWarning, match="not a leaf"):
        assert loss.grad is None and not loss.is_leaf
    np.testing.assert_allclose(x.grad, np.e, rtol=1e-6)


def test_intermediate_grad_stays_none_with_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    hidden.sum().backward(retain_graph=True)
    with pytest.warns(UserWarning, match="not a leaf"):
        assert hidden.grad is None
    assert x.grad is not None


def test_inputs_that_do_not_require_grad_get_none():
    x, constant = Tensor([1.0], requires_grad=True), Tensor([5.0])
    (x * constant).sum().backward()
    assert constant.grad is None
    np.testing.assert_allclose(x.grad, [5.0])


def test_grad_keeps_the_leaf_dtype():
    x = Tensor([1.0], requires_grad=True)
    (x * Tensor([2.0], dtype=np.float64)).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("assigned", [np.array([0.5, 0.25]), np.array([1, 2])])
def test_assigned_grad_takes_the_tensor_dtype(assigned):
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = assigned
    assert x.grad.dtype == np.float32
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, assigned + 2)


# -- the binding to an optimizer's flat buffers ---------------------------------------
class FakeOwner:
    """Records what a bound tensor tells its owner."""

    def __init__(self):
        self.events: list[str] = []

    def data_assigned(self, tensor):
        self.events.append("data")

    def grad_arrived(self, tensor):
        self.events.append("grad")

    def grad_cleared(self, tensor):
        self.events.append("cleared")


def bound_tensor():
    data_buffer, grad_buffer = np.zeros(8, np.float32), np.zeros(8, np.float32)
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    owner = FakeOwner()
    x._bind(data_buffer[1:7].reshape(2, 3), grad_buffer[1:7].reshape(2, 3), owner, Version())
    return x, data_buffer, grad_buffer, owner


def test_bind_moves_data_into_the_buffer():
    x, data_buffer, _, _ = bound_tensor()
    np.testing.assert_array_equal(data_buffer, [0, 0, 1, 2, 3, 4, 5, 0])
    assert np.shares_memory(x.numpy(), data_buffer)


def test_assigning_data_copies_into_the_view():
    x, data_buffer, _, owner = bound_tensor()
    x.data = np.full((2, 3), 7.0)
    np.testing.assert_array_equal(data_buffer, [0, 7, 7, 7, 7, 7, 7, 0])
    assert np.shares_memory(x.numpy(), data_buffer) and owner.events == ["data"]
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        x.data = np.ones((3, 2))


def test_assigning_grad_copies_into_the_view():
    x, _, grad_buffer, owner = bound_tensor()
    x.grad = np.ones((2, 3))
    x.grad = np.full((2, 3), 2.0)
    np.testing.assert_array_equal(grad_buffer, [0, 2, 2, 2, 2, 2, 2, 0])
    assert np.shares_memory(x.grad, grad_buffer)
    assert owner.events == ["grad"], "the owner hears once that a grad arrived"
    with pytest.raises(ValueError, match=r"\(6,\).*\(2, 3\)"):
        x.grad = np.ones(6)


def test_backward_accumulates_into_the_grad_view():
    x, _, grad_buffer, owner = bound_tensor()
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(grad_buffer, [0, 5, 5, 5, 5, 5, 5, 0])
    x.grad = None
    assert x.grad is None and owner.events == ["grad", "cleared"]
    x.sum().backward()
    np.testing.assert_array_equal(grad_buffer, [0, 1, 1, 1, 1, 1, 1, 0])


def test_bind_carries_an_existing_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([0.5, 0.25])
    grad_buffer = np.zeros(2, np.float32)
    x._bind(np.zeros(2, np.float32), grad_buffer, FakeOwner(), Version())
    np.testing.assert_array_equal(grad_buffer, [0.5, 0.25])


def test_backward_rejects_a_gradient_of_the_wrong_shape():
    """An op whose backward forgets to unbroadcast must fail loudly, not corrupt .grad."""
    x = minidl.Tensor(np.ones(3), requires_grad=True)
    y = minidl.Tensor._make(x.numpy().sum(), (x,), lambda g: (np.ones(1),))
    with pytest.raises(RuntimeError, match=r"shape \(1,\) for an input of shape \(3,\)"):
        y.backward()


def test_float_and_int_of_a_one_element_tensor():
    assert float(minidl.tensor([[2.5]])) == 2.5
    assert int(minidl.tensor(3)) == 3
    with pytest.raises(ValueError, match=r"one element"):
        float(minidl.tensor([1.0, 2.0]))
