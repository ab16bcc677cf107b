"""A refused call changes nothing: optimizers that refuse a hyperparameter keep
their hands off the parameters, load_state_dict refuses a state it cannot resume
exactly, and BatchNorm refuses an input before counting it (issue 21)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.optim import SGD, Adam, RMSprop, Rprop

OPTIMIZERS = [cls for name in optim.__all__
              if inspect.isclass(cls := getattr(optim, name))
              and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer]


def _held_param() -> tuple[minidl.Tensor, optim.Optimizer]:
    param = minidl.Tensor(np.ones(3, np.float32), requires_grad=True)
    return param, SGD([param], lr=0.5, device="cpu")


def _steps_as_before(param: minidl.Tensor, holder: optim.Optimizer) -> None:
    param.grad = np.ones(3, np.float32)
    holder.step()
    np.testing.assert_allclose(np.asarray(param), 0.5)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_a_refused_constructor_leaves_the_params_with_their_optimizer(cls):
    param, holder = _held_param()
    with pytest.raises(ValueError, match="1e\\+39"):
        cls([param], lr=1e39, device="cpu")
    _steps_as_before(param, holder)


def test_rprop_refusing_its_step_sizes_binds_nothing():
    param, holder = _held_param()
    with pytest.raises(ValueError, match="step_sizes"):
        Rprop([param], step_sizes=(1e-6, 1e39), device="cpu")
    _steps_as_before(param, holder)


def test_a_refused_add_param_group_binds_nothing():
    param, holder = _held_param()
    other = Adam([minidl.zeros(2, requires_grad=True)], device="cpu")
    with pytest.raises(ValueError, match="learning rate"):
        other.add_param_group({"params": [param], "lr": 1e39})
    assert len(other.param_groups) == 1
    _steps_as_before(param, holder)


def test_a_later_invalid_group_keeps_the_earlier_groups_params_unbound():
    param, holder = _held_param()
    fresh = minidl.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="learning rate"):
        RMSprop([{"params": [param]}, {"params": [fresh], "lr": -1.0}], device="cpu")
    _steps_as_before(param, holder)
    with pytest.raises(ValueError, match="more than once"):
        RMSprop([{"params": [param]}, {"params": [param]}], device="cpu")
    before = np.asarray(param).copy()
    param.grad = np.ones(3, np.float32)
    holder.step()
    np.testing.assert_allclose(np.asarray(param), before - 0.5)


# -- load_state_dict ------------------------------------------------------------------
def _stepped(cls: type, **options: object) -> tuple[optim.Optimizer, dict]:
    param = minidl.Tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    optimizer = cls([param], device="cpu", **options)
    param.grad = np.ones(3, np.float32)
    optimizer.step()
    return optimizer, optimizer.state_dict()


@pytest.mark.parametrize("cls,options,buffer", [
    (Adam, {}, "exp_avg"), (Adam, {}, "exp_avg_sq"), (Adam, {"amsgrad": True}, "max_exp_avg_sq"),
    (RMSprop, {}, "square_avg"), (RMSprop, {"centered": True}, "grad_avg"),
    (RMSprop, {"momentum": 0.9}, "momentum_buffer"), (Rprop, {}, "prev"),
    (Rprop, {}, "step_size"), (optim.Adagrad, {}, "sum"), (optim.Adadelta, {}, "acc_delta"),
])
def test_a_state_with_a_step_but_without_a_buffer_is_refused_naming_it(cls, options, buffer):
    target, state = _stepped(cls, **options)
    before = target.state_dict()
    del state["state"][0][buffer]
    with pytest.raises(ValueError, match=f"no '{buffer}'"):
        target.load_state_dict(state)
    after = target.state_dict()
    for key, value in before["state"][0].items():
        np.testing.assert_array_equal(after["state"][0][key], value)


def test_a_momentum_free_sgd_state_needs_no_buffer():
    target, state = _stepped(SGD, lr=0.1)
    assert state["state"] == {}
    target.load_state_dict(state)


@pytest.mark.parametrize("step", [1e300, float("inf"), 2.0**63, -1, "many", None])
def test_an_impossible_step_count_is_refused_clearly(step):
    target, state = _stepped(Adam)
    state["state"][0]["step"] = step
    with pytest.raises(ValueError, match="invalid step"):
        target.load_state_dict(state)
    assert target.state_dict()["state"][0]["step"] == 1


def test_the_largest_step_count_loads_and_steps_on():
    target, state = _stepped(Adam)
    state["state"][0]["step"] = float(2**53)
    target.load_state_dict(state)
    target.step()
    assert target.state_dict()["state"][0]["step"] == 2**53 + 1


# -- BatchNorm -----------------------------------------------------------------------
@pytest.mark.parametrize("layer,shape", [(nn.BatchNorm2d(3), (1, 3, 1, 1)),
                                         (nn.BatchNorm1d(3), (1, 3)),
                                         (nn.BatchNorm1d(3), (1, 3, 1))])
def test_batchnorm_refusing_a_training_input_does_not_count_it(layer, shape):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(minidl.zeros(*shape))
    assert int(np.asarray(layer.num_batches_tracked)) == 0


@pytest.mark.parametrize("layer,shape", [(nn.BatchNorm1d(3), (0, 3)),
                                         (nn.BatchNorm1d(3, momentum=None), (0, 3, 5)),
                                         (nn.BatchNorm2d(3), (0, 3, 4, 4)),
                                         (nn.BatchNorm2d(3), (2, 3, 0, 4))])
def test_batchnorm_trains_on_an_empty_batch_as_pytorch(layer, shape):
    """PyTorch 2.13: the empty result, zero grads, the running statistics as they
    were, and num_batches_tracked counting the batch."""
    x = minidl.zeros(*shape, requires_grad=True)
    y = layer(x)
    assert y.shape == shape and y.dtype == np.float32
    y.sum().backward()
    assert np.asarray(x.grad).shape == shape
    np.testing.assert_array_equal(np.asarray(layer.weight.grad), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(layer.running_mean), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(layer.running_var), np.ones(3))
    assert int(np.asarray(layer.num_batches_tracked)) == 1


# -- restore_rng -------------------------------------------------------------------------
def test_a_refused_restore_rng_changes_no_generator(tmp_path):
    from minidl.checkpoint import CheckpointError, load, restore_rng, save
    from minidl.data import DataLoader
    from minidl.random import generator

    save(tmp_path / "run.npz", epoch=1)   # saved without a loader: no loader state
    checkpoint = load(tmp_path / "run.npz")
    generator().random()   # move the global generator on from the saved state
    before = generator().bit_generator.state
    seeded = DataLoader(np.zeros((4, 1)), batch_size=2, shuffle=True, seed=3)
    with pytest.raises(CheckpointError, match="holds no loader state, but the loader is seeded"):
        restore_rng(checkpoint, seeded)
    checkpoint["rng"]["minidl"] = {"bit_generator": "PCG64", "state": "garbage"}
    with pytest.raises(CheckpointError, match="a generator state numpy refuses"):
        restore_rng(checkpoint)
    assert generator().bit_generator.state == before
