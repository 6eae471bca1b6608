"""``pyneural.functional``: the course's functions, with the course's names, signatures,
defaults, cache layouts and dictionary keys, running on the active backend.

    >>> from pyneural.functional import initialize_parameters_deep, L_model_forward
"""

from __future__ import annotations

from .activations import *  # noqa: F403
from .activations import __all__ as _act
from .backward import *  # noqa: F403
from .backward import __all__ as _bwd
from .cost import *  # noqa: F403
from .cost import __all__ as _cost
from .dropout import *  # noqa: F403
from .dropout import __all__ as _drop
from .forward import *  # noqa: F403
from .forward import __all__ as _fwd
from .gradcheck import *  # noqa: F403
from .gradcheck import __all__ as _gc
from .init import *  # noqa: F403
from .init import __all__ as _init
from .minibatches import *  # noqa: F403
from .minibatches import __all__ as _mb
from .predict import *  # noqa: F403
from .predict import __all__ as _pred
from .update import *  # noqa: F403
from .update import __all__ as _upd

__all__ = [*_act, *_bwd, *_cost, *_drop, *_fwd, *_gc, *_init, *_mb, *_pred, *_upd]
