"""minidl.datasets: shapes, types, stratified splits, standardisation, errors."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from sklearn import datasets as sk

from minidl import datasets

# name -> (samples, features, classes or None for regression)
EXPECTED = {
    "moons": (1000, 2, 2),
    "circles": (1000, 2, 2),
    "blobs": (1000, 2, 3),
    "classification": (1000, 20, 2),
    "regression": (1000, 10, None),
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
    "digits": (1797, 64, 10),
    "diabetes": (442, 10, None),
}
CLASSIFICATION = [name for name, (_, _, classes) in EXPECTED.items() if classes]


def sorted_rows(X: np.ndarray) -> np.ndarray:
    """The rows of X in lexicographic order: compare two arrays as sets of rows."""
    return X[np.lexsort(X.T[::-1])]


def test_names_lists_every_dataset() -> None:
    assert datasets.names() == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_task_names_the_task_without_loading(name: str) -> None:
    assert datasets.task(name) == ("regression" if EXPECTED[name][2] is None
                                   else "classification")
    assert datasets.task(name) == datasets.load(name).task


def test_task_of_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="Unknown dataset: 'mnist'; valid names: moons"):
        datasets.task("mnist")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_dataset_loads_with_shapes_types_and_task(name: str) -> None:
    n, d, classes = EXPECTED[name]
    split = datasets.load(name)
    n_test = math.ceil(0.2 * n)
    assert split.X_train.shape == (n - n_test, d) and split.X_test.shape == (n_test, d)
    assert split.y_train.shape == (n - n_test,) and split.y_test.shape == (n_test,)
    assert split.X_train.dtype == np.float32 and split.X_test.dtype == np.float32
    assert split.name == name and split.n_features == d and len(split.feature_names) == d
    assert all(isinstance(f, str) for f in split.feature_names)
    if classes is None:
        assert split.task == "regression"
        assert split.n_classes is None and split.class_names is None
        assert split.y_train.dtype == np.float32 and split.y_test.dtype == np.float32
        assert (split.target_mean, split.target_std) == (0.0, 1.0)
    else:
        assert split.task == "classification"
        assert split.n_classes == classes and len(split.class_names) == classes
        assert split.y_train.dtype == np.int64 and split.y_test.dtype == np.int64
        assert set(np.unique(split.y_train)) == set(range(classes))
        assert split.target_mean is None and split.target_std is None


def test_bundled_names_come_from_sklearn() -> None:
    split = datasets.load("iris")
    assert split.class_names == ["setosa", "versicolor", "virginica"]
    assert split.feature_names[0] == "sepal length (cm)"
    assert datasets.load("digits").class_names == [str(k) for k in range(10)]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_splits_are_stratified(name: str) -> None:
    split = datasets.load(name, test_size=0.3)
    y = np.concatenate([split.y_train, split.y_test])
    share = len(split.y_test) / len(y)
    for k in range(split.n_classes):
        assert abs(np.sum(split.y_test == k) - share * np.sum(y == k)) <= 1


def test_stratified_split_keeps_rare_class_proportions() -> None:
    split = datasets.load("classification", n_samples=500, weights=[0.9, 0.1], flip_y=0.0)
    counts_train = np.bincount(split.y_train)
    counts_test = np.bincount(split.y_test)
    assert np.all(np.abs(counts_test - 0.2 * (counts_train + counts_test)) <= 1)
    assert counts_test[1] < counts_test[0] / 4


@pytest.mark.parametrize("name", ["moons", "wine", "digits", "diabetes"])
def test_standardize_uses_training_statistics(name: str) -> None:
    split = datasets.load(name)
    raw = datasets.load(name, standardize=False)
    mean = raw.X_train.astype(np.float64).mean(axis=0)
    std = raw.X_train.astype(np.float64).std(axis=0)
    constant = std == 0
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(split.X_train.std(axis=0)[~constant], 1, rtol=1e-4)
    np.testing.assert_array_equal(split.X_train[:, constant], 0)
    expected_test = (raw.X_test - mean) / np.where(constant, 1, std)
    np.testing.assert_allclose(split.X_test, expected_test, rtol=1e-5, atol=1e-5)
    assert np.abs(split.X_test.mean(axis=0)[~constant]).max() > 1e-3


def test_digits_has_constant_pixels_that_stay_finite() -> None:
    raw = datasets.load("digits", standardize=False)
    assert np.any(raw.X_train.std(axis=0) == 0)
    split = datasets.load("digits")
    assert np.all(np.isfinite(split.X_train)) and np.all(np.isfinite(split.X_test))


def test_standardize_false_returns_raw_bundled_data() -> None:
    split = datasets.load("iris", standardize=False)
    rows = np.concatenate([split.X_train, split.X_test])
    expected = sk.load_iris().data.astype(np.float32)
    np.testing.assert_array_equal(sorted_rows(rows), sorted_rows(expected))


def test_standardize_false_returns_raw_generated_data() -> None:
    split = datasets.load("moons", standardize=False, seed=3)
    X, y = sk.make_moons(n_samples=1000, noise=0.2, random_state=3)
    rows = np.column_stack([np.concatenate([split.X_train, split.X_test]),
                            np.concatenate([split.y_train, split.y_test])])
    expected = np.column_stack([X.astype(np.float32), y])
    np.testing.assert_array_equal(sorted_rows(rows), sorted_rows(expected))


def test_diabetes_is_unscaled_with_its_target_in_its_own_units() -> None:
    split = datasets.load("diabetes", standardize=False)
    raw = sk.load_diabetes(scaled=False)
    rows = np.column_stack([np.concatenate([split.X_train, split.X_test]),
                            np.concatenate([split.y_train, split.y_test])])
    expected = np.column_stack([raw.data, raw.target]).astype(np.float32)
    np.testing.assert_array_equal(sorted_rows(rows), sorted_rows(expected))


def test_standardize_target_maps_regression_targets_and_records_how() -> None:
    raw = datasets.load("diabetes")
    split = datasets.load("diabetes", standardize_target=True)
    assert abs(split.y_train.mean()) < 1e-5 and abs(split.y_train.std() - 1) < 1e-5
    assert split.target_mean == pytest.approx(raw.y_train.astype(np.float64).mean(), rel=1e-6)
    assert split.target_std == pytest.approx(raw.y_train.astype(np.float64).std(), rel=1e-6)
    np.testing.assert_allclose(split.y_test * split.target_std + split.target_mean,
                               raw.y_test, rtol=1e-5)
    np.testing.assert_array_equal(split.X_train, raw.X_train)


def test_standardize_target_rejects_classification() -> None:
    with pytest.raises(ValueError, match="standardize_target.*'iris'"):
        datasets.load("iris", standardize_target=True)


@pytest.mark.parametrize("name", ["moons", "wine", "regression"])
def test_same_seed_gives_same_split_and_another_seed_another(name: str) -> None:
    first, again, other = (datasets.load(name, seed=s) for s in (7, 7, 8))
    for field in ("X_train", "X_test", "y_train", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.y_test, other.y_test) \
        or not np.array_equal(first.X_test, other.X_test)
    assert first.X_test.shape == other.X_test.shape


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="mnist") as error:
        datasets.load("mnist")
    for name in EXPECTED:
        assert name in str(error.value)


@pytest.mark.parametrize("test_size", [0, 1, -0.1, 1.5, "0.2", True, None])
def test_bad_test_size_is_rejected(test_size: object) -> None:
    with pytest.raises(ValueError, match="test_size"):
        datasets.load("iris", test_size=test_size)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, 2**32])
def test_bad_seed_is_rejected(seed: object) -> None:
    with pytest.raises(ValueError, match=rf"Invalid seed: {seed!r} \(needs an int in "
                                         rf"\[0, 4294967295\]\)"):
        datasets.load("moons", seed=seed)


def test_the_largest_seed_scikit_learn_accepts_works() -> None:
    assert len(datasets.load("moons", seed=2**32 - 1).y_test) == 200


def test_test_size_sets_the_held_out_fraction() -> None:
    split = datasets.load("moons", test_size=0.5)
    assert len(split.y_train) == len(split.y_test) == 500
    assert len(datasets.load("iris", test_size=np.float32(0.5), seed=np.int64(1)).y_test) == 75


def test_options_pass_through_to_the_generator() -> None:
    assert datasets.load("moons", n_samples=300).X_train.shape == (240, 2)
    blobs = datasets.load("blobs", centers=5, n_features=4)
    assert blobs.n_classes == 5 and blobs.n_features == 4
    assert set(np.unique(blobs.y_train)) == set(range(5))
    many = datasets.load("classification", n_classes=4, n_informative=4, n_features=6)
    assert many.n_classes == 4 and many.X_train.shape[1] == 6
    quiet = datasets.load("circles", noise=0.0, standardize=False)
    radii = np.hypot(*quiet.X_train.T)
    np.testing.assert_allclose(np.sort(np.unique(radii.round(5))), [0.5, 1.0])


def test_unknown_option_for_bundled_dataset_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="n_samples"):
        datasets.load("iris", n_samples=10)


def test_unknown_option_for_generated_dataset_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="nosie.*valid options: n_samples, noise, shuffle"):
        datasets.load("moons", nosie=0.3)
    with pytest.raises(TypeError, match="random_state.*seed"):
        datasets.load("moons", random_state=1)


def test_split_is_frozen_with_a_short_repr() -> None:
    split = datasets.load("iris")
    assert repr(split) == ("Split(name='iris', task='classification', n_train=120, "
                           "n_test=30, n_features=4, n_classes=3)")
    assert "n_classes" not in repr(datasets.load("diabetes"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.X_train = split.X_test
