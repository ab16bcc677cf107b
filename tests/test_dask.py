"""minidl's estimators on a Dask cluster (issue 21): GridSearchCV through joblib's
"dask" backend, and one numba thread per task in a worker, as BLAS has. Skipped
where distributed is not installed."""
from __future__ import annotations

import logging

import pytest

distributed = pytest.importorskip("distributed", reason="needs dask and distributed")


def threads_while_fitting() -> tuple[list[int], int]:
    """numba's threads inside an MLPClassifier's training, and after it, in this task."""
    import numba
    import numpy as np

    import minidl.sklearn as estimators

    seen, real_fit = [], estimators.fit

    def counting_fit(*args, **kwargs):
        seen.append(numba.get_num_threads())
        return real_fit(*args, **kwargs)

    estimators.fit = counting_fit
    try:
        X = np.random.default_rng(0).normal(size=(40, 3))
        estimators.MLPClassifier(epochs=1, hidden_layer_sizes=(4,)).fit(X, X[:, 0] > 0)
    finally:
        estimators.fit = real_fit
    return seen, numba.get_num_threads()


@pytest.fixture(scope="module")
def client():
    # Two numba threads per worker as a machine with two cores or more gives them.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR,
                                  env={"NUMBA_NUM_THREADS": "2"}) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_an_estimator_in_a_worker_trains_on_one_numba_thread(client):
    seen, after = client.submit(threads_while_fitting, pure=False).result()
    assert seen == [1] and after == 2


def test_grid_search_on_the_dask_backend_matches_the_serial_one(client):
    import joblib
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV

    from minidl.sklearn import MLPClassifier

    X, y = load_iris(return_X_y=True)
    grid = {"learning_rate": [1e-3, 1e-2]}
    estimator = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0)
    serial = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == serial.best_params_
