"""scikit-learn estimators on minidl: ``MLPClassifier`` and ``MLPRegressor``.

Both fit a multi-layer perceptron built from ``minidl.nn`` with an optimizer
from ``minidl.optim`` (RMSprop by default) through ``minidl.fit``. With layer
sizes d_0 = n_features, d_1 .. d_{L-1} = ``hidden_layer_sizes`` and d_L the
number of outputs, the network is

    h_0 = x,    h_l = phi(W_l h_{l-1} + b_l)  (l = 1 .. L-1),    z = W_L h_{L-1} + b_L

with phi the ``activation`` and W_l of shape (d_l, d_{l-1}). The output z and
the loss minimised per sample depend on the task:

    binary       one logit z,     loss = log(1 + exp(-z)) if y = classes_[1] else log(1 + exp(z)),
                                  P(classes_[1] | x) = sigmoid(z)
    multiclass   C logits z,      loss = logsumexp(z) - z_y,   P(c | x) = softmax(z)_c
    regression   k outputs z,     loss = (1/k) sum_j (z_j - y_j)^2

averaged over a mini-batch; ``weight_decay`` adds the optimizer's penalty.

They follow scikit-learn's conventions: ``__init__`` only stores the
parameters, ``fit`` validates them (``_parameter_rules``) and the data,
and learned state ends in ``_``. They work in ``Pipeline``, ``GridSearchCV``
and ``clone``, pickle, and pass ``sklearn.utils.estimator_checks``. Training
runs in float32; predictions are computed in float64 from the float32 weights.
"""
from __future__ import annotations

import inspect
from numbers import Integral
from typing import Any

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _params as params
from . import kernels, nn, optim, threads
from .data import DataLoader
from .random import seeded
from .train import DivergenceError, EarlyStopping, fit, predict

__all__ = ["MLPClassifier", "MLPRegressor"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "gelu": nn.GELU,
    "identity": nn.Identity}

# optimizer name -> (minidl.optim class, the arguments it gets beside lr and weight_decay)
OPTIMIZERS: dict[str, tuple[type, dict[str, Any]]] = {
    "sgd": (optim.SGD, {}),
    "momentum": (optim.SGD, {"momentum": 0.9}),
    "adagrad": (optim.Adagrad, {}),
    "rmsprop": (optim.RMSprop, {}),
    "adam": (optim.Adam, {}),
    "adamw": (optim.AdamW, {}),
    "adafactor": (optim.Adafactor, {}),
    "lbfgs": (optim.LBFGS, {"line_search_fn": "strong_wolfe"}),
    "muon": (optim.MuonWithAuxAdamW, {}),
    "asgd": (optim.ASGD, {}),
    "lion": (optim.Lion, {}),
    "adabelief": (optim.AdaBelief, {}),
    "adamw_schedulefree": (optim.AdamWScheduleFree, {}),
    "sgd_schedulefree": (optim.SGDScheduleFree, {}),
}

PREDICT_BATCH_SIZE = 1024
_SEED_BOUND = np.iinfo(np.int32).max


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, model, training.

    Subclasses define the loss (``_loss_fn``), the validation metric of early
    stopping (``_score_metric``, a ``minidl.train.METRICS`` name) and how
    labels become training targets.
    """

    # What fit checks each parameter against (scikit-learn's wording, public API only).
    _parameter_rules: dict[str, params.Rule] = {
        "hidden_layer_sizes": params.either(params.ARRAY_LIKE, params.integer(1)),
        "activation": params.options(*ACTIVATIONS),
        "optimizer": params.options(*OPTIMIZERS),
        "learning_rate": params.real(0, low_open=True),
        "weight_decay": params.real(0),
        "batch_size": params.either(params.integer(1), params.options("auto")),
        "epochs": params.integer(1),
        "early_stopping": params.BOOLEAN,
        "validation_fraction": params.real(0, 1, low_open=True),
        "n_iter_no_change": params.integer(1),
        "tol": params.real(0),
        "device": params.options("auto", *kernels.BACKENDS),
        "random_state": params.RANDOM_STATE,
        "verbose": params.VERBOSE,
        "compile": params.BOOLEAN,
    }
    _score_metric: str

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 optimizer: str = "rmsprop", learning_rate: float = 1e-3,
                 weight_decay: float = 0.0, batch_size: int | str = 64, epochs: int = 50,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10, tol: float = 1e-4, device: str = "auto",
                 random_state: Any = None, verbose: bool = False, compile: bool = False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.compile = compile

    def _loss_fn(self) -> nn.Module:
        raise NotImplementedError

    def _check_parameters(self) -> None:
        """The rules of ``_parameter_rules``, and a weight decay only where the
        optimizer has one (LBFGS has none)."""
        params.check_parameters(self, self._parameter_rules)
        kind = OPTIMIZERS[self.optimizer][0]
        if self.weight_decay != 0 and "weight_decay" not in inspect.signature(kind).parameters:
            raise ValueError(f"weight_decay={self.weight_decay!r} does not apply to "
                             f"optimizer={self.optimizer!r}, which has no weight decay; use "
                             f"weight_decay=0.0")

    # -- the network and its optimizer ---------------------------------------------
    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
                   for s in sizes):
            raise ValueError(f"Invalid hidden_layer_sizes: {self.hidden_layer_sizes!r} "
                             f"(every layer size must be a positive int)")
        return tuple(int(s) for s in sizes)

    def _build_model(self, seed: int) -> nn.Sequential:
        """Linear layers of ``self._layer_sizes`` with the activation between them."""
        with seeded(seed):   # this thread only: random_state alone sets the weights
            return nn.mlp(self._layer_sizes, ACTIVATIONS[self._activation])

    def _make_optimizer(self) -> optim.Optimizer:
        kind, extra = OPTIMIZERS[self.optimizer]
        if "weight_decay" in inspect.signature(kind).parameters:   # LBFGS has none
            extra = {**extra, "weight_decay": self.weight_decay}
        return kind(self.model_.parameters(), lr=self.learning_rate, device=self.device,
                    **extra)

    def _initialize(self, n_outputs: int) -> None:
        """A new network and optimizer, seeded from ``random_state``."""
        seed = check_random_state(self.random_state).randint(_SEED_BOUND)
        self._rng = np.random.default_rng(seed)
        self._layer_sizes = (self.n_features_in_, *self._hidden_sizes(), n_outputs)
        self._activation = self.activation
        self.n_outputs_ = n_outputs
        self.model_ = self._build_model(self._draw_seed())
        self.optimizer_ = self._make_optimizer()
        self.n_iter_ = 0
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] | None = None
        self.best_validation_score_: float | None = None

    def _draw_seed(self) -> int:
        return int(self._rng.integers(_SEED_BOUND))

    # -- training -------------------------------------------------------------------
    def _train(self, X: np.ndarray, targets: np.ndarray, epochs: int,
               early_stopping: bool) -> None:
        """``epochs`` passes of ``minidl.fit`` over (X, targets), appended to
        ``loss_curve_`` and ``n_iter_``. The optimizer keeps its state; its
        learning rate and weight decay are set from the current parameters, so
        ``set_params(learning_rate=...)`` between ``partial_fit`` calls works.

        With ``early_stopping`` a ``validation_fraction`` of the samples is held
        out (stratified for classifiers); training stops once the validation
        score s_t (accuracy or R^2) has not exceeded the best score so far by
        more than ``tol`` for ``n_iter_no_change`` epochs, and the weights of
        the best epoch are restored.

        A nan or infinite loss or weights raise ValueError, as scikit-learn's
        own MLP does for non-finite weights.
        """
        for group in self.optimizer_.param_groups:   # every group: MuonWithAuxAdamW's two
            group["lr"] = self.learning_rate
            if "weight_decay" in group:
                group["weight_decay"] = self.weight_decay
        val_data, callbacks, metrics = None, [], ()
        if early_stopping:
            stratify = targets if isinstance(self, ClassifierMixin) else None
            X, X_val, targets, targets_val = train_test_split(
                X, targets, test_size=self.validation_fraction, stratify=stratify,
                random_state=self._draw_seed())
            val_data, metrics = (X_val, targets_val), (self._score_metric,)
            callbacks.append(EarlyStopping(monitor=f"val_{self._score_metric}",
                                           patience=self.n_iter_no_change, min_delta=self.tol,
                                           restore_best=True, mode="max"))
        requested = 200 if self.batch_size == "auto" else self.batch_size
        batch_size = int(min(requested, len(X)))
        loader = DataLoader(X, targets, batch_size=batch_size, shuffle=True,
                            seed=self._draw_seed())
        try:
            # errors: the ValueError below says it once; threads: a Dask worker's share
            with np.errstate(all="ignore"), threads.worker_share():
                history = fit(self.model_, self._loss_fn(), self.optimizer_, loader,
                              val_data=val_data, epochs=epochs, batch_size=batch_size,
                              metrics=metrics, progress=bool(self.verbose),
                              callbacks=callbacks, compile=bool(self.compile))
        except DivergenceError as error:
            what = ("parameter weights" if error.batch is None
                    else f"loss ({error.loss}) in batch {error.batch}")
            raise ValueError(
                f"Solver produced non-finite {what} at epoch {self.n_iter_ + error.epoch}: "
                f"training diverged; learning_rate={self.learning_rate!r} may be too large. "
                f"The input data may contain large values and need to be preprocessed."
            ) from error
        self.n_iter_ += history.epochs
        self.loss_curve_ += history["loss"]
        if early_stopping:
            self.validation_scores_ = history[f"val_{self._score_metric}"]
            self.best_validation_score_ = callbacks[0].best

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's outputs z for X, (n_samples, n_outputs), in float64."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return predict(self.model_, X, batch_size=PREDICT_BATCH_SIZE, dtype=np.float64)

    # -- pickling: the optimizer's kernels and flat buffers are not picklable --------
    def __getstate__(self) -> dict[str, Any]:
        """Store the network and optimizer as their state dicts."""
        state = super().__getstate__()
        if "model_" in state:
            state = {**state, "model_": self.model_.state_dict(),
                     "optimizer_": (self.optimizer_.__class__, self.optimizer_.state_dict())}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the network and optimizer (on ``device``) and load their states."""
        model_state = state.pop("model_", None)
        optimizer_class, optimizer_state = state.pop("optimizer_", (None, None))
        super().__setstate__(state)
        if model_state is None:
            return
        self.model_ = self._build_model(seed=0)
        self.model_.load_state_dict(model_state)
        arguments = inspect.signature(optimizer_class).parameters   # not schedule counters
        hyperparameters = {key: value for key, value in optimizer_state["param_groups"][0].items()
                           if key in arguments and key != "params"}
        self.optimizer_ = optimizer_class(self.model_.parameters(), device=self.device,
                                          **hyperparameters)
        self.optimizer_.load_state_dict(optimizer_state)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier trained with minidl (RMSprop by default).

    Two classes use one output logit z and the logistic loss, P(classes_[1]) =
    sigmoid(z); more use one logit per class and softmax cross-entropy.
    Labels may be any sortable values (ints, strings).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; () gives logistic regression.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        phi between the layers (logistic is the sigmoid).
    optimizer : {"sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "adafactor", \
"muon", "lbfgs", "asgd", "lion", "adabelief", "adamw_schedulefree", "sgd_schedulefree"}, \
default="rmsprop"
        The ``minidl.optim`` optimizer with its PyTorch defaults (its package's for
        Lion, AdaBelief and the schedule-free pair); "momentum" is SGD with momentum 0.9;
        "muon" is ``MuonWithAuxAdamW`` (Muon on the weight matrices, AdamW on the
        biases, both with ``learning_rate``: about 0.02 suits it); "lbfgs" is LBFGS with
        the strong Wolfe line search, a full-batch method (give ``batch_size`` >=
        n_samples; torch's LBFGS has lr 1; no weight decay).
    learning_rate : float > 0, default=1e-3
    weight_decay : float >= 0, default=0.0
        L2 penalty (decoupled for "adamw" and "muon"), as the optimizer defines it.
    batch_size : int >= 1 or "auto", default=64
        Mini-batch size, clipped to the number of samples; "auto" is min(200, n_samples).
    epochs : int >= 1, default=50
        Passes over the training data in ``fit``; ``partial_fit`` makes one.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when
        its accuracy has not improved by more than ``tol`` for
        ``n_iter_no_change`` epochs, keeping the best epoch's weights.
    validation_fraction : float in (0, 1), default=0.1
    n_iter_no_change : int >= 1, default=10
    tol : float >= 0, default=1e-4
        The smallest improvement of the validation score that counts.
    device : {"auto", "cpu", "cuda", "reference"}, default="auto"
        The optimizer's kernel backend (see ``minidl.kernels.resolve``).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
    verbose : bool, default=False
        Show a tqdm progress bar over the epochs.
    compile : bool, default=False
        Run each training step as a ``minidl.compile`` plan (the same steps, faster).

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ (for DataFrames), n_outputs_,
    model_ (the ``minidl.nn.Sequential``), optimizer_, loss_curve_ (mean
    training loss per epoch), n_iter_ (epochs trained), validation_scores_ and
    best_validation_score_ (validation accuracy per epoch and its best, with
    early stopping; else None).
    """

    _score_metric = "accuracy"

    def _loss_fn(self) -> nn.Module:
        return nn.BCEWithLogitsLoss() if len(self.classes_) == 2 else nn.CrossEntropyLoss()

    def _set_classes(self, labels: Any) -> None:
        classes = unique_labels(labels)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                             f"to train; got 1 class: {classes.tolist()[0]!r}")
        self.classes_ = classes

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """Binary: 1.0 for classes_[1], else 0.0. Multiclass: the index of y in classes_."""
        unknown = y[~np.isin(y, self.classes_)]
        if unknown.size:
            raise ValueError(f"y contains labels that are not in classes_ "
                             f"{self.classes_.tolist()}: {np.unique(unknown).tolist()}")
        if len(self.classes_) == 2:
            return (y == self.classes_[1]).astype(np.float32)
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train a new network for ``epochs`` epochs on (X, y)."""
        self._check_parameters()
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self._set_classes(y)
        self._initialize(n_outputs=1 if len(self.classes_) == 2 else len(self.classes_))
        self._train(X, self._targets(y), self.epochs, self.early_stopping)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch on (X, y), continuing from the current weights and optimizer state.

        The first call (on an unfitted estimator) must pass ``classes``, every
        label that will ever appear; later calls may repeat it. Early stopping
        does not apply, and the network's shape (``hidden_layer_sizes``,
        ``activation``) and ``optimizer`` stay as the first call made them.
        """
        self._check_parameters()
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit "
                             "(every label y will ever hold), got classes=None")
        if not first and classes is not None \
                and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={classes!r} differs from classes_ "
                             f"{self.classes_.tolist()} of the earlier calls")
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first)
        check_classification_targets(y)
        if first:
            self._set_classes(classes)
            self._initialize(n_outputs=1 if len(self.classes_) == 2 else len(self.classes_))
        self._train(X, self._targets(y), epochs=1, early_stopping=False)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits z: shape (n_samples,) for two classes (z > 0 means
        classes_[1]), else (n_samples, n_classes)."""
        outputs = self._outputs(X)
        return outputs[:, 0] if len(self.classes_) == 2 else outputs

    def predict(self, X: Any) -> np.ndarray:
        """classes_[1] where z > 0 (binary), else classes_[argmax_c z_c]."""
        scores = self.decision_function(X)
        indices = (scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[indices]

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n_samples, n_classes) probabilities: [1 - sigmoid(z), sigmoid(z)] or softmax(z)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log predict_proba, computed stably: [log sigmoid(-z), log sigmoid(z)] or log_softmax(z)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor trained with minidl (RMSprop by default).

    Minimises the mean squared error of k linear outputs; y of shape
    (n_samples,) gives predictions of shape (n_samples,), y of shape
    (n_samples, k) predictions of shape (n_samples, k).

    Parameters are those of ``MLPClassifier``; with ``early_stopping`` the
    validation score is R^2 (``score``).

    Attributes
    ----------
    n_features_in_, feature_names_in_ (for DataFrames), n_outputs_, model_,
    optimizer_, loss_curve_, n_iter_, validation_scores_, best_validation_score_:
    as for ``MLPClassifier``.
    """

    _score_metric = "r2"

    def _loss_fn(self) -> nn.Module:
        return nn.MSELoss()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """X as float32, y as float32 of shape (n_samples, n_outputs)."""
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True,
                             y_numeric=True, reset=reset)
        if y.ndim > 2:
            raise ValueError(f"y must have shape (n_samples,) or (n_samples, n_outputs), "
                             f"got shape {y.shape}")
        self._y_ndim = y.ndim
        return X, y.reshape(len(y), -1).astype(np.float32)

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train a new network for ``epochs`` epochs on (X, y)."""
        self._check_parameters()
        X, y = self._validate(X, y, reset=True)
        self._initialize(n_outputs=y.shape[1])
        self._train(X, y, self.epochs, self.early_stopping)
        return self

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch on (X, y), continuing from the current weights and optimizer
        state (a new network on the first call). Early stopping does not apply;
        see ``MLPClassifier.partial_fit``."""
        self._check_parameters()
        first = not hasattr(self, "model_")
        X, y = self._validate(X, y, reset=first)
        if first:
            self._initialize(n_outputs=y.shape[1])
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} outputs, but {type(self).__name__} was "
                             f"trained on {self.n_outputs_}")
        self._train(X, y, epochs=1, early_stopping=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The outputs z, float64: shape (n_samples,) if trained on a 1-D y."""
        outputs = self._outputs(X)
        return outputs[:, 0] if self._y_ndim == 1 else outputs
