"""Input checks at the public boundary: one place that converts and names what is wrong.

Conversion rule (documented in the README): float32 and float64 arrays are used as they
are (no copy unless misaligned); bool, integer and float16 input is converted (bool and
integers to float64, float16 to float32); complex, object, string and other dtypes raise
``TypeError``. Arrays of different float dtypes in one call are promoted to float64 (never
silently down-cast).
"""

from __future__ import annotations

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def as_float(x, name: str, ndim: int | None = 2) -> np.ndarray:
    """Return ``x`` as an aligned float32/float64 ndarray, converting by the rule above."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        if x is None:
            raise TypeError(f"{name} must be an array, got None")
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} could not be converted to an array: {exc}") from exc
    dt = arr.dtype
    if dt not in _FLOATS:
        if dt == np.float16:
            arr = arr.astype(np.float32)
        elif dt.kind in "biu":
            arr = arr.astype(np.float64)
        else:
            raise TypeError(
                f"{name} must hold real numbers (float32/float64, or bool/int/float16 which "
                f"are converted), got dtype {dt}"
            )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not arr.flags.aligned:
        arr = arr.copy()
    return arr


def common_dtype(*arrays: np.ndarray) -> np.dtype:
    dt = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != dt:
            return np.dtype(np.float64)
    return dt


def cast(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return arr if arr.dtype == dtype else arr.astype(dtype)


def as_labels(y, name: str, m: int, n_classes: int) -> np.ndarray:
    """Integer class labels of length ``m`` in ``[0, n_classes)`` as a C-contiguous int64 array."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or arr.shape[0] != m:
        raise ValueError(f"{name} must be integer labels of shape ({m},), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or Inf")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold whole-number class labels")
    elif arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} must be class labels in [0, {n_classes}), got values in "
            f"[{arr.min()}, {arr.max()}]"
        )
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or Inf")


def check_shape(arr: np.ndarray, name: str, shape: tuple, what: str = "") -> None:
    if arr.shape != shape:
        extra = f" ({what})" if what else ""
        raise ValueError(f"{name} must have shape {shape}{extra}, got {arr.shape}")


def check_prob(value, name: str, low_open: bool = True) -> float:
    """A probability in (0, 1] (keep_prob)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number in (0, 1], got {value!r}") from exc
    if not (0.0 < v <= 1.0):
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return v


def check_number(value, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None and (v < minimum or (strict and v == minimum)):
        op = ">" if strict else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value!r}")
    return v
