"""pyneural's exceptions. They subclass ValueError or TypeError, as NumPy's and
scikit-learn's do, so callers can catch them the usual way."""

from __future__ import annotations

from .backends import BackendUnavailableError
from .data import NotFittedError


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupted, not a pyneural file, or from an
    unsupported format version."""


class NotBuiltError(ValueError):
    """The model has no input size yet: pass ``input_dim=`` or call ``fit`` first."""


__all__ = ["BackendUnavailableError", "ModelFileError", "NotBuiltError", "NotFittedError"]
