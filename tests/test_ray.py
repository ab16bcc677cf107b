"""minidl's estimators on Ray (issue 21): GridSearchCV through Ray's joblib backend
matches the serial search, and a Ray task trains on OMP_NUM_THREADS numba threads.
Skipped where ray is not installed (it is not in the dev extra: about 200 MB)."""
from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="needs ray (pip install ray)")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"NUMBA_NUM_THREADS": "2"}})
    yield
    ray.shutdown()


def test_grid_search_on_rays_backend_matches_the_serial_one(local_ray):
    import joblib
    from ray.util.joblib import register_ray
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from minidl.sklearn import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    grid = {"optimizer": ["rmsprop", "adam"], "learning_rate": [1e-3, 1e-2]}
    estimator = MLPClassifier(hidden_layer_sizes=(16,), epochs=2, random_state=0)
    serial = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    register_ray()
    with joblib.parallel_backend("ray"):
        on_ray = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(on_ray.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    assert on_ray.best_params_ == serial.best_params_


def test_a_ray_task_trains_on_its_omp_share_of_numba_threads(local_ray):
    @ray.remote
    def threads() -> tuple:
        import numba

        from minidl.threads import training_threads
        return training_threads(), numba.get_num_threads()

    (inside, blas), outside = ray.get(threads.remote())
    assert inside == 1 and outside == 2 and all(n == 1 for n in blas)
