"""The training loop: ``fit``, ``evaluate``, ``predict``, metrics and callbacks.

One epoch of ``fit`` is, for every mini-batch (X_b, y_b) of the training data,

    optimizer.zero_grad();  L_b = loss_fn(model(X_b), y_b);  L_b.backward();  optimizer.step()

and the epoch's loss is the batch losses averaged with the batch sizes n_b as
weights, sum_b n_b L_b / sum_b n_b: the mean over all samples for a loss with
``reduction="mean"``. Training metrics are computed on the outputs the model
gave during the epoch (train mode, weights still moving), as in Keras; the
``val_`` values come from ``evaluate`` after the epoch (eval mode, no grad).

An optimizer whose ``step`` requires a closure (``LBFGS``) gets one per batch
that re-evaluates that batch's loss and gradients (zero_grad, forward,
backward, clipping): ``optimizer.step(closure)``. Its first evaluation repeats
the batch's forward and backward pass; with ``batch_size`` the whole training
set this is full-batch L-BFGS, scikit-learn's ``solver="lbfgs"``.

Regression targets of shape (n,) next to a model output of shape (n, 1) are
reshaped to (n, 1), for the loss and the metrics alike, so a model ending in
``Linear(d, 1)`` trains on a plain target vector. This applies to float
targets only; integer targets are class indices and keep their shape.
"""
from __future__ import annotations

import inspect
import sys
from typing import Any, Callable, Iterable, Protocol, Sequence

import numpy as np

from . import jit
from .data import DataLoader, is_dataset
from .nn import utils as nn_utils
from .nn.utils import clip_grad_norm_
from .grad_mode import no_grad
from .history import History, best_mode
from .monitor import OptimizerStats
from .tensor import Tensor

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping",
           "DivergenceError", "METRICS", "OptimizerStats", "accuracy", "mse", "r2"]

Data = DataLoader | tuple[Any, Any]


# -- metrics ------------------------------------------------------------------------
def _targets_like(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Float targets of shape (n,) reshaped to outputs of shape (n, 1); others as given."""
    if (targets.dtype.kind == "f" and outputs.ndim == targets.ndim + 1
            and outputs.shape[-1] == 1 and outputs.shape[:-1] == targets.shape):
        return targets.reshape(outputs.shape)
    return targets


def accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """The fraction of samples whose predicted class is the target class.

    Outputs (n, C) with C > 1 are logits: prediction argmax_c outputs[i, c],
    targets are integer class indices (n,). Outputs (n,) or (n, 1) are one
    binary logit: prediction 1 when outputs[i] > 0, else 0; targets are 0 or 1.
    """
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        if targets.dtype.kind not in "iub":
            raise ValueError(f"metric 'accuracy' needs integer class targets, got dtype "
                             f"{targets.dtype}; for regression use metrics=('mse', 'r2')")
        predicted = outputs.argmax(axis=1)
    else:
        not_binary = targets[~np.isin(targets, (0, 1))]
        if not_binary.size:
            raise ValueError(
                f"metric 'accuracy' with one output per sample needs binary targets 0 or 1, "
                f"got values such as {not_binary.flat[0]!r}; "
                f"for regression use metrics=('mse', 'r2')")
        predicted = (outputs > 0).astype(np.int64)
    if predicted.size != targets.size:
        raise ValueError(f"metric 'accuracy': outputs of shape {outputs.shape} give "
                         f"{predicted.size} predictions for {targets.size} targets")
    return float(np.mean(predicted.ravel() == targets.ravel()))


def mse(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean squared error, mean over every element of (outputs - targets)^2."""
    outputs = np.asarray(outputs, dtype=np.float64)
    targets = _targets_like(outputs, np.asarray(targets)).astype(np.float64)
    if outputs.shape != targets.shape:
        raise ValueError(f"metric 'mse': outputs of shape {outputs.shape} and targets of "
                         f"shape {targets.shape} differ")
    return float(np.mean((outputs - targets) ** 2))


def r2(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Coefficient of determination, averaged over outputs as sklearn's ``r2_score``.

    R^2 = 1 - sum_i (y_i - f_i)^2 / sum_i (y_i - mean(y))^2, per output column;
    a constant target gives 1 when predicted exactly, else 0.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    targets = _targets_like(outputs, np.asarray(targets)).astype(np.float64)
    if outputs.shape != targets.shape:
        raise ValueError(f"metric 'r2': outputs of shape {outputs.shape} and targets of "
                         f"shape {targets.shape} differ")
    outputs, targets = outputs.reshape(len(outputs), -1), targets.reshape(len(targets), -1)
    residual = ((targets - outputs) ** 2).sum(axis=0)
    total = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
    constant = total == 0
    scores = np.where(constant, (residual == 0).astype(np.float64),
                      1 - residual / np.where(constant, 1, total))
    return float(scores.mean())


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy, "mse": mse, "r2": r2}


def _check_count(name: str, value: Any, minimum: int) -> None:
    """An int from ``minimum`` to sys.maxsize (the longest range Python can count)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not minimum <= value <= sys.maxsize:
        raise ValueError(f"Invalid {name}: {value!r} (needs an int from {minimum} to "
                         f"{sys.maxsize})")


def _check_nonnegative(name: str, value: Any) -> None:
    """A real number >= 0, not bool, not nan: what a threshold such as min_delta must be."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or np.isnan(value) or value < 0:
        raise ValueError(f"Invalid {name}: {value!r} (needs a number >= 0)")


def _check_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for name in names:
        if name not in METRICS:
            raise ValueError(f"Unknown metric: {name!r}; valid metrics: {', '.join(METRICS)}")
    return names


class _EpochTally:
    """An epoch's loss and metrics, gathered batch by batch.

    The loss is sum_b n_b L_b / sum_b n_b; the batches' outputs and targets are
    kept only when there are metrics to compute from them at the end.
    """

    def __init__(self, metrics: tuple[str, ...]) -> None:
        self.metrics = metrics
        self.weighted_loss, self.samples = 0.0, 0
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(self, output: Tensor, loss: Tensor, targets: np.ndarray) -> None:
        self.weighted_loss += loss.item() * len(targets)
        self.samples += len(targets)
        if self.metrics:
            self.outputs.append(output._data)
            self.targets.append(targets)

    def logs(self) -> dict[str, float]:
        logs = {"loss": self.weighted_loss / self.samples}
        if self.metrics:
            outputs, targets = np.concatenate(self.outputs), np.concatenate(self.targets)
            logs.update((name, METRICS[name](outputs, targets)) for name in self.metrics)
        return logs


# -- history and callbacks -----------------------------------------------------------
class Callback(Protocol):
    """What ``fit`` calls. Only ``on_epoch_end`` is required; it returns True to stop.

    ``on_train_begin(model)`` and ``on_train_end(model)``, when defined, run
    before the first and after the last epoch; ``on_train_end`` also runs when
    training stops with an error (a DivergenceError, Ctrl-C). ``epoch`` counts from 0 within
    the ``fit`` call; ``logs`` holds that epoch's values (as in History).
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool: ...


class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves on the best value so far when
    value < best - min_delta (mode "min") or value > best + min_delta ("max");
    "auto" maximises accuracy and r2 and minimises everything else. With
    ``restore_best`` the model gets the weights of its best epoch back when
    training ends (whether it stopped early or ran all epochs). A nan or
    infinite value never improves, nor does an epoch whose weights hold nan
    or inf: a diverged run is never restored.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True, mode: str = "auto"):
        _check_count("patience", patience, 0)
        _check_nonnegative("min_delta", min_delta)
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore_best, self.mode = restore_best, best_mode(monitor, mode)
        self._model: Any = None
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._best_state: dict[str, np.ndarray] | None = None
        self._waited = 0

    def on_train_begin(self, model: Any) -> None:
        self._model, self.best, self.best_epoch, self.stopped_epoch = model, None, None, None
        self._best_state, self._waited = None, 0

    def _improves(self, value: float) -> bool:
        if not np.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit does not "
                             f"report; it reports {', '.join(logs)} (val_ keys need val_data)")
        value = logs[self.monitor]
        if self._improves(value):
            state = self._model.state_dict() if self.restore_best else None
            if state is None or _all_finite(state.values()):
                self.best, self.best_epoch, self._waited = value, epoch, 0
                self._best_state = state
                return False
        self._waited += 1
        if self._waited >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model: Any) -> None:
        if self.restore_best and self._best_state is not None:
            model.load_state_dict(self._best_state)

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, restore_best={self.restore_best}, "
                f"mode={self.mode!r})")


# -- the loops --------------------------------------------------------------------------
class DivergenceError(FloatingPointError):
    """Training produced a nan or infinite loss, or weights: the run diverged.

    ``epoch`` and ``batch`` count from 1 within the ``fit`` call; ``batch`` is
    None when the weights went non-finite in an epoch's last step. ``loss`` is
    the batch loss that stopped training (None for weights).
    """

    def __init__(self, message: str, *, epoch: int | None = None, batch: int | None = None,
                 loss: float | None = None):
        super().__init__(message)
        self.epoch, self.batch, self.loss = epoch, batch, loss


def _all_finite(values: Iterable[Any]) -> bool:
    """No nan or inf among the float entries of ``values`` (arrays or numbers)."""
    arrays = (np.asarray(value) for value in values)
    return all(np.isfinite(a).all() for a in arrays if a.dtype.kind in "fc")


def _diverged(optimizer: Any, epoch: int, what: str, **where: Any) -> DivergenceError:
    """The error ``fit`` raises at the first non-finite loss or weights."""
    groups = getattr(optimizer, "param_groups", None)
    lr = f" (lr={groups[0]['lr']:g})" if groups and "lr" in groups[0] else ""
    return DivergenceError(
        f"fit: {what}: training diverged. Try a smaller learning rate{lr} or standardised "
        f"inputs; fit(..., stop_on_nonfinite=False) trains on regardless",
        epoch=epoch, **where)


def _check_optimizer(optimizer: Any) -> None:
    if not all(callable(getattr(optimizer, name, None)) for name in ("step", "zero_grad")):
        raise TypeError(f"Invalid optimizer: {optimizer!r} (a {type(optimizer).__name__}); fit "
                        f"needs an optimizer object with step() and zero_grad(), e.g. "
                        f"minidl.optim.RMSprop(model.parameters(), lr=1e-3)")


def _dtype(model: Any) -> np.dtype:
    """The float dtype of the model's parameters: the dtype its input should have."""
    first = next(iter(model.parameters()), None)
    return np.dtype(np.float32) if first is None else first.dtype


def _loader(data: Data, batch_size: int, shuffle: bool, seed: int | None,
            dtype: np.dtype) -> DataLoader:
    if not isinstance(data, DataLoader):
        if is_dataset(data):
            data = (data, None)
        elif not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError(f"data must be a DataLoader or an (X, y) pair, or a dataset "
                            f"object, not {type(data).__name__}")
        data = DataLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle, seed=seed,
                          dtype=dtype)
    if data.y is None:   # a DataLoader, or a dataset, without targets
        raise ValueError("data: it has no targets y; fit and evaluate need (X, y)")
    return data


def _batch_loss(model: Any, loss_fn: Callable[..., Tensor], X: Tensor, y: Tensor
                ) -> tuple[Tensor, Tensor, np.ndarray]:
    """The model's output, the loss, and the targets in the output's shape."""
    output = model(X)
    targets = _targets_like(output._data, y._data)
    if targets is not y._data:
        y = Tensor(targets, dtype=targets.dtype)
    return output, loss_fn(output, y), targets


def fit(model: Any, loss_fn: Callable[..., Tensor], optimizer: Any, train_data: Data,
        val_data: Data | None = None, epochs: int = 10, batch_size: int = 32,
        metrics: str | Sequence[str] = ("accuracy",), progress: bool = True,
        callbacks: Iterable[Callback] = (), seed: int | None = None,
        stop_on_nonfinite: bool = True, clip_grad_norm: float | None = None,
        compile: bool = False) -> History:
    """Train ``model`` for ``epochs`` epochs and return the History.

    ``train_data`` and ``val_data`` are DataLoaders or ``(X, y)`` arrays; from
    arrays fit makes a DataLoader of ``batch_size`` (shuffled with ``seed``
    for training, in order for validation). To resume training bit-identically
    later, pass a DataLoader and save it with the checkpoint (see
    ``minidl.checkpoint``). ``metrics`` are names from ``METRICS``.
    ``progress`` shows a tqdm bar over the epochs on stderr, or, when stderr is
    not a terminal (a log file, a pipe), one line per epoch; with False fit
    prints nothing. A callback's ``on_epoch_end`` returning True stops training.
    An LR scheduler is a callback too: it steps once per epoch (see
    ``minidl.optim.lr_scheduler``). ``clip_grad_norm`` clips the gradients'
    joint 2-norm to that value before every step (``minidl.nn.utils.clip_grad_norm_``).
    Float targets of shape (n,) are reshaped to model outputs of shape (n, 1).
    An optimizer with ``train()`` and ``eval()`` (the schedule-free ones) is put
    in train mode for each epoch's steps and in eval mode after them, so
    validation, callbacks and the returned model see its averaged weights.

    A nan or infinite training loss stops training at once, before its
    backward pass, with a DivergenceError naming the epoch and the batch; so
    do weights that are no longer finite at the end of an epoch. Callbacks
    never see that epoch. ``stop_on_nonfinite=False`` trains on regardless.

    ``compile=True`` runs each training step as a ``minidl.compile`` plan (the
    same steps, bit for bit; a model the plan cannot hold trains eagerly after
    one warning). The loss is then checked after its step: a non-finite
    loss raises the same DivergenceError, with that step already taken.
    """
    _check_optimizer(optimizer)
    if not isinstance(compile, (bool, np.bool_)):
        raise TypeError(f"compile must be True or False, not {compile!r}")
    metric_names = _check_metrics(metrics)
    _check_count("epochs", epochs, 0)
    _check_count("batch_size", batch_size, 1)
    if clip_grad_norm is not None and not _positive(clip_grad_norm):
        raise ValueError(f"Invalid clip_grad_norm: {clip_grad_norm!r} (needs a number > 0)")
    dtype = _dtype(model)
    train_loader = _loader(train_data, batch_size, shuffle=True, seed=seed, dtype=dtype)
    val_loader = None if val_data is None else _loader(val_data, batch_size, False, None, dtype)
    callbacks = list(callbacks)
    for callback in callbacks:   # before training, not after the first epoch
        if not callable(getattr(callback, "on_epoch_end", None)):
            raise TypeError(f"Invalid callback: {callback!r:.60} (a {type(callback).__name__}) "
                            f"has no on_epoch_end(epoch, logs) method")
    if not isinstance(stop_on_nonfinite, (bool, np.bool_)):
        raise TypeError(f"stop_on_nonfinite must be True or False, not {stop_on_nonfinite!r}")
    history = History()
    step = _FitStep(model, loss_fn, optimizer, clip_grad_norm) if compile else None
    _call_optional(callbacks, "on_train_begin", model)
    try:
        from tqdm.auto import tqdm   # here, not at import: it slows every start by ~0.1 s
        lines = progress and not progress_bar_redraws()
        with tqdm(range(epochs), desc="fit", unit="epoch", disable=not progress or lines,
                  file=sys.stderr, dynamic_ncols=True) as bar:
            for epoch in bar:
                logs = _train_epoch(model, loss_fn, optimizer, train_loader, metric_names,
                                    epoch + 1, stop_on_nonfinite, clip_grad_norm, step)
                if val_loader is not None:
                    val_logs = evaluate(model, loss_fn, val_loader, metrics=metric_names)
                    logs.update((f"val_{key}", value) for key, value in val_logs.items())
                history.append(logs)
                bar.set_postfix({key: f"{value:.4f}" for key, value in logs.items()}, refresh=False)
                if lines:
                    print(f"fit: epoch {epoch + 1}/{epochs}: " + ", ".join(
                        f"{key}={value:.4f}" for key, value in logs.items()), file=sys.stderr)
                stop = [bool(callback.on_epoch_end(epoch, logs)) for callback in callbacks]
                if any(stop):
                    break
    finally:   # also after an error: EarlyStopping restores, OptimizerStats unhooks
        _call_optional(callbacks, "on_train_end", model)
    return history


def progress_bar_redraws() -> bool:
    """Whether a progress bar can redraw in place: stderr is a terminal, or
    tqdm.auto drew in a notebook. Elsewhere its \\r frames would fill a log."""
    from tqdm import autonotebook, std

    isatty = getattr(sys.stderr, "isatty", None)
    return autonotebook.tqdm is not std.tqdm or (isatty is not None and isatty())


def _positive(value: Any) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and value > 0)


def _call_optional(callbacks: list[Callback], hook: str, model: Any) -> None:
    """Call ``hook(model)`` on each callback that defines it."""
    for callback in callbacks:
        if hasattr(callback, hook):
            getattr(callback, hook)(model)


def _optimizer_mode(optimizer: Any, mode: str) -> None:
    """``optimizer.train()`` or ``.eval()`` where it has them: a schedule-free
    optimizer trains at y and puts x, the average, in the params for evaluating,
    saving and predicting (``minidl.optim.AdamWScheduleFree``)."""
    switch = getattr(optimizer, mode, None)
    if callable(switch):
        switch()


def _train_epoch(model: Any, loss_fn: Callable[..., Tensor], optimizer: Any,
                 loader: DataLoader, metrics: tuple[str, ...], epoch: int,
                 stop_on_nonfinite: bool,
                 clip_grad_norm: float | None = None,
                 compiled: _FitStep | None = None) -> dict[str, float]:
    """One pass over ``loader`` as epoch number ``epoch`` (from 1); with
    ``stop_on_nonfinite``, DivergenceError at the first non-finite batch loss
    and on non-finite weights at the end. ``compiled`` runs the steps it can."""
    model.train()
    _optimizer_mode(optimizer, "train")
    tally = _EpochTally(metrics)
    needs_closure = _needs_closure(optimizer)
    for batch, (X, y) in enumerate(loader, start=1):
        if compiled is not None and compiled.ready:
            output, loss, targets = compiled(X, y)
            if stop_on_nonfinite and not np.isfinite(loss._data).all():
                raise _diverged(optimizer, epoch, f"the training loss is {loss.item()} at "
                                f"epoch {epoch}, batch {batch} (its step was taken: the step "
                                f"was compiled)", batch=batch, loss=loss.item())
            tally.add(output, loss, targets)
            continue
        optimizer.zero_grad()
        output, loss, targets = _batch_loss(model, loss_fn, X, y)
        if stop_on_nonfinite and not np.isfinite(loss._data).all():
            data = ("" if _all_finite([getattr(v, "_data", v) for v in (X, y)])
                    else " (this batch's X or y holds nan or inf)")
            raise _diverged(optimizer, epoch, f"the training loss is {loss.item()} at epoch "
                            f"{epoch}, batch {batch}{data}", batch=batch, loss=loss.item())
        loss.backward()
        if clip_grad_norm is not None:
            clip_grad_norm_(model.parameters(), clip_grad_norm)
        if needs_closure:
            optimizer.step(_batch_closure(model, loss_fn, optimizer, X, y, clip_grad_norm))
        else:
            optimizer.step()
        if compiled is not None:
            compiled.learn(output)
        tally.add(output, loss, targets)
    _optimizer_mode(optimizer, "eval")
    if stop_on_nonfinite:
        bad = [name for name, p in model.named_parameters() if not _all_finite([p._data])]
        if bad:
            raise _diverged(optimizer, epoch, f"the weights hold nan or inf after epoch "
                            f"{epoch} ({', '.join(bad)})")
    return tally.logs()


def _needs_closure(optimizer: Any) -> bool:
    """Whether the optimizer's class's ``step`` takes a closure without a default (LBFGS)."""
    try:
        closure = inspect.signature(type(optimizer).step).parameters.get("closure")
    except (TypeError, ValueError):
        return False
    return closure is not None and closure.default is inspect.Parameter.empty


def _batch_closure(model: Any, loss_fn: Callable[..., Tensor], optimizer: Any, X: Any, y: Any,
                   clip_grad_norm: float | None) -> Callable[[], Tensor]:
    """The closure ``step`` re-evaluates: this batch's loss, its gradients in ``.grad``."""
    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = _batch_loss(model, loss_fn, X, y)[1]
        loss.backward()
        if clip_grad_norm is not None:
            clip_grad_norm_(model.parameters(), clip_grad_norm)
        return loss
    return closure


class _FitStep:
    """fit's training step as a ``minidl.compile`` plan. The first step runs
    eagerly and shows the shape of the model's output, which says whether float
    targets (n,) become (n, 1) (``_targets_like``): that happens before the
    compiled step, so the plan sees targets of the output's shape."""

    def __init__(self, model: Any, loss_fn: Callable[..., Tensor], optimizer: Any,
                 clip_grad_norm: float | None):
        def train_step(X: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
            optimizer.zero_grad()
            output = model(X)
            loss = loss_fn(output, y)
            loss.backward()
            if clip_grad_norm is not None:
                nn_utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            return output, loss
        self.step = jit.compile(train_step)
        self.ready = False
        self.output_shape: tuple[int, ...] = ()

    def learn(self, output: Tensor) -> None:
        """Note the output's shape (after an eager step) past the batch axis."""
        self.output_shape, self.ready = output.shape[1:], True

    def __call__(self, X: Tensor, y: Tensor) -> tuple[Tensor, Tensor, np.ndarray]:
        targets = _targets_like(np.empty((len(y._data), *self.output_shape), bool), y._data)
        if targets is not y._data:
            y = Tensor(targets, dtype=targets.dtype)
        output, loss = self.step(X, y)
        return output, loss, targets


def evaluate(model: Any, loss_fn: Callable[..., Tensor], data: Data,
             metrics: str | Sequence[str] = ("accuracy",), batch_size: int = 256
             ) -> dict[str, float]:
    """``{"loss": ..., metric: ...}`` over ``data`` in eval mode without grad.

    The loss is the batch-size-weighted mean of the batch losses. The model's
    train/eval mode is restored afterwards.
    """
    metric_names = _check_metrics(metrics)
    _check_count("batch_size", batch_size, 1)
    loader = _loader(data, batch_size, shuffle=False, seed=None, dtype=_dtype(model))
    was_training = model.training
    model.eval()
    tally = _EpochTally(metric_names)
    try:
        with no_grad():
            for X, y in loader:
                tally.add(*_batch_loss(model, loss_fn, X, y))
    finally:
        model.train(was_training)
    return tally.logs()


def predict(model: Any, X: Any, batch_size: int = 256, dtype: Any = None) -> np.ndarray:
    """The model's outputs for ``X``, in order, in eval mode without grad.

    X is fed in ``dtype``: by default the dtype of the model's parameters.
    """
    loader = DataLoader(X, batch_size=batch_size, shuffle=False,
                        dtype=_dtype(model) if dtype is None else dtype)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [model(batch)._data for batch in loader]
    finally:
        model.train(was_training)
    return np.concatenate(outputs)
