"""The model API: :class:`Sequential`, its training loop and persistence."""

from __future__ import annotations

from .io import load
from .sequential import Sequential

__all__ = ["Sequential", "load"]
