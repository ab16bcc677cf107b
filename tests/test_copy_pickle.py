"""Models, tensors and optimizers copy and pickle like Python objects."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minidl
from minidl import nn, optim

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.Adagrad, dict(lr=0.05, lr_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01)),
]


def _model(seed: int = 0) -> nn.Module:
    minidl.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.BatchNorm1d(5), nn.Linear(5, 2))


def _step(model: nn.Module, optimizer: optim.Optimizer, k: int) -> None:
    X = minidl.tensor(np.random.default_rng(k).normal(size=(8, 3)))
    y = minidl.tensor(np.arange(8) % 2)
    optimizer.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    optimizer.step()


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_a_pickled_optimizer_keeps_stepping_on_the_same_trajectory(cls, kwargs):
    model = _model()
    optimizer = cls(model.parameters(), **kwargs, device="cpu")
    for k in range(3):
        _step(model, optimizer, k)
    model2, optimizer2 = pickle.loads(pickle.dumps((model, optimizer)))
    assert type(optimizer2) is cls and optimizer2.param_groups[0]["lr"] == kwargs["lr"]
    assert [id(p) for p in optimizer2.param_groups[0]["params"]] == \
        [id(p) for p in model2.parameters()]
    for k in range(3, 6):
        _step(model, optimizer, k)
        _step(model2, optimizer2, k)
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert str(optimizer.state_dict()) == str(optimizer2.state_dict())


def test_deepcopy_of_an_optimizer_with_its_model_steps_the_copy_only():
    model = _model()
    optimizer = optim.RMSprop(model.parameters(), lr=0.01, device="cpu")
    _step(model, optimizer, 0)
    model2, optimizer2 = copy.deepcopy((model, optimizer))
    before = model.state_dict()
    _step(model2, optimizer2, 1)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert not np.array_equal(model2[0].weight.numpy(), before["0.weight"])


def test_deepcopy_of_a_model_is_an_independent_model_no_optimizer_owns():
    model = _model()
    optimizer = optim.Adam(model.parameters(), lr=0.1, device="cpu")
    _step(model, optimizer, 0)
    best = copy.deepcopy(model)
    saved = best.state_dict()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, saved[name])
    assert all(p._owner is None for p in best.parameters())
    for k in range(1, 3):
        _step(model, optimizer, k)   # the original trains on; the copy stays
    for name, value in best.state_dict().items():
        np.testing.assert_array_equal(value, saved[name])
    assert not np.array_equal(model[0].weight.numpy(), saved["0.weight"])
    # the copy trains with an optimizer of its own, and the first one still steps
    other = optim.SGD(best.parameters(), lr=0.1, device="cpu")
    _step(best, other, 5)
    _step(model, optimizer, 5)
    best[0].weight.data = np.zeros((5, 3), np.float32)   # plain assignment, no owner
    assert not np.array_equal(model[0].weight.numpy(), 0)


def test_pickle_of_a_model_after_an_optimizer_was_built():
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, device="cpu")
    _step(model, optimizer, 0)
    loaded = pickle.loads(pickle.dumps(model))
    X = minidl.tensor(np.ones((4, 3)))
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(model(X).numpy(), loaded(X).numpy())
    assert repr(loaded) == repr(model)


def test_copied_tensors_are_leaves_with_data_grad_and_requires_grad():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    for c in (copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert c.requires_grad and c.is_leaf and c.dtype == np.float32
        np.testing.assert_array_equal(c.grad, [2.0, 4.0])
        assert not np.shares_memory(c.numpy(), x.numpy())
    y = copy.deepcopy(x * 3)   # the graph is not copied: the copy is a leaf
    assert y.is_leaf and y.requires_grad
    np.testing.assert_array_equal(y.numpy(), [3.0, 6.0])


def test_joblib_dump_of_a_fitted_estimators_model(tmp_path):
    joblib = pytest.importorskip("joblib")
    from minidl.sklearn import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    estimator = MLPClassifier(hidden_layer_sizes=(6,), epochs=2, random_state=0).fit(X, y)
    joblib.dump(estimator.model_, tmp_path / "model.joblib")
    model = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_allclose(minidl.predict(model, X), minidl.predict(estimator.model_, X))
    joblib.dump(estimator, tmp_path / "estimator.joblib")
    loaded = joblib.load(tmp_path / "estimator.joblib")
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    loaded.partial_fit(X, y)   # its optimizer came back bound to its model


def test_an_optimizer_pickled_alone_steps_its_own_copies_of_the_params():
    model = _model()
    optimizer = optim.RMSprop([{"params": list(model.parameters())[:2], "lr": 0.1},
                               {"params": list(model.parameters())[2:]}], lr=0.01, device="cpu")
    _step(model, optimizer, 0)
    loaded = pickle.loads(pickle.dumps(optimizer))
    assert [g["lr"] for g in loaded.param_groups] == [0.1, 0.01]
    params = [p for group in loaded.param_groups for p in group["params"]]
    for p, q in zip(params, model.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert p is not q
    for p in params:
        p.grad = np.ones_like(p.numpy())
    before = [p.numpy().copy() for p in model.parameters()]
    loaded.step()
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, model.parameters()))
    assert not np.array_equal(params[0].numpy(), before[0])


def test_a_scheduler_pickles_with_its_optimizer():
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, device="cpu")
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    _step(model, optimizer, 0)
    scheduler.step()
    scheduler2 = pickle.loads(pickle.dumps(scheduler))
    scheduler2.step()
    assert scheduler2.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
