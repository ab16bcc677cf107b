"""minidl.load reads checkpoints; a dataset name there points to minidl.datasets.load."""
from __future__ import annotations

import pytest

import minidl


def test_checkpoint_load_of_a_dataset_name_points_to_datasets_load():
    with pytest.raises(FileNotFoundError, match=r"minidl\.datasets\.load\('digits'\)"):
        minidl.load("digits")


def test_a_missing_checkpoint_file_is_named(tmp_path):
    path = tmp_path / "run.npz"
    with pytest.raises(FileNotFoundError, match="No such file or directory") as caught:
        minidl.load(path)
    assert caught.value.filename == str(path) and "datasets" not in str(caught.value)
