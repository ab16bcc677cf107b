"""fit, evaluate, predict, the metrics, History and EarlyStopping."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.metrics import r2_score

import minidl
import minidl.nn as nn
from minidl import optim
from minidl.data import DataLoader
from minidl.train import EarlyStopping, History, accuracy, evaluate, fit, mse, predict, r2


def linear_data(n: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(n)).astype(np.float32)
    return X, y


def moons(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n_samples=n, noise=0.1, random_state=0)
    return X.astype(np.float32), y.astype(np.int64)


def mlp(seed: int = 0, hidden: int = 16) -> nn.Module:
    minidl.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: np.array(p.numpy()) for name, p in model.named_parameters()}


# -- metrics ---------------------------------------------------------------------------
def test_accuracy_of_logits_is_the_argmax_match_rate():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.1, 0.2, 0.3], [5.0, 0.0, 0.0]])
    assert accuracy(logits, np.array([0, 1, 0, 2])) == 0.5


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_accuracy_of_one_binary_logit_thresholds_at_zero(shape):
    logits = np.array([-1.0, 0.5, 2.0, -0.1]).reshape(shape)
    assert accuracy(logits, np.array([0, 1, 0, 1])) == 0.5
    assert accuracy(logits, np.array([0.0, 1.0, 1.0, 0.0])) == 1.0


def test_accuracy_rejects_regression_targets():
    with pytest.raises(ValueError, match="integer class targets"):
        accuracy(np.zeros((3, 2)), np.array([0.5, 1.0, 0.0]))
    with pytest.raises(ValueError, match="binary targets 0 or 1.*0.37"):
        accuracy(np.zeros((3, 1)), np.array([0.37, 1.0, 0.0]))


def test_mse_and_r2_against_closed_forms():
    rng = np.random.default_rng(1)
    y, f = rng.standard_normal(20), rng.standard_normal(20)
    assert mse(f, y) == pytest.approx(np.mean((f - y) ** 2))
    assert r2(f, y) == pytest.approx(1 - np.sum((y - f) ** 2) / np.sum((y - y.mean()) ** 2))
    assert r2(f[:, None], y) == pytest.approx(r2_score(y, f))  # (n, 1) outputs, (n,) targets
    two = rng.standard_normal((20, 2))
    assert r2(two, two[::-1]) == pytest.approx(r2_score(two[::-1], two))
    assert r2(np.full(4, 2.0), np.full(4, 2.0)) == 1.0
    assert r2(np.full(4, 1.0), np.full(4, 2.0)) == 0.0


def test_unknown_metric_lists_the_valid_ones():
    X, y = moons(40)
    model = mlp()
    with pytest.raises(ValueError, match="'f1'.*accuracy, mse, r2"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
            metrics=("f1",), progress=False)


# -- fit ----------------------------------------------------------------------------------
def test_history_holds_the_exact_per_sample_means_when_nothing_moves():
    """With lr=0 every epoch's loss is the MSE of the fixed model over all samples,
    although the batches (4, 4, 2) differ in size; y of shape (n,) meets outputs (n, 1)."""
    X, y = linear_data(10)
    X_val, y_val = linear_data(6, seed=1)
    minidl.manual_seed(0)
    model = nn.Linear(3, 1)
    W, b = model.weight.numpy().astype(np.float64), model.bias.numpy().astype(np.float64)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), (X, y),
                  val_data=(X_val, y_val), epochs=3, batch_size=4, metrics=("mse", "r2"),
                  progress=False, seed=0)
    outputs, val_outputs = X @ W.T + b, X_val @ W.T + b
    assert history.epochs == 3
    assert set(history.keys()) == {"loss", "mse", "r2", "val_loss", "val_mse", "val_r2"}
    np.testing.assert_allclose(history["loss"], [np.mean((outputs[:, 0] - y) ** 2)] * 3,
                               rtol=1e-5)
    np.testing.assert_allclose(history.mse, history.loss, rtol=1e-6)
    np.testing.assert_allclose(history.r2, [r2_score(y, outputs[:, 0])] * 3, rtol=1e-5)
    np.testing.assert_allclose(history.val_loss, [np.mean((val_outputs[:, 0] - y_val) ** 2)] * 3,
                               rtol=1e-5)
    np.testing.assert_allclose(history.val_r2, [r2_score(y_val, val_outputs[:, 0])] * 3,
                               rtol=1e-5)


def test_fit_learns_moons_and_the_val_logs_equal_evaluate():
    X, y = moons()
    model = mlp(hidden=32)
    history = fit(model, nn.CrossEntropyLoss(), optim.RMSprop(model.parameters(), lr=5e-3),
                  (X, y), val_data=(X, y), epochs=10, batch_size=32, progress=False, seed=0)
    assert history.loss[-1] < history.loss[0]
    assert history.val_accuracy[-1] >= 0.93  # a linear boundary gets about 0.87
    final = evaluate(model, nn.CrossEntropyLoss(), (X, y))
    assert final["loss"] == pytest.approx(history.val_loss[-1], rel=1e-6)
    assert final["accuracy"] == history.val_accuracy[-1]
    assert final["accuracy"] == np.mean(predict(model, X).argmax(axis=1) == y)


def test_fit_is_reproducible_with_manual_seed_and_seed():
    X, y = moons(100)
    initial = weights(mlp(seed=3))
    runs = []
    for shuffle_seed in (7, 7, 8):
        model = mlp(seed=3)
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            (X, y), epochs=2, batch_size=16, progress=False, seed=shuffle_seed)
        runs.append(weights(model))
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not any(np.array_equal(runs[0][k], initial[k]) for k in initial)
    assert not any(np.array_equal(runs[0][k], runs[2][k]) for k in initial)  # another order


def test_without_metrics_only_the_loss_is_reported():
    X, y = moons(60)
    model = mlp()
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), (X, y),
                  val_data=(X, y), epochs=2, batch_size=16, metrics=(), progress=False)
    assert set(history.keys()) == {"loss", "val_loss"}
    expected = evaluate(model, nn.CrossEntropyLoss(), (X, y))["loss"]
    np.testing.assert_allclose(history.loss, [expected] * 2, rtol=1e-6)
    np.testing.assert_allclose(history.val_loss, [expected] * 2, rtol=1e-6)
    assert evaluate(model, nn.CrossEntropyLoss(), (X, y), metrics=()) == {"loss": expected}


def test_fit_takes_a_dataloader_and_a_binary_logit_with_float_targets():
    X, y = moons(200)
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    loader = DataLoader(X, y.astype(np.float32), batch_size=20, seed=0)
    history = fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=1e-2),
                  loader, epochs=10, progress=False)
    assert history.accuracy[-1] >= 0.85


def test_progress_false_prints_nothing_and_progress_true_draws_a_bar(capsys):
    X, y = moons(40)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.CrossEntropyLoss(), opt, (X, y), val_data=(X, y), epochs=2, progress=False)
    evaluate(model, nn.CrossEntropyLoss(), (X, y))
    predict(model, X)
    assert capsys.readouterr() == ("", "")
    fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=2, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "2/2" in err and "loss=" in err and "accuracy=" in err


def test_a_callback_returning_true_stops_training():
    class StopAfterTwo:
        def __init__(self):
            self.seen = []

        def on_train_begin(self, model):
            self.seen.append(("begin", model))

        def on_epoch_end(self, epoch, logs):
            self.seen.append((epoch, sorted(logs)))
            return epoch == 1

        def on_train_end(self, model):
            self.seen.append(("end", model))

    X, y = moons(40)
    model = mlp()
    callback = StopAfterTwo()
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                  epochs=10, progress=False, callbacks=[callback])
    assert history.epochs == 2
    assert callback.seen == [("begin", model), (0, ["accuracy", "loss"]),
                             (1, ["accuracy", "loss"]), ("end", model)]


@pytest.mark.parametrize("bad, message", [
    ({"epochs": -1}, "Invalid epochs: -1"),
    ({"epochs": 2.5}, "Invalid epochs: 2.5"),
    ({"batch_size": 0}, "Invalid batch_size: 0"),
])
def test_fit_rejects_bad_counts(bad, message):
    X, y = moons(40)
    model = mlp()
    with pytest.raises(ValueError, match=message):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), (X, y),
            progress=False, **bad)


def test_fit_rejects_data_that_is_not_a_pair_or_a_loader():
    model = mlp()
    with pytest.raises(TypeError, match="DataLoader or an \\(X, y\\) pair"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), np.zeros((4, 2)),
            progress=False)
    with pytest.raises(ValueError, match="no targets"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()),
            DataLoader(np.zeros((4, 2))), progress=False)


# -- evaluate and predict -------------------------------------------------------------------
def test_evaluate_and_predict_use_eval_mode_without_grad_and_restore_the_mode():
    X, y = moons(64)
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    first, second = predict(model, X, batch_size=10), predict(model, X, batch_size=64)
    assert isinstance(first, np.ndarray) and first.shape == (64, 2)
    np.testing.assert_array_equal(first, second)  # no dropout: eval mode
    assert model.training and all(p.grad is None for p in model.parameters())
    logs = evaluate(model, nn.CrossEntropyLoss(), (X, y), batch_size=7)
    logits = first.astype(np.float64)
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(64), y])
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["accuracy"] == np.mean(first.argmax(axis=1) == y)
    assert model.training
    model.eval()
    evaluate(model, nn.CrossEntropyLoss(), (X, y))
    assert not model.training


# -- History and EarlyStopping ------------------------------------------------------------------
def test_history_access_best_and_repr():
    history = History()
    for loss, acc in ((0.9, 0.5), (0.4, 0.8), (0.6, 0.7)):
        history.append({"loss": loss, "val_accuracy": acc})
    assert history.epochs == 3 and history["loss"] == history.loss == [0.9, 0.4, 0.6]
    assert history.best("loss") == (2, 0.4)
    assert history.best("val_accuracy") == (2, 0.8)
    assert history.best("val_accuracy", mode="min") == (1, 0.5)
    assert repr(history) == "History(epochs=3, loss=0.6, val_accuracy=0.7)"
    with pytest.raises(AttributeError, match="no 'val_loss'.*loss, val_accuracy"):
        history.val_loss


class FakeModel:
    """Holds one number as its state, to follow what EarlyStopping restores."""

    def __init__(self):
        self.value = 0.0

    def state_dict(self):
        return {"value": self.value}

    def load_state_dict(self, state):
        self.value = state["value"]


def run_early_stopping(stopper, values):
    model = FakeModel()
    stopper.on_train_begin(model)
    stopped_at = None
    for epoch, value in enumerate(values):
        model.value = value
        if stopper.on_epoch_end(epoch, {"val_loss": value, "val_accuracy": value}):
            stopped_at = epoch
            break
    stopper.on_train_end(model)
    return stopped_at, model.value


def test_early_stopping_waits_patience_epochs_and_restores_the_best():
    stopper = EarlyStopping(patience=2)
    assert run_early_stopping(stopper, [1.0, 0.5, 0.6, 0.55, 0.4]) == (3, 0.5)
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (0.5, 1, 3)


def test_early_stopping_min_delta_mode_and_no_restore():
    assert run_early_stopping(EarlyStopping(patience=2, min_delta=0.1),
                              [1.0, 0.95, 0.92, 0.5]) == (2, 1.0)
    assert run_early_stopping(EarlyStopping("val_accuracy", patience=1),
                              [0.5, 0.7, 0.6, 0.9]) == (2, 0.7)
    assert run_early_stopping(EarlyStopping(patience=1, restore_best=False),
                              [0.5, 0.7]) == (1, 0.7)
    assert run_early_stopping(EarlyStopping(patience=5), [3.0, 2.0, 1.0]) == (None, 1.0)


def test_early_stopping_in_fit_stops_gradient_ascent_and_restores_epoch_one():
    """Gradient ascent (maximize=True) makes every epoch worse than the first."""
    X, y = moons(64)
    model = mlp()
    snapshots = []

    class Snapshot:
        def on_epoch_end(self, epoch, logs):
            snapshots.append(weights(model))
            return False

    stopper = EarlyStopping(patience=2)
    history = fit(model, nn.CrossEntropyLoss(),
                  optim.SGD(model.parameters(), lr=0.05, maximize=True), (X, y),
                  val_data=(X, y), epochs=20, batch_size=64, progress=False,
                  callbacks=[Snapshot(), stopper])
    assert history.epochs == 3 and stopper.stopped_epoch == 2 and stopper.best_epoch == 0
    assert history.val_loss[0] < history.val_loss[1] < history.val_loss[2]
    restored = weights(model)
    assert all(np.array_equal(restored[k], snapshots[0][k]) for k in restored)
    assert not all(np.array_equal(restored[k], snapshots[2][k]) for k in restored)


def test_early_stopping_needs_the_monitored_key_and_valid_arguments():
    X, y = moons(40)
    model = mlp()
    with pytest.raises(ValueError, match="'val_loss'.*val_data"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), (X, y),
            epochs=1, progress=False, callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match="Invalid patience: -1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="Invalid patience: 1.5"):
        EarlyStopping(patience=1.5)
    with pytest.raises(ValueError, match="Invalid mode: 'up'"):
        EarlyStopping(mode="up")


def test_fit_and_predict_feed_the_model_its_own_dtype() -> None:
    """float64 arrays from numpy/scikit-learn must not run a float32 model in float64."""
    X = np.random.default_rng(0).standard_normal((20, 3))          # float64
    y = (X[:, 0] > 0).astype(np.int64)
    for dtype in (np.float32, np.float64):
        model = nn.Linear(3, 2, dtype=dtype)
        opt = minidl.optim.SGD(model.parameters(), lr=0.1)
        minidl.fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=1, progress=False)
        assert model.weight.grad.dtype == dtype
        assert minidl.predict(model, X).dtype == dtype


class _FailsAtEpoch:
    """A callback that raises at the end of one epoch, as a diverged run or Ctrl-C would."""

    def __init__(self, epoch: int, model):
        self.epoch, self.model, self.weights = epoch, model, None

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            self.weights = {key: value.copy() for key, value in self.model.state_dict().items()}
            raise KeyboardInterrupt
        return False


def test_on_train_end_runs_after_an_error_so_callbacks_clean_up():
    from minidl.monitor import OptimizerStats

    X, y = make_moons(200, noise=0.2, random_state=0)
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    # mode="max" makes the first epoch the best, so restoring it changes the weights
    stopping = EarlyStopping(monitor="loss", mode="max", patience=10)
    stats, failing = OptimizerStats(optimizer), _FailsAtEpoch(3, model)
    with pytest.raises(KeyboardInterrupt):
        fit(model, nn.CrossEntropyLoss(), optimizer, (X.astype(np.float32), y), epochs=5,
            progress=False, callbacks=[stats, stopping, failing])
    assert "step" not in optimizer.__dict__            # OptimizerStats took its wrapper off
    restored = model.state_dict()                        # EarlyStopping put epoch 1's back
    assert all(np.array_equal(restored[key], value) for key, value in stopping._best_state.items())
    assert not all(np.array_equal(restored[key], value) for key, value in failing.weights.items())
