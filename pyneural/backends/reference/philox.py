"""Philox4x32-10 (Salmon et al., SC'11), the counter-based generator behind dropout masks.

A mask bit depends only on ``(seed, step, layer, element index)``: element ``idx`` of a
``(n, m)`` array (``idx = i * m + j``) takes output word ``idx % 4`` of
``philox4x32_10(counter=(idx // 4 low, idx // 4 high, step, layer), key=(seed low, seed high))``.
Every backend computes the same words, so masks agree bit for bit across backends and
thread counts. Checked against Random123's published known-answer vectors.
"""

from __future__ import annotations

import numpy as np

M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
W0 = 0x9E3779B9
W1 = 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)
ROUNDS = 10


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Vectorised Philox4x32-10 over uint64 arrays holding 32-bit words; returns 4 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & MASK32 for c in (c0, c1, c2, c3))
    k0 = int(k0) & 0xFFFFFFFF
    k1 = int(k1) & 0xFFFFFFFF
    for r in range(ROUNDS):
        if r:
            k0 = (k0 + W0) & 0xFFFFFFFF
            k1 = (k1 + W1) & 0xFFFFFFFF
        p0 = M0 * c0
        p1 = M1 * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK32
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK32
        c0, c1, c2, c3 = (
            hi1 ^ c1 ^ np.uint64(k0),
            lo1,
            hi0 ^ c3 ^ np.uint64(k1),
            lo0,
        )
    return c0, c1, c2, c3


def keep_threshold(keep_prob: float) -> int:
    """Integer threshold: a 32-bit word ``u`` keeps its element when ``u < threshold``."""
    return min(int(keep_prob * 4294967296.0), 4294967296)


def dropout_words(n: int, m: int, seed: int, step: int, layer: int) -> np.ndarray:
    """The ``(n, m)`` array of 32-bit Philox words (as uint64) used for a dropout mask."""
    total = n * m
    blocks = np.arange((total + 3) // 4, dtype=np.uint64)
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    words = philox4x32_10(
        blocks & MASK32,
        blocks >> np.uint64(32),
        np.uint64(int(step) & 0xFFFFFFFF),
        np.uint64(int(layer) & 0xFFFFFFFF),
        seed & 0xFFFFFFFF,
        seed >> 32,
    )
    return np.stack(words, axis=1).reshape(-1)[:total].reshape(n, m)
