"""minidl.sklearn: MLPClassifier and MLPRegressor as scikit-learn estimators."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import minidl
from minidl.random import generator
from minidl.sklearn import MLPClassifier, MLPRegressor

# Small and fast, yet fitting well enough for check_classifiers_train (accuracy > 0.83)
# and check_regressors_train (R^2 > 0.5) with a wide margin (about 0.93 and 0.86+).
CHECKED = [MLPClassifier((16,), learning_rate=1e-2, batch_size=32, epochs=50),
           MLPRegressor((16,), learning_rate=1e-2, batch_size=32, epochs=50)]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=200, centers=3, cluster_std=1.0, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return load_digits(return_X_y=True)


def small_classifier(**params) -> MLPClassifier:
    return MLPClassifier(**{"hidden_layer_sizes": (16,), "learning_rate": 1e-2,
                            "batch_size": 32, "epochs": 10, "random_state": 0, **params})


# -- accuracy on real data ------------------------------------------------------------
def test_digits_accuracy_reaches_97_percent(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    model = MLPClassifier(hidden_layer_sizes=(128, 128), optimizer="rmsprop",
                          learning_rate=1e-3, batch_size=64, epochs=30, random_state=0)
    model.fit(scaler.transform(X_train), y_train)
    assert model.score(scaler.transform(X_test), y_test) >= 0.97
    assert model.n_iter_ == 30 and len(model.loss_curve_) == 30
    assert model.loss_curve_[-1] < 0.1 * model.loss_curve_[0]


def test_grid_search_in_a_pipeline(digits):
    X, y = digits
    pipeline = make_pipeline(StandardScaler(), MLPClassifier((32,), epochs=5, random_state=0))
    grid = {"mlpclassifier__optimizer": ["rmsprop", "adam"],
            "mlpclassifier__learning_rate": [1e-3, 1e-2]}
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert set(search.best_params_) == set(grid)
    assert search.best_params_["mlpclassifier__optimizer"] in ("rmsprop", "adam")
    assert search.best_score_ > 0.85
    assert search.best_score_ == pytest.approx(max(search.cv_results_["mean_test_score"]))
    assert search.score(X, y) > 0.9


# -- the model against closed forms ------------------------------------------------------
def test_regressor_without_hidden_layers_is_least_squares():
    """hidden_layer_sizes=() makes z = W x + b; noise-free y = X w + c gives W = w, b = c."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    w, c = np.array([1.5, -2.0, 0.5]), 0.75
    model = MLPRegressor((), optimizer="sgd", learning_rate=0.1, batch_size=200, epochs=300,
                         random_state=0).fit(X, X @ w + c)
    weight, bias = (p.numpy() for p in model.model_.parameters())
    np.testing.assert_allclose(weight.ravel(), w, atol=1e-3)
    np.testing.assert_allclose(bias, [c], atol=1e-3)
    np.testing.assert_allclose(model.predict(X), X @ w + c, atol=1e-3)


def test_binary_probabilities_are_the_sigmoid_of_the_logit(blobs):
    X, y = blobs
    labels = np.where(y == 0, "cat", "dog")
    model = small_classifier().fit(X, labels)
    logits = model.decision_function(X)
    proba = model.predict_proba(X)
    assert logits.shape == (len(X),) and proba.dtype == np.float64
    np.testing.assert_allclose(proba[:, 1], expit(logits), rtol=1e-12)
    np.testing.assert_allclose(np.log(proba), model.predict_log_proba(X), rtol=1e-9)
    np.testing.assert_array_equal(model.predict(X), np.where(logits > 0, "dog", "cat"))
    assert model.n_outputs_ == 1 and model.score(X, labels) > 0.93


def test_multiclass_string_labels_and_softmax(blobs):
    X, y = blobs
    names = np.array(["red", "green", "blue"])[y]
    model = small_classifier().fit(X, names)
    np.testing.assert_array_equal(model.classes_, ["blue", "green", "red"])
    logits = model.decision_function(X)
    assert logits.shape == (len(X), 3)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(X), softmax / softmax.sum(axis=1,
                                                                             keepdims=True))
    np.testing.assert_array_equal(model.predict(X), model.classes_[logits.argmax(axis=1)])
    assert model.score(X, names) > 0.93


def test_regressor_with_two_outputs():
    X, Y = make_regression(n_samples=200, n_features=5, n_targets=2, noise=1.0, random_state=0)
    Y = StandardScaler().fit_transform(Y)
    model = MLPRegressor((32,), learning_rate=1e-2, batch_size=32, epochs=40,
                         random_state=0).fit(X, Y)
    assert model.n_outputs_ == 2 and model.predict(X).shape == (200, 2)
    assert model.score(X, Y) > 0.95
    assert model.fit(X, Y[:, 0]).predict(X).shape == (200,)


# -- sklearn's parameter conventions ------------------------------------------------------
def test_clone_get_params_set_params(blobs):
    X, y = blobs
    model = small_classifier(optimizer="adam").fit(X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")
    assert copy.set_params(optimizer="sgd", learning_rate=0.1) is copy
    assert copy.get_params()["optimizer"] == "sgd" and copy.learning_rate == 0.1
    assert model.optimizer == "adam"
    assert type(copy.fit(X, y).optimizer_).__name__ == "SGD"
    assert type(model.optimizer_).__name__ == "Adam"
    pipeline = make_pipeline(StandardScaler(), small_classifier())
    pipeline.set_params(mlpclassifier__hidden_layer_sizes=(8, 4))
    assert pipeline.get_params()["mlpclassifier__hidden_layer_sizes"] == (8, 4)


@pytest.mark.parametrize("optimizer, kind, momentum", [
    ("sgd", "SGD", 0), ("momentum", "SGD", 0.9), ("adagrad", "Adagrad", None),
    ("rmsprop", "RMSprop", None), ("adam", "Adam", None), ("adamw", "AdamW", None)])
def test_optimizer_names_pick_minidl_optimizers(blobs, optimizer, kind, momentum):
    X, y = blobs
    model = small_classifier(optimizer=optimizer, learning_rate=0.05, weight_decay=1e-4,
                             epochs=3).fit(X, y)
    group = model.optimizer_.param_groups[0]
    assert type(model.optimizer_).__name__ == kind
    assert group["lr"] == 0.05 and group["weight_decay"] == 1e-4
    if momentum is not None:
        assert group["momentum"] == momentum
    assert model.loss_curve_[-1] < model.loss_curve_[0]


# -- reproducibility --------------------------------------------------------------------
def test_same_random_state_same_model_and_global_generator_untouched(blobs):
    X, y = blobs
    state = generator().bit_generator.state
    first = small_classifier(random_state=7).fit(X, y).predict_proba(X)
    assert generator().bit_generator.state == state
    minidl.manual_seed(123)
    second = small_classifier(random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    third = small_classifier(random_state=8).fit(X, y).predict_proba(X)
    assert np.abs(first - third).max() > 1e-3


def test_random_state_as_a_random_state_instance(blobs):
    X, y = blobs
    first = small_classifier(random_state=np.random.RandomState(3)).fit(X, y)
    second = small_classifier(random_state=np.random.RandomState(3)).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


# -- partial_fit ------------------------------------------------------------------------
def test_partial_fit_trains_warm(blobs):
    X, y = blobs
    model = small_classifier()
    model.partial_fit(X, y, classes=[0, 1, 2])
    optimizer, first_loss = model.optimizer_, log_loss(y, model.predict_proba(X))
    for _ in range(9):
        model.partial_fit(X, y)
    assert model.optimizer_ is optimizer
    assert model.n_iter_ == 10 and len(model.loss_curve_) == 10
    batches_per_epoch = -(-len(X) // 32)
    steps = {entry["step"] for entry in optimizer.state.values()}
    assert steps == {10 * batches_per_epoch}
    assert log_loss(y, model.predict_proba(X)) < 0.5 * first_loss
    model.set_params(learning_rate=0.05, weight_decay=1e-3).partial_fit(X, y)
    assert model.optimizer_.param_groups[0]["lr"] == 0.05
    assert model.optimizer_.param_groups[0]["weight_decay"] == 1e-3


def test_partial_fit_continues_after_fit_and_after_pickling(blobs):
    X, y = blobs
    model = small_classifier(epochs=5).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    model.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert model.n_iter_ == restored.n_iter_ == 6
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_partial_fit_class_checks(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        small_classifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"not in classes_ \[0, 1\]: \[2\]"):
        small_classifier().partial_fit(X, y, classes=[0, 1])
    model = small_classifier().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="differs from classes_"):
        model.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_regressor_partial_fit_reduces_loss():
    X, y = make_regression(n_samples=200, n_features=4, noise=0.5, random_state=1)
    y = (y - y.mean()) / y.std()
    model = MLPRegressor((16,), learning_rate=1e-2, batch_size=32, random_state=0)
    for _ in range(15):
        model.partial_fit(X, y)
    assert model.loss_curve_[-1] < 0.2 * model.loss_curve_[0]
    with pytest.raises(ValueError, match="y has 2 outputs"):
        model.partial_fit(X, np.column_stack([y, y]))


# -- early stopping ---------------------------------------------------------------------
def test_early_stopping_stops_after_n_iter_no_change(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    model = MLPClassifier((32,), learning_rate=1e-2, epochs=200, early_stopping=True,
                          n_iter_no_change=3, tol=0.0, validation_fraction=0.2,
                          random_state=0).fit(X, y)
    scores = model.validation_scores_
    assert model.n_iter_ < 200
    assert len(scores) == len(model.loss_curve_) == model.n_iter_
    best = int(np.argmax(scores))
    assert model.n_iter_ == best + 1 + 3
    assert model.best_validation_score_ == scores[best] > 0.9


def test_regressor_early_stopping_scores_are_r2():
    X, y = make_regression(n_samples=300, n_features=4, noise=10.0, random_state=0)
    y = (y - y.mean()) / y.std()
    model = MLPRegressor((16,), learning_rate=1e-2, epochs=300, early_stopping=True,
                         n_iter_no_change=5, random_state=0).fit(X, y)
    assert model.n_iter_ < 300
    assert 0.8 < model.best_validation_score_ <= 1.0
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_without_early_stopping_all_epochs_run(blobs):
    X, y = blobs
    model = small_classifier(epochs=4).fit(X, y)
    assert model.n_iter_ == 4 and model.validation_scores_ is None
    assert model.best_validation_score_ is None


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("params, message", [
    ({"optimizer": "foo"}, r"'optimizer' parameter .* Got 'foo'"),
    ({"activation": "softsign"}, r"'activation' parameter .* Got 'softsign'"),
    ({"learning_rate": -0.1}, r"'learning_rate' parameter .* Got -0.1"),
    ({"epochs": 0}, r"'epochs' parameter .* Got 0"),
    ({"batch_size": "big"}, r"'batch_size' parameter .* Got 'big'"),
    ({"validation_fraction": 1.0}, r"'validation_fraction' parameter .* Got 1.0"),
    ({"device": "tpu"}, r"'device' parameter .* Got 'tpu'"),
    ({"hidden_layer_sizes": (16, 0)}, r"Invalid hidden_layer_sizes: \(16, 0\)"),
])
def test_bad_parameters_are_named(blobs, params, message):
    X, y = blobs
    with pytest.raises(ValueError, match=message):
        small_classifier(**params).fit(X, y)
    with pytest.raises(ValueError, match=message):
        MLPRegressor(**params).partial_fit(X, y.astype(float))


def test_bad_data_gives_clear_errors(blobs):
    X, y = blobs
    model = small_classifier()
    with pytest.raises(NotFittedError):
        model.predict(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(bad, y)
    with pytest.raises(ValueError, match="0 sample"):
        model.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="got 1 class: 2"):
        model.fit(X, np.full(len(X), 2))
    with pytest.raises(ValueError, match="Unknown label type"):
        model.fit(X, y + 0.5)
    model.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 2"):
        model.predict(np.column_stack([X, X[:, :1]]))


def test_verbose_shows_a_progress_bar(blobs, capsys):
    X, y = blobs
    small_classifier(epochs=2, verbose=True).fit(X, y)
    assert "2/2" in capsys.readouterr().err
    small_classifier(epochs=2).fit(X, y)
    assert capsys.readouterr().err == ""
