"""Philox4x32-10, word for word as :mod:`pyneural.backends.reference.philox`.

32-bit words live in uint64 so the 32x32->64 products are exact; every constant is a
``np.uint64`` so Numba never promotes a mixed uint64/int64 expression to float64.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_ROUNDS = 10


@kernel
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """One Philox block: counter ``(c0..c3)``, key ``(k0, k1)``, all uint64 < 2**32."""
    for r in range(_ROUNDS):
        if r > 0:
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> _SHIFT) ^ c1 ^ k0,
            p1 & _MASK32,
            (p0 >> _SHIFT) ^ c3 ^ k1,
            p0 & _MASK32,
        )
    return c0, c1, c2, c3


@kernel
def block_words(block, step, layer, k0, k1):
    """The four words of counter block ``block`` (uint64) for a dropout call."""
    return philox4x32_10(block & _MASK32, block >> _SHIFT, step, layer, k0, k1)
