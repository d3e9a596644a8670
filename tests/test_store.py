"""The Zarr store: schema, reader validation, contents consistent with the PDE families."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from nk_lightning.data import open_dataset
from nk_lightning.data.generation import compute_sample
from nk_lightning.data.groundtruth import eigen_residuals
from nk_lightning.data.store import FORMAT_VERSION, consolidate
from nk_lightning.errors import StoreError

from .conftest import make_store, tiny_spec


def test_schema_and_attrs(tiny_store):
    ds = open_dataset(tiny_store)
    spec = tiny_spec()
    g, n, k = spec.grid, spec.n, spec.k
    assert (ds.pde, ds.grid, ds.n, ds.k, ds.channels) == ("darcy", g, n, k, ["a"])
    attrs = ds.attrs
    assert attrs["format_version"] == FORMAT_VERSION and attrs["complete"] is True
    assert attrs["seed"] == 0 and attrs["pde_params"] == {"alpha": 2.0, "tau": 3.0}
    assert attrs["splits"] == {"train": 10, "val": 5, "test": 3}
    norm = attrs["normalization"]
    assert norm["split"] == "train" and len(norm["mean"]) == 1 and norm["std"][0] > 0
    coef = ds.split("train").coef[...]
    np.testing.assert_allclose(norm["mean"][0], coef.astype(np.float64).mean(), rtol=1e-6)
    np.testing.assert_allclose(norm["std"][0], coef.astype(np.float64).std(), rtol=1e-5)
    for split, N in attrs["splits"].items():
        arr = ds.split(split)
        assert len(arr) == N
        assert arr.coef.shape == (N, 1, g, g) and arr.coef.dtype == np.float32
        assert arr.eigvecs.shape == (N, n, k) and arr.eigvecs.dtype == np.float32
        assert arr.eigvals.shape == (N, k) and arr.eigvals.dtype == np.float64
        assert arr.A_data.shape == (N, spec.nnz) and arr.b.shape == (N, n)
        assert arr.eigvecs.chunks == (1, n, k) and arr.eigvecs.shards == (4, n, k)
    indptr, indices = ds.pattern
    assert indptr.shape == (n + 1,) and indices.shape == (spec.nnz,)
    # consolidated metadata was written once generation finished
    meta = json.loads((Path(tiny_store) / "zarr.json").read_text())
    assert "consolidated_metadata" in meta and meta["consolidated_metadata"] is not None


def test_stored_systems_equal_direct_computation(tiny_store):
    ds = open_dataset(tiny_store)
    spec = ds.spec
    for split, i in (("train", 0), ("train", 9), ("val", 4), ("test", 2)):
        A, b = ds.system(split, i)
        ref = compute_sample(spec, split, i)
        np.testing.assert_array_equal(A.data, ref["A_data"])
        np.testing.assert_array_equal(b, np.ones(spec.n))
        arr = ds.split(split)
        np.testing.assert_array_equal(arr.eigvecs[i], ref["eigvecs"])
        V, lam = arr.eigvecs[i].astype(np.float64), arr.eigvals[i]
        # float32 storage limits the residual to ~1e-7; the float64 check happened at generation
        assert eigen_residuals(A, lam, V).max() < 1e-5
        assert arr.eig_residual[i] <= 1e-8


def test_random_rhs_is_seeded(tmp_path):
    path = make_store(tmp_path / "r.zarr", rhs="random", n_train=4, n_val=0, n_test=0)
    b = open_dataset(path).split("train").b[...]
    assert abs(b.mean()) < 0.2 and 0.8 < b.std() < 1.2
    assert not np.allclose(b[0], b[1])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "does not exist"),
        ("foreign", "not an nk_lightning dataset store"),
        ("incomplete", "incomplete"),
        ("drop_array", "has no array 'val/eigvecs'"),
        ("version", "format_version 99"),
    ],
)
def test_open_dataset_names_what_is_wrong(tiny_store, tmp_path, damage, message):
    path = tmp_path / "s.zarr"
    if damage != "missing":
        shutil.copytree(tiny_store, path)
    if damage == "foreign":
        zarr.open_group(str(path), mode="w").attrs["hello"] = 1
    elif damage in ("incomplete", "version"):
        root = zarr.open_group(str(path), mode="r+", use_consolidated=False)
        root.attrs.update({"complete": False} if damage == "incomplete" else {"format_version": 99})
        consolidate(str(path))
    elif damage == "drop_array":
        shutil.rmtree(path / "val" / "eigvecs")
        consolidate(str(path))
    with pytest.raises(StoreError, match=message) as info:
        open_dataset(str(path))
    assert "\n" not in str(info.value)
