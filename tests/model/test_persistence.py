"""save/load: no pickle, atomic, round trip exact, clear errors for bad files."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import pyneural as pn
from pyneural.errors import ModelFileError
from pyneural.layers import BatchNorm, Dense, Dropout


def trained_model(rng):
    X = rng.standard_normal((4, 50))
    y = rng.integers(0, 3, 50)
    model = pn.Sequential([Dense(8, "relu"), BatchNorm(), Dropout(0.9), Dense(3, "softmax")], input_dim=4, seed=5)
    model.fit(X, y, epochs=3, batch_size=16, seed=1)
    return model, X


def test_round_trip_is_exact(tmp_path, rng):
    model, X = trained_model(rng)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = pn.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.get_config() == model.get_config()
    for (_, _, a), (_, _, b) in zip(model.weights(), loaded.weights()):
        np.testing.assert_array_equal(a, b)
    loaded.save(tmp_path / "again.npz")
    assert (tmp_path / "again.npz").read_bytes() == path.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pyneural-")] == []


def test_files_never_need_pickle(tmp_path, rng):
    model, _ = trained_model(rng)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        header = json.loads(data["__header__"].tobytes())
        assert header["format"] == "pyneural-model" and header["version"] == 1
        assert all(data[k].dtype != object for k in data.files)


def test_a_pickled_array_is_refused(tmp_path, rng):
    model, _ = trained_model(rng)
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["layer0/W"] = np.array([object()], dtype=object)
    np.savez(tmp_path / "evil.npz", **arrays)
    with pytest.raises(ModelFileError):
        pn.load(tmp_path / "evil.npz")


@pytest.mark.parametrize("mutation", ["truncate", "garbage", "not_zip", "bad_json", "wrong_format", "version",
                                      "unknown_layer", "shape", "missing", "extra", "missing_file"])
def test_bad_files_raise_model_file_error(tmp_path, rng, mutation):
    model, _ = trained_model(rng)
    path = tmp_path / "m.npz"
    model.save(path)
    raw = path.read_bytes()
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(arrays["__header__"].tobytes())

    def write(arrs):
        np.savez(path, **arrs)

    def with_header(h):
        return {**arrays, "__header__": np.frombuffer(json.dumps(h).encode(), np.uint8)}

    if mutation == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif mutation == "garbage":
        path.write_bytes(raw[:100] + bytes(len(raw) - 100))
    elif mutation == "not_zip":
        path.write_text("hello")
    elif mutation == "bad_json":
        write({**arrays, "__header__": np.frombuffer(b"{not json", np.uint8)})
    elif mutation == "wrong_format":
        write(with_header({**header, "format": "other"}))
    elif mutation == "version":
        write(with_header({**header, "version": 99}))
    elif mutation == "unknown_layer":
        h = json.loads(json.dumps(header))
        h["config"]["layers"][0]["kind"] = "os.system"
        write(with_header(h))
    elif mutation == "shape":
        write({**arrays, "layer0/W": np.zeros((2, 2))})
    elif mutation == "missing":
        write({k: v for k, v in arrays.items() if k != "layer3/b"})
    elif mutation == "extra":
        write({**arrays, "layer9/W": np.zeros(1)})
    elif mutation == "missing_file":
        os.unlink(path)
    with pytest.raises(ModelFileError):
        pn.load(path)
    assert issubclass(ModelFileError, ValueError)


def test_every_truncation_fails_cleanly(tmp_path, rng):
    model, _ = trained_model(rng)
    path = tmp_path / "m.npz"
    model.save(path)
    raw = path.read_bytes()
    for cut in range(0, len(raw), max(1, len(raw) // 60)):
        path.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError):
            pn.load(path)


def test_failed_save_leaves_the_old_file(tmp_path, rng, monkeypatch):
    model, _ = trained_model(rng)
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    assert zipfile.is_zipfile(path)
