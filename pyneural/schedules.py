"""Learning-rate decay schedules (notes O19): ``schedule(epoch, lr0) -> lr``.

Epoch convention
----------------
``epoch`` is the 0-based index of the epoch about to run (0 for the first epoch). The notes
write their formulas with a 1-based ``epoch_num`` (their table: α₀ = 0.2, decay_rate = 1
gives 0.1, 0.067, 0.05, 0.04 for epochs 1, 2, 3, 4), so the formulas below use
``epoch_num = epoch + 1``: the first epoch (``epoch=0``) already trains with the decayed
rate 0.1, exactly as in the notes' table. :class:`StepDecay` is the exception: a staircase
keeps α₀ for its first ``every`` epochs (``epoch`` 0 .. every−1).

Every schedule has ``get_config()`` (a plain dict with its ``name``) and
``from_config(dict)``, so a model can save it without pickle; :func:`get` resolves a name,
a config dict or a schedule object.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_number

__all__ = [
    "Constant",
    "ExponentialDecay",
    "InverseSqrtDecay",
    "InverseTimeDecay",
    "Schedule",
    "StepDecay",
    "get",
]


def _positive_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


class Schedule:
    """Base class: subclasses set ``name``, store their parameters and implement ``_rate``."""

    name = ""
    _params: tuple = ()

    def __call__(self, epoch, lr0) -> float:
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)):
            raise TypeError(f"epoch must be an int (0 for the first epoch), got {epoch!r}")
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0 (0 for the first epoch), got {epoch}")
        lr0 = check_number(lr0, "lr0", minimum=0.0)
        return float(lr0 * self._rate(int(epoch)))

    def _rate(self, epoch: int) -> float:  # the factor multiplying lr0
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **{p: getattr(self, p) for p in self._params}}

    @classmethod
    def from_config(cls, config) -> Schedule:
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        config = dict(config)
        name = config.pop("name", cls.name)
        if cls is Schedule:  # the base class dispatches on the name
            if not name:
                raise ValueError("config must name its schedule, e.g. {'name': 'inverse_time', ...}")
            return _lookup(name).from_config(config)
        if _key(name) not in _aliases(cls):
            raise ValueError(f"config is for schedule {name!r}, not {cls.name!r}")
        unknown = set(config) - set(cls._params)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} parameters {sorted(unknown)}; expected {list(cls._params)}")
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._params)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.get_config().items())))


class Constant(Schedule):
    """α = α₀ for every epoch (no decay)."""

    name = "constant"

    def _rate(self, epoch):
        return 1.0


class InverseTimeDecay(Schedule):
    """α = α₀ / (1 + decay_rate · ⌊epoch_num / time_interval⌋), epoch_num = epoch + 1.

    With ``time_interval=1`` this is the notes' α₀/(1 + decay_rate·epoch_num) (ERR-19: the
    α₀ factor belongs there); a larger ``time_interval`` lowers the rate in steps, once
    every ``time_interval`` epochs (the course's "fixed interval scheduling").
    """

    name = "inverse_time"
    _params = ("decay_rate", "time_interval")

    def __init__(self, decay_rate=1.0, time_interval=1):
        self.decay_rate = check_number(decay_rate, "decay_rate", minimum=0.0)
        self.time_interval = _positive_int(time_interval, "time_interval")

    def _rate(self, epoch):
        return 1.0 / (1.0 + self.decay_rate * ((epoch + 1) // self.time_interval))


class ExponentialDecay(Schedule):
    """α = base^epoch_num · α₀ with epoch_num = epoch + 1 (notes: 0.95^epoch_num · α₀)."""

    name = "exponential"
    _params = ("base",)

    def __init__(self, base=0.95):
        b = check_number(base, "base", minimum=0.0, strict=True)
        if b > 1.0:
            raise ValueError(f"base must be in (0, 1] (a decay), got {base!r}")
        self.base = b

    def _rate(self, epoch):
        return self.base ** (epoch + 1)


class InverseSqrtDecay(Schedule):
    """α = k / √epoch_num · α₀ with epoch_num = epoch + 1 (the notes' "k/√epoch_num · α₀";
    the 1-based count keeps the first epoch finite: it gets k·α₀)."""

    name = "inverse_sqrt"
    _params = ("k",)

    def __init__(self, k=1.0):
        self.k = check_number(k, "k", minimum=0.0, strict=True)

    def _rate(self, epoch):
        return self.k / math.sqrt(epoch + 1)


class StepDecay(Schedule):
    """Discrete staircase: α = α₀ · drop^⌊epoch / every⌋ (0-based epoch), i.e. α₀ for the
    first ``every`` epochs, then multiplied by ``drop`` every ``every`` epochs."""

    name = "step"
    _params = ("drop", "every")

    def __init__(self, drop=0.5, every=10):
        d = check_number(drop, "drop", minimum=0.0, strict=True)
        if d > 1.0:
            raise ValueError(f"drop must be in (0, 1] (a decay), got {drop!r}")
        self.drop = d
        self.every = _positive_int(every, "every")

    def _rate(self, epoch):
        return self.drop ** (epoch // self.every)


_CLASSES = (Constant, InverseTimeDecay, ExponentialDecay, InverseSqrtDecay, StepDecay)


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def _aliases(cls) -> set:
    # "inverse_time", "inverse_time_decay", "InverseTimeDecay" all name one class
    return {_key(cls.name), _key(cls.name) + "decay", _key(cls.__name__)}


def _lookup(name) -> type:
    if not isinstance(name, str):
        raise TypeError(f"a schedule name must be a str, got {type(name).__name__}")
    for cls in _CLASSES:
        if _key(name) in _aliases(cls):
            return cls
    raise ValueError(f"unknown schedule {name!r}; expected one of {[c.name for c in _CLASSES]}")


def get(name_or_obj) -> Schedule:
    """Resolve a schedule: None → :class:`Constant`; a name such as ``"inverse_time"`` (or
    ``"InverseTimeDecay"``) → that class with its defaults; a ``get_config()`` dict → the
    schedule it describes; a schedule object → itself; any other callable
    ``f(epoch, lr0) -> lr`` → itself (it cannot be saved, having no config)."""
    if name_or_obj is None:
        return Constant()
    if isinstance(name_or_obj, Schedule):
        return name_or_obj
    if isinstance(name_or_obj, str):
        return _lookup(name_or_obj)()
    if isinstance(name_or_obj, dict):
        return Schedule.from_config(name_or_obj)
    if isinstance(name_or_obj, type) and issubclass(name_or_obj, Schedule):
        return name_or_obj()
    if callable(name_or_obj):
        return name_or_obj
    raise TypeError(
        f"schedule must be a name, a config dict, a Schedule or a callable f(epoch, lr0), "
        f"got {type(name_or_obj).__name__}"
    )
