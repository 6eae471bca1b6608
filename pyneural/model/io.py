"""Saving and loading models: an ``.npz`` archive with a JSON header; never pickle.

Layout: ``__header__`` holds UTF-8 JSON bytes (format name, format version, the model's
config); ``layer{i}/{name}`` and ``state{i}/{name}`` hold the arrays. Writing goes to a
temporary file in the same folder, flushed and fsynced, then ``os.replace``d over the
target, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile

import numpy as np

from ..errors import ModelFileError

FORMAT = "pyneural-model"
VERSION = 1
_MAX_HEADER = 1 << 20


def save(model, path):
    model._require_built()
    path = os.fspath(path)
    header = {"format": FORMAT, "version": VERSION, "config": model.get_config(), "step": model._step}
    arrays = {"__header__": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)}
    for i, layer in enumerate(model.layers):
        for k, a in layer.params.items():
            arrays[f"layer{i}/{k}"] = a
        for k, a in layer.state.items():
            arrays[f"state{i}/{k}"] = a
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pyneural-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(path):
    """Load a model saved by :meth:`Sequential.save`; raise :class:`ModelFileError` (a
    ``ValueError``) for anything that is not a valid pyneural model file."""
    from .sequential import Sequential

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = set(data.files)
            if "__header__" not in files:
                raise ModelFileError(f"{path}: not a pyneural model file (no header)")
            raw = data["__header__"]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > _MAX_HEADER:
                raise ModelFileError(f"{path}: malformed header")
            header = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ModelFileError(f"{path}: not a pyneural model file")
            if header.get("version") != VERSION:
                raise ModelFileError(f"{path}: unsupported format version {header.get('version')!r} (this pyneural reads {VERSION})")
            config = header.get("config")
            if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
                raise ModelFileError(f"{path}: malformed model config")
            try:
                model = Sequential.from_config(config)
            except (TypeError, ValueError, KeyError) as exc:
                raise ModelFileError(f"{path}: invalid model config: {exc}") from exc
            if not model.built:
                raise ModelFileError(f"{path}: the saved model has no input size")
            expected = set()
            for i, layer in enumerate(model.layers):
                for prefix, store in (("layer", layer.params), ("state", layer.state)):
                    for k, target in store.items():
                        key = f"{prefix}{i}/{k}"
                        expected.add(key)
                        if key not in files:
                            raise ModelFileError(f"{path}: missing array {key!r}")
                        arr = data[key]
                        if arr.shape != target.shape or arr.dtype != target.dtype:
                            raise ModelFileError(f"{path}: array {key!r} has shape {arr.shape} {arr.dtype}, "
                                                 f"expected {target.shape} {target.dtype}")
                        target[...] = arr
            extra = files - expected - {"__header__"}
            if extra:
                raise ModelFileError(f"{path}: unexpected arrays {sorted(extra)[:5]}")
            step = header.get("step", 0)
            model._step = int(step) if isinstance(step, int) and step >= 0 else 0
            return model
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, UnicodeDecodeError, KeyError) as exc:
        raise ModelFileError(f"{path}: corrupted or truncated model file ({type(exc).__name__}: {exc})") from exc
