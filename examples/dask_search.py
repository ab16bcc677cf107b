"""A hyperparameter search on a Dask cluster: minidl's estimators beyond one process.

scikit-learn's GridSearchCV runs its fits through joblib, and joblib's "dask"
backend sends them to the workers of a Dask cluster, on this machine or on
many. The same code runs on a real cluster once the Client is given the
scheduler's address (``Client("tcp://scheduler:8786")``) and minidl is
installed on every worker. Here a LocalCluster of ``--workers`` processes
stands in for it:

    with joblib.parallel_backend("dask"):
        search.fit(X, y)

Checked, against the same search run in this process: the Dask search finds
the same best parameters and the same cross-validation scores (every fit is
seeded, so where it runs changes nothing), and inside a worker the estimators
train on one numba thread and one BLAS thread, so that workers sharing a
machine share its cores instead of each taking them all.

    python examples/dask_search.py [--workers 2] [--epochs 5] [--folds 3] [--out DIR]

Needs dask and distributed (pip install dask distributed).
"""
from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from common import parser, positive_int, pyplot, save_figure, table, verdict
from minidl.sklearn import MLPClassifier
from minidl.threads import training_threads

GRID = {"mlpclassifier__optimizer": ["rmsprop", "adam"],
        "mlpclassifier__learning_rate": [1e-3, 1e-2]}


def search(epochs: int, folds: int, seed: int) -> GridSearchCV:
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(64,), epochs=epochs, random_state=seed))
    return GridSearchCV(pipeline, GRID, cv=folds)


def main() -> None:
    arguments = parser(__doc__, epochs=5)
    arguments.add_argument("--workers", type=positive_int, default=2,
                           help="worker processes of the local cluster (default 2)")
    arguments.add_argument("--folds", type=positive_int, default=3,
                           help="cross-validation folds (default 3)")
    args = arguments.parse_args()
    import joblib
    from distributed import Client, LocalCluster

    X, y = load_digits(return_X_y=True)
    started = time.perf_counter()
    serial = search(args.epochs, args.folds, args.seed).fit(X, y)
    serial_time = time.perf_counter() - started

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        started = time.perf_counter()
        with joblib.parallel_backend("dask"):
            distributed = search(args.epochs, args.folds, args.seed).fit(X, y)
        dask_time = time.perf_counter() - started
        addresses = list(client.scheduler_info()["workers"])   # one task on each worker
        workers = dict(zip(addresses, client.gather(
            [client.submit(training_threads, workers=[address], pure=False)
             for address in addresses])))

    scores = [search.cv_results_["mean_test_score"] for search in (serial, distributed)]
    rows = [[params["mlpclassifier__optimizer"], params["mlpclassifier__learning_rate"],
             scores[0][i], scores[1][i]] for i, params in enumerate(serial.cv_results_["params"])]
    print(table(["optimizer", "lr", "score in this process", "score on Dask"], rows))
    print(f"\nsearch in this process: {serial_time:.1f} s; on {args.workers} Dask workers: "
          f"{dask_time:.1f} s (including the workers' start-up)")
    print(f"best: {distributed.best_params_}, score {distributed.best_score_:.4f}")
    same = serial.best_params_ == distributed.best_params_ and np.array_equal(*scores)
    print(f"the Dask search gives the same scores and best parameters: {verdict(same)}")
    counts = sorted(set((numba, tuple(blas)) for numba, blas in workers.values()))
    one = all(numba == 1 and all(count == 1 for count in blas) for numba, blas in counts)
    print(f"each of the {len(workers)} workers trains on (numba threads, BLAS threads) "
          f"{counts}: one of each per worker: {verdict(one)}")

    plt = pyplot()
    if plt is None:
        return
    figure, axis = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    positions = np.arange(len(rows))
    axis.bar(positions - 0.2, [row[2] for row in rows], 0.4, label="in this process")
    axis.bar(positions + 0.2, [row[3] for row in rows], 0.4,
             label=f"on {args.workers} Dask workers")
    axis.set_xticks(positions, [f"{row[0]}\nlr {row[1]:g}" for row in rows])
    axis.set(xlabel="optimizer and learning rate",
             ylabel=f"mean {args.folds}-fold CV accuracy", ylim=(0, 1.2),
             yticks=np.linspace(0, 1, 6),
             title=f"GridSearchCV on digits, {args.epochs} epochs per fit")
    axis.legend(loc="upper center", ncols=2)
    save_figure(figure, args.out, "dask_search.png")


if __name__ == "__main__":
    main()
