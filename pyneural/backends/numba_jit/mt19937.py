"""NumPy's legacy MT19937 permutation in nopython code.

``permutation(seed, perm, key)`` fills ``perm`` with ``RandomState(seed).permutation(m)``:
``init_genrand`` seeding (``mt19937_seed`` in NumPy), then Fisher-Yates from ``i = m - 1``
down to 1 with ``j = random_interval(i)``: 32-bit draws masked to the smallest ``2**k - 1
>= i``, rejected while ``> i``. 32-bit words live in uint64 (like :mod:`.philox`), and every
constant is a ``np.uint64`` so no mixed signed/unsigned expression turns into a float.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from .philox import _MASK32

N = 624
_M = 397
_MATRIX_A = np.uint64(0x9908B0DF)
_UPPER = np.uint64(0x80000000)
_LOWER = np.uint64(0x7FFFFFFF)
_INIT_MULT = np.uint64(1812433253)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


@kernel
def init_genrand(key, seed):
    """Seed the state ``key`` (uint64, ``N`` words) as ``RandomState(seed)`` does; returns
    the position (``N``: the first draw regenerates the block)."""
    s = np.uint64(seed) & _MASK32
    for pos in range(N):
        key[pos] = s
        s = (_INIT_MULT * (s ^ (s >> np.uint64(30))) + np.uint64(pos + 1)) & _MASK32
    return N


@kernel
def _generate(key):
    """The next block of ``N`` words (NumPy's ``mt19937_gen``), branch-free so the loops
    vectorise: ``mag`` is ``MATRIX_A`` when the low bit of ``y`` is set, else 0."""
    for i in range(N - _M):
        y = (key[i] & _UPPER) | (key[i + 1] & _LOWER)
        key[i] = key[i + _M] ^ (y >> _ONE) ^ ((_ZERO - (y & _ONE)) & _MATRIX_A)
    for i in range(N - _M, N - 1):
        y = (key[i] & _UPPER) | (key[i + 1] & _LOWER)
        key[i] = key[i + _M - N] ^ (y >> _ONE) ^ ((_ZERO - (y & _ONE)) & _MATRIX_A)
    y = (key[N - 1] & _UPPER) | (key[0] & _LOWER)
    key[N - 1] = key[_M - 1] ^ (y >> _ONE) ^ ((_ZERO - (y & _ONE)) & _MATRIX_A)


@kernel
def temper(y):
    """MT19937's output function of a state word."""
    y ^= y >> np.uint64(11)
    y ^= (y << np.uint64(7)) & np.uint64(0x9D2C5680)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    y ^= y >> np.uint64(18)
    return y & _MASK32


@kernel
def permutation(seed, perm, key):
    """``perm[:] = RandomState(seed).permutation(perm.shape[0])`` (``seed`` in [0, 2**32),
    ``key`` a uint64 scratch array of ``N`` words, ``perm`` int64, fewer than 2**32 items)."""
    m = perm.shape[0]
    for i in range(m):
        perm[i] = i
    pos = init_genrand(key, seed)
    for i in range(m - 1, 0, -1):
        top = np.uint64(i)
        mask = top
        mask |= mask >> np.uint64(1)
        mask |= mask >> np.uint64(2)
        mask |= mask >> np.uint64(4)
        mask |= mask >> np.uint64(8)
        mask |= mask >> np.uint64(16)
        value = top + _ONE
        while value > top:  # random_interval(i): draw, mask, reject
            if pos == N:
                _generate(key)
                pos = 0
            value = temper(key[pos]) & mask
            pos += 1
        j = np.int64(value)
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp
