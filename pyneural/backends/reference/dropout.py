"""Reference inverted dropout: mask from Philox, applied with the ``1/keep_prob`` scale."""

from __future__ import annotations

import numpy as np

from .philox import dropout_words, keep_threshold


def dropout_forward(A, out, mask, keep_prob, seed, step, layer):
    n, m = A.shape
    words = dropout_words(n, m, seed, step, layer)
    mask[...] = words < np.uint64(keep_threshold(keep_prob))
    dropout_apply(A, mask, out, keep_prob)


def dropout_apply(A, mask, out, keep_prob):
    # Multiply then divide, as the course does (A * D, then A / keep_prob).
    np.multiply(A, mask, out=out)
    out /= A.dtype.type(keep_prob)
