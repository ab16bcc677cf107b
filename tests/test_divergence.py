"""Runs that go bad say so: fit, EarlyStopping, save, the CLI and the estimators on nan or inf."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_moons

import minidl
import minidl.nn as nn
from minidl import optim
from minidl.checkpoint import load, save
from minidl.cli import main
from minidl.data import DataLoader
from minidl.sklearn import MLPClassifier, MLPRegressor
from minidl.train import DivergenceError, EarlyStopping, fit

SMALL = ["train", "--dataset", "moons", "--hidden", "16", "--no-progress"]


def moons(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n_samples=n, noise=0.2, random_state=0)
    return X.astype(np.float32), y


def mlp(seed: int = 0) -> nn.Module:
    minidl.manual_seed(seed)
    return nn.mlp([2, 8, 2], nn.ReLU)


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {key: value.copy() for key, value in model.state_dict().items()}


def test_fit_stops_at_the_first_nonfinite_loss_naming_epoch_and_batch():
    """Batch 3 of each epoch holds an infinite input: the loss is nan there."""
    X, y = moons(64)
    X[20] = np.inf
    model = mlp()
    loader = DataLoader(X, y, batch_size=8, shuffle=False)
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader,
            epochs=5, progress=False)
    error = caught.value
    assert (error.epoch, error.batch) == (1, 3) and np.isnan(error.loss)
    message = str(error)
    assert "the training loss is nan at epoch 1, batch 3 (this batch's X or y holds nan or " \
           "inf)" in message
    assert "smaller learning rate (lr=0.1)" in message and "stop_on_nonfinite=False" in message
    assert all(np.isfinite(value).all() for value in weights(model).values())


def test_fit_stops_a_run_that_diverges_from_a_huge_learning_rate():
    X, y = moons(64)
    model = mlp()
    with np.errstate(all="ignore"), pytest.raises(DivergenceError, match="at epoch 1, batch"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e30), (X, y),
            epochs=5, batch_size=16, progress=False, seed=0)


def test_fit_stops_when_the_last_step_of_an_epoch_makes_the_weights_infinite():
    """One batch per epoch: its loss is finite (about 1e30), the step after it,
    lr * gradient of about 1e10 * 1e29, overflows float32."""
    X, y = moons(16)
    model = mlp()
    cross_entropy = nn.CrossEntropyLoss()
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        fit(model, lambda output, target: cross_entropy(output, target) * 1e30,
            optim.SGD(model.parameters(), lr=1e10), (X, y), epochs=3, batch_size=16,
            progress=False, seed=0)
    assert (caught.value.epoch, caught.value.batch, caught.value.loss) == (1, None, None)
    assert "the weights hold nan or inf after epoch 1 (" in str(caught.value)


def test_stop_on_nonfinite_false_trains_on():
    X, y = moons(64)
    X[20] = np.inf
    model = mlp()
    with np.errstate(all="ignore"):
        history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                      DataLoader(X, y, batch_size=8, shuffle=False), epochs=3, progress=False,
                      stop_on_nonfinite=False)
    assert history.epochs == 3 and np.isnan(history.loss).all()


def test_a_divergence_error_pickles_with_its_fields():
    import pickle

    error = pickle.loads(pickle.dumps(DivergenceError("x", epoch=2, batch=3, loss=np.inf)))
    assert (str(error), error.epoch, error.batch, error.loss) == ("x", 2, 3, np.inf)
    assert isinstance(error, FloatingPointError)


class FakeModel:
    """Holds one number as its state, to follow what EarlyStopping restores."""

    def __init__(self):
        self.value = 0.0

    def state_dict(self):
        return {"value": np.float32(self.value)}

    def load_state_dict(self, state):
        self.value = float(state["value"])


def run_early_stopping(stopper, monitored, states):
    model = FakeModel()
    stopper.on_train_begin(model)
    for epoch, (value, state) in enumerate(zip(monitored, states)):
        model.value = state
        if stopper.on_epoch_end(epoch, {"val_loss": value, "val_accuracy": value}):
            break
    stopper.on_train_end(model)
    return model.value


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_early_stopping_never_takes_nan_as_its_best(monitor):
    nan = float("nan")
    stopper = EarlyStopping(monitor, patience=3)
    values = [nan, 0.5, nan, np.inf if monitor == "val_accuracy" else -np.inf]
    assert run_early_stopping(stopper, values, [1.0, 2.0, 3.0, 4.0]) == 2.0
    assert (stopper.best, stopper.best_epoch) == (0.5, 1)
    stopper = EarlyStopping(monitor, patience=2)
    assert run_early_stopping(stopper, [nan, nan], [1.0, 2.0]) == 2.0  # nothing restored
    assert stopper.best is None and stopper.stopped_epoch == 1


def test_early_stopping_never_restores_nonfinite_weights():
    stopper = EarlyStopping(patience=5)
    assert run_early_stopping(stopper, [1.0, 0.5, 0.4], [1.0, float("nan"), np.inf]) == 1.0
    assert (stopper.best, stopper.best_epoch) == (1.0, 0)


def test_early_stopping_in_a_diverged_fit_keeps_no_best():
    """nan weights still give a finite accuracy (argmax of nan logits is class 0):
    that epoch must not become the best, to be restored at the end."""
    X, y = moons(64)
    model = mlp()
    stopper = EarlyStopping("val_accuracy", patience=10)
    with np.errstate(all="ignore"):
        history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e30),
                      (X, y), val_data=(X, y), epochs=3, batch_size=16, progress=False, seed=0,
                      callbacks=[stopper], stop_on_nonfinite=False)
    assert np.isnan(history.loss).all() and np.isfinite(history.val_accuracy).all()
    assert stopper.best is None and stopper.best_epoch is None


def test_save_refuses_nonfinite_weights_and_keeps_the_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    save(path, model, opt, losses=[0.5, float("nan")])  # nan among the extras is fine
    before = path.read_bytes()
    model[0].weight.data[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"refusing to write .*run\.npz: model/0\.weight "
                                         r"hold nan or inf"):
        save(path, model, opt)
    assert path.read_bytes() == before
    model[0].weight.data[0, 0] = 0.0
    fit(model, nn.CrossEntropyLoss(), opt, moons(16), epochs=1, progress=False)
    state = opt.state_dict()  # the optimizer's state is checked too
    for entry in state["state"].values():
        entry["exp_avg"] = np.full_like(entry["exp_avg"], np.inf)
    with pytest.raises(ValueError, match="optimizer/state/"):
        save(path, model, state)
    assert path.read_bytes() == before
    model[0].weight.data[0, 0] = np.nan
    save(path, model, opt, allow_nonfinite=True)
    assert np.isnan(load(path)["model"]["0.weight"][0, 0])


def test_cli_stops_a_diverging_run_with_one_line_and_keeps_the_checkpoint(capsys, tmp_path):
    path = tmp_path / "run.npz"
    assert main([*SMALL, "--epochs", "1", "--save", str(path)]) == 0
    before = path.read_bytes()
    capsys.readouterr()
    code = main([*SMALL, "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3",
                 "--save", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and "final:" not in out
    assert err.startswith("minidl: error: training diverged at epoch 1/3, batch ")
    assert "non-finite loss (nan); try a smaller --lr than 1e+30" in err
    assert err.count("\n") == 1
    assert path.read_bytes() == before


def test_cli_with_lr_1e308_fails_with_one_line(capsys):
    code = main([*SMALL, "--lr", "1e308", "--epochs", "2"])
    out, err = capsys.readouterr()
    assert code != 0 and "final:" not in out
    assert err.startswith("minidl: error: ") and err.count("\n") == 1 and "1e+308" in err


@pytest.mark.parametrize("estimator", [
    MLPClassifier(optimizer="sgd", learning_rate=1e30, epochs=3, random_state=0),
    MLPRegressor(optimizer="sgd", learning_rate=1e30, epochs=3, random_state=0)])
def test_estimators_raise_sklearns_value_error_for_a_diverged_fit(estimator):
    X, y = moons(64)
    with pytest.raises(ValueError, match=r"^Solver produced non-finite loss \((nan|inf)\) in "
                                         r"batch \d+ at epoch \d+: training diverged; "
                                         r"learning_rate=1e\+30 may be too large\. "
                                         r"The input data may contain large values"):
        estimator.fit(X, y)
