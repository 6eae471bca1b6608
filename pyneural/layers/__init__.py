"""``pyneural.layers``: the building blocks of :class:`pyneural.Sequential`."""

from __future__ import annotations

from .activation import Activation
from .base import Context, Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

__all__ = ["Activation", "BatchNorm", "Context", "Dense", "Dropout", "Layer"]

#: Layer classes by the ``kind`` stored in saved models.
REGISTRY = {cls.kind: cls for cls in (Activation, BatchNorm, Dense, Dropout)}
