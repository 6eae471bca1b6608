"""Shared helpers of the backend kernel tests (loaded by ``tests/backends/conftest.py``
as the module ``pyneural_backend_test_helpers``; import it under that name).

* :func:`call_op` runs one contract op on a backend with its array arguments laid out in
  memory in a chosen way, outputs preallocated full of garbage (NaN), and checks that the
  inputs were not mutated and that nothing was written outside the output views.
* :func:`assert_within` compares against the reference with an element-wise absolute
  bound and explains the worst offender when it fails.
"""

from __future__ import annotations

import numpy as np

from pyneural.backends import contract

#: Memory layouts for 2-D array arguments. Every one holds the same logical values.
#: C / F: contiguous; padded / Fpadded: a sub-block of a bigger C / F array (row or column
#: pitch larger than the width); strided: ``base[1::2, ::2]`` (no unit stride at all);
#: neg: negative strides on both axes; readonly: C-contiguous with ``writeable=False``
#: (inputs only; outputs get C); mixed: each argument a different layout.
LAYOUTS = ("C", "F", "padded", "Fpadded", "strided", "neg", "readonly", "mixed")
_MIXED_CYCLE = ("F", "strided", "neg", "Fpadded", "padded", "C")

FLOAT_DTYPES = (np.float32, np.float64)


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def tiny(dtype) -> float:
    return float(np.finfo(dtype).tiny)


def rtol(dtype) -> float:
    """Element-wise relative tolerance: 1e-12 in float64, 4 ULP in float32."""
    return 1e-12 if np.dtype(dtype) == np.float64 else 4 * eps(np.float32)


def elem_bound(ref_value, dtype, scale=None):
    """``rtol * |scale| + tiny`` with ``scale`` defaulting to the reference value."""
    scale = np.abs(np.asarray(ref_value if scale is None else scale, dtype=np.float64))
    return rtol(dtype) * scale + tiny(dtype)


def _fill_value(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.nan
    if dtype == np.uint8:
        return 0xAB
    return -7777


def _resolve(layout: str, index: int) -> str:
    if layout == "mixed":
        return _MIXED_CYCLE[index % len(_MIXED_CYCLE)]
    return layout


class Buf:
    """An array view ``a`` inside a garbage-filled ``base``, for layout and bounds checks."""

    def __init__(self, shape, dtype, layout: str, *, readonly: bool = False):
        dtype = np.dtype(dtype)
        fill = _fill_value(dtype)
        self.fill = fill
        if len(shape) == 1:
            (n,) = shape
            # 1-D arguments (labels, optimizer buffers) are contiguous by contract; padding
            # on both sides still catches out-of-bounds writes.
            base = np.full(n + 6, fill, dtype)
            sl = (slice(3, 3 + n),)
        else:
            n, m = shape
            if layout in ("C", "readonly"):
                base, sl = np.full((n, m), fill, dtype), (slice(None), slice(None))
            elif layout == "F":
                base, sl = np.full((n, m), fill, dtype, order="F"), (slice(None), slice(None))
            elif layout == "padded":
                base, sl = np.full((n + 3, m + 5), fill, dtype), (slice(2, 2 + n), slice(1, 1 + m))
            elif layout == "Fpadded":
                base = np.full((n + 5, m + 3), fill, dtype, order="F")
                sl = (slice(1, 1 + n), slice(2, 2 + m))
            elif layout == "strided":
                base = np.full((2 * n + 1, 2 * m + 1), fill, dtype)
                sl = (slice(1, 2 * n, 2), slice(0, 2 * m, 2))
            elif layout == "neg":
                base = np.full((n + 2, m + 2), fill, dtype)
                sl = (slice(n, 0, -1), slice(m, 0, -1))
            else:
                raise ValueError(layout)
        self.base = base
        self.a = base[sl]
        assert self.a.shape == tuple(shape), (layout, shape, self.a.shape)
        self.region = np.zeros(base.shape, bool)
        self.region[sl] = True
        self.readonly = readonly
        self.layout = layout
        self._snapshot = None

    def set(self, values):
        self.a[...] = values
        if self.readonly:
            self.a.setflags(write=False)
        self._snapshot = self.base.copy()
        return self

    def assert_unchanged(self, what):
        same = np.array_equal(self.base, self._snapshot, equal_nan=self.base.dtype.kind == "f")
        assert same, f"{what}: input was mutated (layout {self.layout})"

    def assert_padding_intact(self, what):
        outside = self.base[~self.region]
        if outside.size == 0:
            return
        if self.base.dtype.kind == "f":
            ok = np.isnan(outside).all()
        else:
            ok = (outside == self.fill).all()
        assert ok, f"{what}: wrote outside the output view (layout {self.layout})"


def make_input(values, layout: str, index: int = 0, *, contiguous: bool = False) -> Buf:
    values = np.asarray(values)
    lay = "C" if (contiguous or values.ndim == 1) else _resolve(layout, index)
    return Buf(values.shape, values.dtype, lay, readonly=(layout == "readonly")).set(values)


def make_output(shape, dtype, layout: str, index: int = 0, *, contiguous: bool = False) -> Buf:
    lay = "C" if (contiguous or len(shape) == 1) else _resolve(layout, index + 2)
    if lay == "readonly":
        lay = "C"
    return Buf(shape, dtype, lay)


def call_op(module, name, inputs, outputs, scalars, layout="C", contiguous=()):
    """Call op ``name`` of ``module`` positionally, in contract order.

    ``inputs``: param -> C-ordered values; ``outputs``: param -> ``(shape, dtype)`` or
    ``None`` (pass ``None``); ``scalars``: param -> value; ``contiguous``: params kept
    C-contiguous whatever the layout (the dropout mask). Returns ``(ret, {param: copy})``.
    """
    in_bufs, out_bufs, args = {}, {}, []
    n_in = n_out = 0
    for param in contract.signature(name):
        if param in inputs:
            buf = make_input(inputs[param], layout, n_in, contiguous=param in contiguous)
            n_in += 1
            in_bufs[param] = buf
            args.append(buf.a)
        elif param in outputs:
            spec = outputs[param]
            if spec is None:
                args.append(None)
                continue
            shape, dt = spec
            buf = make_output(shape, dt, layout, n_out, contiguous=param in contiguous)
            n_out += 1
            out_bufs[param] = buf
            args.append(buf.a)
        elif param in scalars:
            args.append(scalars[param])
        else:
            raise KeyError(f"test did not supply {param!r} of {name}")
    ret = getattr(module, name)(*args)
    for param, buf in in_bufs.items():
        buf.assert_unchanged(f"{module.NAME}.{name}({param})")
    for param, buf in out_bufs.items():
        buf.assert_padding_intact(f"{module.NAME}.{name}({param})")
    return ret, {param: np.array(buf.a) for param, buf in out_bufs.items()}


def assert_within(got, want, bound, what=""):
    """``|got - want| <= bound`` element-wise (NaN anywhere in ``got`` fails)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), want.shape)
    err = np.abs(got - want)
    bad = ~(err <= bound)
    if bad.any():
        ratio = np.where(bad, np.nan_to_num(err / np.maximum(bound, 1e-300), nan=np.inf), 0.0)
        idx = np.unravel_index(int(np.argmax(ratio)), want.shape) if want.ndim else ()
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {want.size} entries out of bound; worst at {idx}: "
            f"got {got[idx]!r}, reference {want[idx]!r}, |err| {err[idx]!r} > bound {bound[idx]!r}"
        )


def assert_cost_within(got, want, magnitude_sum, n_terms, dtype, what="", k=8):
    """A cost (a float64 sum of ``n_terms`` terms computed from ``dtype`` data):
    ``|got - want| <= (k * eps(dtype) + n_terms * eps64) * sum|terms|`` (+ a tiny floor)."""
    assert type(got) is float, f"{what}: returned {type(got).__name__}, not a Python float"
    assert np.isfinite(got), f"{what}: returned {got!r}"
    bound = (k * eps(dtype) + n_terms * eps(np.float64)) * magnitude_sum + 1e-300
    assert abs(got - want) <= bound, f"{what}: got {got!r}, reference {want!r}, |err| {abs(got - want)!r} > {bound!r}"


def random_z(rng, shape, dtype, scale=3.0, zeros=True):
    """Normal values with, when ``zeros``, a few exact zeros (the ReLU kink, ``Z > 0`` is False)."""
    Z = rng.normal(0.0, scale, size=shape)
    if zeros and Z.size >= 3:
        flat = Z.reshape(-1)
        flat[rng.choice(Z.size, size=max(1, Z.size // 10), replace=False)] = 0.0
    return Z.astype(dtype)


def one_hot(labels, C, dtype):
    Y = np.zeros((C, labels.size), dtype)
    Y[labels, np.arange(labels.size)] = 1
    return Y


def shape_id(shape) -> str:
    """Test id of a shape tuple: ``(7, 13)`` -> ``7x13``."""
    return "x".join(str(d) for d in shape)


# ------------------------------------------------------------ finite differences (float64)

FD_STEP = 1e-6
FD_TOL = 1e-7  # the course's ||g - g_num|| / (||g|| + ||g_num||) threshold


def numeric_grad(f, X, eps=FD_STEP):
    """Central differences of scalar ``f()`` w.r.t. every element of ``X`` (perturbed in place)."""
    G = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        old = X[idx]
        X[idx] = old + eps
        plus = f()
        X[idx] = old - eps
        minus = f()
        X[idx] = old
        G[idx] = (plus - minus) / (2 * eps)
    return G


def assert_grad_close(analytic, numeric, what, tol=FD_TOL):
    num = np.linalg.norm(analytic - numeric)
    den = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    assert den > 0, f"{what}: both gradients are zero (the check would be vacuous)"
    diff = num / den
    assert diff < tol, f"{what}: relative difference {diff:.3e} >= {tol:g}"
