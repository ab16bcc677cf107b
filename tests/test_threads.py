"""Grad mode is per thread, and training in two threads at once works."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import minidl
from minidl import nn, optim


def _in_threads(*targets):
    """Run each target in its own thread; re-raise the first exception."""
    errors: list[BaseException] = []

    def guard(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001  (handed back to the test)
            errors.append(error)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_leaves_another_threads_graph_alone():
    inside, recorded = threading.Event(), threading.Event()
    grads = {}

    def quiet():
        with minidl.no_grad():
            inside.set()
            assert recorded.wait(10)
            assert not minidl.is_grad_enabled()

    def training():
        assert inside.wait(10)
        x = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()
        assert minidl.is_grad_enabled() and y.requires_grad
        y.backward()
        grads["x"] = x.grad.numpy().copy()
        recorded.set()

    _in_threads(quiet, training)
    np.testing.assert_array_equal(grads["x"], [2.0, 4.0, 6.0])


def test_interleaved_no_grad_blocks_leave_grad_mode_on():
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def first():   # enters first, leaves first
        with minidl.no_grad():
            a_in.set()
            assert b_in.wait(10)
        a_out.set()

    def second():  # enters second, leaves last
        assert a_in.wait(10)
        with minidl.no_grad():
            b_in.set()
            assert a_out.wait(10)

    _in_threads(first, second)
    assert minidl.is_grad_enabled()
    assert minidl.tensor([1.0], requires_grad=True).exp().requires_grad
    seen = []
    _in_threads(lambda: seen.append(minidl.is_grad_enabled()))
    assert seen == [True]


def _fit_once(seed: int) -> float:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(96, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = optim.RMSprop(model.parameters(), lr=0.01)
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X[:64], y[:64]),
                         val_data=(X[64:], y[64:]), epochs=3, batch_size=16,
                         progress=False, seed=seed)
    assert history.epochs == 3 and np.isfinite(history["val_loss"]).all()
    return history["val_loss"][-1]


def test_two_threads_fitting_with_validation_at_once():
    for trial in range(20):
        results: dict[int, float] = {}
        _in_threads(*(lambda s=s: results.__setitem__(s, _fit_once(s)) for s in (trial, 100 + trial)))
        assert len(results) == 2


def test_grid_search_with_two_threads():
    pytest.importorskip("sklearn")
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    from minidl.sklearn import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0),
                          {"learning_rate": [0.01, 0.003]}, cv=2, n_jobs=2)
    with parallel_backend("threading", n_jobs=2):
        search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["learning_rate"] in (0.01, 0.003)
    assert search.predict(X).shape == (120,)


def test_estimators_seeded_in_two_threads_get_the_weights_of_their_random_state(monkeypatch):
    """An estimator's weights depend on its random_state alone, also while another
    thread initialises one (minidl.random.seeded is per thread). A pause between
    entering the seeded block and drawing the weights lets the threads overlap."""
    import time

    from minidl.sklearn import MLPClassifier

    X = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def weights(seed):
        model = MLPClassifier(hidden_layer_sizes=(16, 16), epochs=1, random_state=seed)
        return model.fit(X, y).model_[0].weight.numpy().copy()

    expected = {seed: weights(seed) for seed in (1, 2)}
    build = nn.mlp

    def slow_mlp(*args, **kwargs):
        time.sleep(0.02)
        return build(*args, **kwargs)

    monkeypatch.setattr(nn, "mlp", slow_mlp)
    minidl.manual_seed(7)
    stream = minidl.randn(3).numpy()
    minidl.manual_seed(7)
    results: dict[int, list[np.ndarray]] = {1: [], 2: []}
    _in_threads(*(lambda s=s: results[s].extend(weights(s) for _ in range(3)) for s in (1, 2)))
    for seed, got in results.items():
        for w in got:
            np.testing.assert_array_equal(w, expected[seed])
    np.testing.assert_array_equal(minidl.randn(3).numpy(), stream)   # the user's stream kept


def test_seeded_draws_are_per_thread():
    from minidl.random import generator, seeded

    a_in, b_done = threading.Event(), threading.Event()
    draws = {}

    def first():
        with seeded(1):
            a_in.set()
            assert b_done.wait(10)
            draws[1] = generator().random(3)

    def second():
        assert a_in.wait(10)
        with seeded(2):
            draws[2] = generator().random(3)
        b_done.set()

    minidl.manual_seed(3)
    _in_threads(first, second)
    np.testing.assert_array_equal(draws[1], np.random.default_rng(1).random(3))
    np.testing.assert_array_equal(draws[2], np.random.default_rng(2).random(3))
    np.testing.assert_array_equal(generator().random(2), np.random.default_rng(3).random(2))


@pytest.mark.needs_jit
def test_two_threads_stepping_large_optimizers_under_the_workqueue_layer():
    """numba's workqueue layer aborts the process if two threads run parallel code
    at once; the cpu kernels run their parallel loops one at a time."""
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import threading, numpy as np, minidl, numba
        from minidl.kernels import cpu
        n = cpu.PARALLEL_THRESHOLD + 1
        def run():
            p = minidl.nn.Parameter(np.zeros(n, np.float32))
            opt = minidl.optim.RMSprop([p], lr=0.01, device="cpu")
            for _ in range(100):
                p.grad = np.ones(n, np.float32)
                opt.step()
        threads = [threading.Thread(target=run) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print("ok", numba.threading_layer())
    """)
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok workqueue", done.stderr
