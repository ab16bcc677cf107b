"""The on-disk cache of dataset splits (minidl.datasets.cache).

A split read back equals the one made with scikit-learn, a changed argument
never reads another's entry, a second process needs no scikit-learn, and a
cache that is off, unwritable or damaged changes nothing but the speed.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minidl.datasets import cache, load


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def same_split(a, b) -> None:
    for name in ("X_train", "X_test", "y_train", "y_test"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), name
    for name in ("task", "n_classes", "n_features", "feature_names", "class_names", "name",
                 "target_mean", "target_std"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("name, arguments", [
    ("moons", {"n_samples": 120, "noise": 0.3}),
    ("regression", {"n_samples": 80, "standardize_target": True}),
    ("digits", {"images": True}),
])
def test_a_cached_split_equals_the_one_made(cache_dir, monkeypatch, name, arguments):
    made = load(name, seed=3, **arguments)
    assert len(list(cache_dir.glob(f"{name}-*.npz"))) == 1
    monkeypatch.setattr("minidl.datasets._split", lambda *a: pytest.fail("not from the cache"))
    same_split(load(name, seed=3, **arguments), made)


def test_each_argument_has_an_entry_of_its_own(cache_dir):
    first = load("moons", n_samples=100, seed=1)
    second = load("moons", n_samples=100, seed=2)
    load("moons", n_samples=100, seed=1, test_size=0.5)
    assert len(list(cache_dir.glob("moons-*.npz"))) == 3
    assert not np.array_equal(first.X_train, second.X_train)


def test_a_second_process_loads_without_scikit_learn(cache_dir):
    code = textwrap.dedent("""
        import sys
        from minidl.datasets import load
        split = load("circles", n_samples=90, seed=5)
        print(len(split.y_train), "sklearn" in sys.modules)
        """)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(os.environ), check=True).stdout.split() for _ in range(2)]
    assert runs == [["72", "True"], ["72", "False"]]


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDL_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    assert cache.folder() is None
    load("iris")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_or_a_damaged_entry_changes_nothing(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MINIDL_CACHE_DIR", str(blocker))
    made = load("wine", seed=4)

    monkeypatch.setenv("MINIDL_CACHE_DIR", str(tmp_path / "cache"))
    load("wine", seed=4)
    [entry] = (tmp_path / "cache").glob("wine-*.npz")
    entry.write_bytes(b"PK\x03\x04 damaged")
    same_split(load("wine", seed=4), made)


def test_options_without_a_json_form_are_not_cached(cache_dir):
    load("blobs", n_samples=60, centers=np.array([[0.0, 0.0], [5.0, 5.0]]))
    assert not cache_dir.exists() or not list(cache_dir.iterdir())
