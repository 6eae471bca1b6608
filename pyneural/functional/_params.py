"""Helpers for the course's ``parameters`` / ``grads`` dictionaries (W1, b1, ..., WL, bL)."""

from __future__ import annotations

import numpy as np


def num_layers(parameters) -> int:
    """``L`` of a ``{"W1", "b1", ..., "WL", "bL"}`` dict, after checking that the keys and
    shapes fit together (so a wrong dict fails here with a clear message, not in a kernel)."""
    if not isinstance(parameters, dict):
        raise TypeError(f"parameters must be a dict with keys W1, b1, ..., got {type(parameters).__name__}")
    L = sum(1 for k in parameters if isinstance(k, str) and k[:1] == "W" and k[1:].isdigit())
    if L == 0:
        raise ValueError("parameters must contain W1, b1, ... (no 'W1' key found)")
    prev = None
    for l in range(1, L + 1):
        for key in ("W" + str(l), "b" + str(l)):
            if key not in parameters:
                raise ValueError(f"parameters has {L} weight matrices but no {key!r}")
        W = np.asarray(parameters["W" + str(l)])
        b = np.asarray(parameters["b" + str(l)])
        if W.ndim != 2:
            raise ValueError(f"parameters['W{l}'] must be 2-D (n[{l}], n[{l - 1}]), got shape {W.shape}")
        if b.shape not in ((W.shape[0], 1), (W.shape[0],)):
            raise ValueError(f"parameters['b{l}'] must have shape ({W.shape[0]}, 1), got {b.shape}")
        if prev is not None and W.shape[1] != prev:
            raise ValueError(
                f"parameters['W{l}'] has shape {W.shape} but W{l - 1} has {prev} rows; "
                f"expected ({W.shape[0]}, {prev})"
            )
        prev = W.shape[0]
    return L


def param_keys(L: int) -> list[str]:
    """``["W1", "b1", ..., "WL", "bL"]`` in the course's order."""
    keys = []
    for l in range(1, L + 1):
        keys += ["W" + str(l), "b" + str(l)]
    return keys


def grad_of(grads, key: str, like: np.ndarray):
    gkey = "d" + key
    if gkey not in grads:
        raise ValueError(f"grads has no {gkey!r} (needed for parameters[{key!r}])")
    g = grads[gkey]
    if np.shape(g) != like.shape:
        raise ValueError(f"grads[{gkey!r}] must have shape {like.shape}, got {np.shape(g)}")
    return g
