"""Dropout: Philox known answers, masks bit-identical to the reference, the apply step."""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H

from pyneural.backends import reference as ref
from pyneural.backends.reference import philox

SHAPES = [(1, 1), (1, 13), (13, 1), (3, 4), (7, 13), (37, 129), (5, 1031), (70, 1001)]
LAYOUT_SHAPES = [(7, 13), (1, 5), (6, 1)]
SEEDS = [0, 12345, 2**32 + 7, 2**63 + 2**40 + 99, 2**64 - 1]

# Random123 kat_vectors, philox4x32_10: counter (4 words), key (2 words) -> output (4 words).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("ctr, key, expected", KAT, ids=["zeros", "ones", "pi"])
def test_reference_philox_known_answers(ctr, key, expected):
    words = philox.philox4x32_10(*ctr, *key)
    assert [int(w) for w in words] == list(expected)
    # Vectorised: the same counter repeated gives the same words in every lane.
    lanes = philox.philox4x32_10(*(np.full(3, c, np.uint64) for c in ctr), *key)
    for lane, want in zip(lanes, expected):
        assert lane.tolist() == [want] * 3


def test_reference_dropout_words_layout():
    """Element idx = i*m + j takes word idx % 4 of block idx // 4; the block index is the
    counter's two low words, step and layer the two high ones, the seed the key."""
    seed, step, layer = 0x0123456789ABCDEF, 5, 9
    words = philox.dropout_words(3, 5, seed, step, layer).reshape(-1)
    for block in range(4):
        out = philox.philox4x32_10(block, 0, step, layer, seed & 0xFFFFFFFF, seed >> 32)
        for lane in range(4):
            idx = 4 * block + lane
            if idx < 15:
                assert int(words[idx]) == int(out[lane])


def _forward(module, A, keep_prob, seed, step, layer, layout="C"):
    shape = A.shape
    outputs = {"out": (shape, A.dtype), "mask": (shape, np.uint8)}
    scalars = {"keep_prob": keep_prob, "seed": seed, "step": step, "layer": layer}
    ret, got = H.call_op(module, "dropout_forward", {"A": A}, outputs, scalars, layout, contiguous=("mask",))
    assert ret is None
    assert set(np.unique(got["mask"]).tolist()) <= {0, 1}
    return got["mask"], got["out"]


def _check_forward(backend, A, keep_prob, seed, step, layer, layout="C"):
    want_mask, want_out = _forward(ref, A, keep_prob, seed, step, layer)
    mask, out = _forward(backend, A, keep_prob, seed, step, layer, layout)
    np.testing.assert_array_equal(mask, want_mask, err_msg=f"mask differs ({layout}, seed={seed})")
    H.assert_within(out, want_out, H.elem_bound(want_out, A.dtype), f"dropout out ({layout})")
    return mask, out


@pytest.mark.parametrize("keep_prob", [0.13, 0.5, 0.8])
@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_dropout_forward_matches_reference(backend, dtype, rng, shape, keep_prob):
    A = rng.normal(size=shape).astype(dtype)
    for seed, step, layer in [(0, 0, 0), (SEEDS[2], 17, 3)]:
        _check_forward(backend, A, keep_prob, seed, step, layer)


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_forward_seeds(backend, dtype, rng, seed):
    A = rng.normal(size=(9, 31)).astype(dtype)
    _check_forward(backend, A, 0.6, seed, 2**32 - 1, 2**31 + 5)


@pytest.mark.parametrize(
    "seed, step, layer", [(-1, -1, -2), (2**64 + 5, 2**32 + 3, 2**33 + 1)], ids=["negative", "wide"]
)
def test_dropout_keys_wrap_like_reference(backend, seed, step, layer):
    """Keys are taken modulo 2**64 (seed) and 2**32 (step, layer), as the reference does."""
    A = np.ones((5, 11))
    mask, _ = _check_forward(backend, A, 0.5, seed, step, layer)
    wrapped, _ = _forward(backend, A, 0.5, seed % 2**64, step % 2**32, layer % 2**32)
    np.testing.assert_array_equal(mask, wrapped)


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
def test_dropout_forward_layouts(backend, dtype, rng, shape, layout):
    A = rng.normal(size=shape).astype(dtype)
    _check_forward(backend, A, 0.7, 987654321, 4, 2, layout)


def test_dropout_known_answer_threshold(backend, dtype):
    """Seed, step and layer 0: elements 0..3 draw Random123's (0, 0) words. A word equal to
    the threshold floor(keep_prob * 2**32) is dropped (strict ``<``), one below is kept.
    keep_prob = word / 2**32 is exact in float64 but not in float32."""
    words = KAT[0][2]
    A = np.arange(1, 5, dtype=dtype).reshape(1, 4)
    for word in words:
        for threshold in (word, word + 1):
            keep_prob = threshold / 2**32
            mask, out = _forward(backend, A, keep_prob, 0, 0, 0)
            expected = np.array([[w < threshold for w in words]], np.uint8)
            np.testing.assert_array_equal(mask, expected, err_msg=f"threshold {threshold:#x}")
            want = np.where(expected == 1, A.astype(np.float64) / keep_prob, 0.0)
            H.assert_within(out, want, H.elem_bound(want, dtype), "dropout out")


def test_keep_prob_one_keeps_everything(backend, dtype, rng):
    A = rng.normal(size=(37, 129)).astype(dtype)
    mask, out = _check_forward(backend, A, 1.0, 42, 1, 1)
    assert mask.all()
    np.testing.assert_array_equal(out, A)


@pytest.mark.parametrize("keep_prob", [0.1, 0.5, 0.9])
def test_keep_fraction(backend, rng, keep_prob):
    n, m = 400, 500
    A = np.ones((n, m), np.float32)
    mask, out = _forward(backend, A, keep_prob, 2024, 7, 1)
    frac = mask.mean()
    sigma = np.sqrt(keep_prob * (1 - keep_prob) / mask.size)
    assert abs(frac - keep_prob) < 5 * sigma, (frac, keep_prob)
    # Rows and columns are not degenerate either.
    assert abs(mask.mean(axis=1) - keep_prob).max() < 6 * np.sqrt(keep_prob * (1 - keep_prob) / m)
    np.testing.assert_array_equal(out[mask == 1], np.float32(1) / np.float32(keep_prob))
    assert (out[mask == 0] == 0).all()


def test_mask_changes_with_seed_step_and_layer(backend):
    A = np.ones((64, 64), np.float64)
    base, _ = _forward(backend, A, 0.5, 11, 3, 2)
    for seed, step, layer in [(12, 3, 2), (11 + 2**32, 3, 2), (11, 4, 2), (11, 3, 3)]:
        other, _ = _forward(backend, A, 0.5, seed, step, layer)
        differing = np.mean(other != base)
        assert 0.4 < differing < 0.6, ((seed, step, layer), differing)  # independent masks: ~0.5
    again, _ = _forward(backend, A, 0.5, 11, 3, 2)
    np.testing.assert_array_equal(again, base)


def test_mask_depends_on_logical_index_only(backend):
    """An (n, m) mask is the row-major reshape of the (1, n*m) mask with the same keys."""
    row, _ = _forward(backend, np.ones((1, 7 * 13)), 0.5, 5, 6, 7)
    block, _ = _forward(backend, np.ones((7, 13)), 0.5, 5, 6, 7)
    np.testing.assert_array_equal(block, row.reshape(7, 13))


def _apply_case(backend, dtype, rng, shape, keep_prob, layout):
    A = rng.normal(size=shape).astype(dtype)
    mask = (rng.uniform(size=shape) < keep_prob).astype(np.uint8)
    inputs = {"A": A, "mask": mask}
    outputs = {"out": (shape, dtype)}
    scalars = {"keep_prob": keep_prob}
    _, want = H.call_op(ref, "dropout_apply", inputs, outputs, scalars, contiguous=("mask",))
    ret, got = H.call_op(backend, "dropout_apply", inputs, outputs, scalars, layout, contiguous=("mask",))
    assert ret is None
    H.assert_within(got["out"], want["out"], H.elem_bound(want["out"], dtype), f"dropout_apply ({layout})")
    assert (got["out"][mask == 0] == 0).all()


@pytest.mark.parametrize("keep_prob", [0.3, 0.8, 1.0])
@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_dropout_apply(backend, dtype, rng, shape, keep_prob):
    _apply_case(backend, dtype, rng, shape, keep_prob, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
def test_dropout_apply_layouts(backend, dtype, rng, shape, layout):
    _apply_case(backend, dtype, rng, shape, 0.75, layout)


def test_apply_reproduces_forward(backend, dtype, rng):
    """The backward pass (apply with the forward's mask) scales exactly like the forward."""
    A = rng.normal(size=(13, 29)).astype(dtype)
    mask, out = _forward(backend, A, 0.65, 77, 2, 1)
    again = np.full_like(A, np.nan)
    backend.dropout_apply(A, mask, again, 0.65)
    np.testing.assert_array_equal(again, out)
