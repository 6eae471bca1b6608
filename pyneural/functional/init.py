"""The course's parameter initialisers, drawing exactly the course's numbers.

Where the course calls ``np.random.seed(s)`` inside a function, the same function here draws
from a local ``np.random.RandomState(s)`` (NumPy's global state is left untouched), so
``W = randn(n[l], n[l-1]) * scale`` gives the course's printed results. ``seed=`` overrides
the course's seed; ``dtype=`` (default float64) sets the parameters' dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "initialize_parameters",
    "initialize_parameters_deep",
    "initialize_parameters_he",
    "initialize_parameters_random",
    "initialize_parameters_zeros",
    "initialize_with_zeros",
    "layer_scale",
]


def _dims(layer_dims, name="layer_dims"):
    try:
        dims = [int(d) for d in layer_dims]
    except TypeError as exc:
        raise TypeError(f"{name} must be a sequence of positive ints, got {layer_dims!r}") from exc
    if any(isinstance(d, (bool, np.bool_)) for d in layer_dims) or any(
        int(d) != d for d in layer_dims
    ):
        raise TypeError(f"{name} must be a sequence of positive ints, got {layer_dims!r}")
    if len(dims) < 2:
        raise ValueError(f"{name} needs at least an input and an output size, got {dims}")
    if any(d < 1 for d in dims):
        raise ValueError(f"{name} must all be >= 1, got {dims}")
    return dims


def _rng(seed):
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


def layer_scale(scale, fan_in: int, fan_out: int) -> float:
    """The multiplier of ``randn`` for a layer: a number, or ``"he"`` √(2/n[l-1]),
    ``"xavier"`` √(1/n[l-1]), ``"glorot"`` √(2/(n[l-1]+n[l])) (the notes' Bengio variant)."""
    if isinstance(scale, str):
        key = scale.lower()
        if key == "he":
            return np.sqrt(2 / fan_in)
        if key == "xavier":
            return np.sqrt(1 / fan_in)
        if key in ("glorot", "bengio"):
            return np.sqrt(2 / (fan_in + fan_out))
        raise ValueError(f"scale must be a number or one of 'he', 'xavier', 'glorot', got {scale!r}")
    return float(scale)


def _deep(layer_dims, seed, scale, dtype):
    dims = _dims(layer_dims)
    rng = _rng(seed) if not (isinstance(scale, (int, float)) and scale == 0) else None
    parameters = {}
    for l in range(1, len(dims)):
        if isinstance(scale, (int, float)) and scale == 0:
            W = np.zeros((dims[l], dims[l - 1]))
        else:
            W = rng.randn(dims[l], dims[l - 1]) * layer_scale(scale, dims[l - 1], dims[l])
        parameters["W" + str(l)] = W.astype(dtype, copy=False)
        parameters["b" + str(l)] = np.zeros((dims[l], 1), dtype=dtype)
    return parameters


def initialize_with_zeros(dim, dtype=np.float64):
    """Logistic regression: ``w`` of shape ``(dim, 1)`` zeros and ``b = 0.0``."""
    (dim,) = _dims([1, dim], "dim")[1:]
    return np.zeros((dim, 1), dtype=dtype), 0.0


def initialize_parameters(n_x, n_h, n_y, seed=2, scale=0.01, dtype=np.float64):
    """Two-layer net: ``W1 (n_h, n_x)``, ``b1``, ``W2 (n_y, n_h)``, ``b2``; ``randn * 0.01``.

    The course seeds this with 2 in the planar notebook (the default here) and with 1 in
    the "deep network, step by step" notebook: pass ``seed=1`` for that one.
    """
    return _deep([n_x, n_h, n_y], seed, scale, dtype)


def initialize_parameters_deep(layer_dims, seed=3, scale=0.01, dtype=np.float64):
    """L-layer net, ``W[l] = randn(n[l], n[l-1]) * 0.01`` after the course's seed 3.

    The course's application notebook draws with seed 1 and ``/ √n[l-1]`` instead
    (``scale="xavier"``, ``seed=1``): with ×0.01 a deep ReLU net barely learns.
    """
    return _deep(layer_dims, seed, scale, dtype)


def initialize_parameters_zeros(layers_dims, dtype=np.float64):
    """All zeros: fails to break symmetry (the initialisation assignment's negative example)."""
    return _deep(layers_dims, 0, 0.0, dtype)


def initialize_parameters_random(layers_dims, seed=3, scale=10, dtype=np.float64):
    """Large random weights, ``randn * 10`` after seed 3 (the assignment's second case)."""
    return _deep(layers_dims, seed, scale, dtype)


def initialize_parameters_he(layers_dims, seed=3, dtype=np.float64):
    """He initialisation, ``randn * √(2 / n[l-1])`` after seed 3."""
    return _deep(layers_dims, seed, "he", dtype)
