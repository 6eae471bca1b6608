"""``Dropout``: the notes' inverted dropout, active only while training."""

from __future__ import annotations

from .. import kernels
from .._validation import check_prob
from .base import Layer


class Dropout(Layer):
    """Keeps each unit with probability ``keep_prob`` and scales by ``1/keep_prob`` during
    ``fit``; the identity otherwise (never at prediction time). The mask depends only on the
    fit seed, the step number and the layer's position (Philox), not on the thread count."""

    kind = "dropout"

    def __init__(self, keep_prob=0.8):
        super().__init__()
        self.keep_prob = check_prob(keep_prob, "keep_prob")

    def forward(self, A, ctx):
        if not (ctx.training and ctx.dropout) or self.keep_prob == 1.0:
            return A, None
        out, mask = kernels.dropout_forward(A, self.keep_prob, ctx.seed, ctx.step, ctx.layer_index)
        return out, mask

    def backward(self, dA, cache, ctx):
        if cache is None:
            return dA
        return kernels.dropout_apply(dA, cache, self.keep_prob)

    def get_config(self):
        return {"keep_prob": self.keep_prob}
