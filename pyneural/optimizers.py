"""Optimizers for :class:`pyneural.Sequential`: GD, Momentum, RMSprop, Adam (course defaults).

Each keeps its state per parameter and updates the parameters in place with one fused
kernel call per array. ``get_state``/``set_state`` expose the state for checkpoints.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from ._validation import check_number


class Optimizer:
    name = ""

    def __init__(self, learning_rate):
        self.learning_rate = check_number(learning_rate, "learning_rate", minimum=0.0, strict=True)
        self.slots: dict[str, list[np.ndarray]] = {}
        self.iterations = 0

    def _slot(self, name, params):
        if name not in self.slots:
            self.slots[name] = [np.zeros_like(p) for p in params]
        return self.slots[name]

    def step(self, params, grads, lr=None):
        """Update every array of ``params`` in place with its gradient in ``grads``."""
        self.iterations += 1
        lr = self.learning_rate if lr is None else lr
        self._step(params, grads, lr)

    def _step(self, params, grads, lr):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def get_state(self) -> dict:
        return {"iterations": self.iterations, "slots": {k: [a.copy() for a in v] for k, v in self.slots.items()}}

    def set_state(self, state) -> None:
        self.iterations = int(state["iterations"])
        self.slots = {k: [np.array(a) for a in v] for k, v in state["slots"].items()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class GD(Optimizer):
    """Gradient descent, ``θ := θ - α dθ``."""

    name = "gd"

    def __init__(self, learning_rate=0.01):
        super().__init__(learning_rate)

    def _step(self, params, grads, lr):
        for p, g in zip(params, grads):
            kernels.gd_update(p, g, lr)


class Momentum(Optimizer):
    """``v = βv + (1-β)dθ``; ``θ := θ - α v`` (the notes' form with the ``1 - β`` factor)."""

    name = "momentum"

    def __init__(self, learning_rate=0.01, beta=0.9):
        super().__init__(learning_rate)
        self.beta = beta
        kernels._beta(beta, "beta")

    def _step(self, params, grads, lr):
        for p, g, v in zip(params, grads, self._slot("v", params)):
            kernels.momentum_update(p, g, v, lr, self.beta)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


class RMSprop(Optimizer):
    """``s = βs + (1-β)dθ²``; ``θ := θ - α dθ/(√s + ε)`` (ε always included)."""

    name = "rmsprop"

    def __init__(self, learning_rate=0.01, beta=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        self.beta = beta
        self.epsilon = epsilon
        kernels._beta(beta, "beta")
        check_number(epsilon, "epsilon", minimum=0.0)

    def _step(self, params, grads, lr):
        for p, g, s in zip(params, grads, self._slot("s", params)):
            kernels.rmsprop_update(p, g, s, lr, self.beta, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with bias correction: ``θ := θ - α v̂/(√ŝ + ε)`` (standard; ε outside the root).

    ``eps_inside_sqrt=True`` gives the course code's ``√(ŝ + ε)``. Defaults are the course's
    ``update_parameters_with_adam`` defaults (α = 0.01, β1 = 0.9, β2 = 0.999, ε = 1e-8).
    """

    name = "adam"

    def __init__(self, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8, eps_inside_sqrt=False):
        super().__init__(learning_rate)
        kernels._beta(beta1, "beta1")
        kernels._beta(beta2, "beta2")
        check_number(epsilon, "epsilon", minimum=0.0)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.eps_inside_sqrt = bool(eps_inside_sqrt)

    def _step(self, params, grads, lr):
        t = self.iterations
        for p, g, v, s in zip(params, grads, self._slot("v", params), self._slot("s", params)):
            kernels.adam_update(p, g, v, s, t, lr, self.beta1, self.beta2, self.epsilon,
                                eps_inside_sqrt=self.eps_inside_sqrt)

    def get_config(self):
        cfg = {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}
        if self.eps_inside_sqrt:
            cfg["eps_inside_sqrt"] = True
        return cfg


_OPTIMIZERS = {cls.name: cls for cls in (GD, Momentum, RMSprop, Adam)}
_ALIASES = {"sgd": "gd", "gradient_descent": "gd"}


def get(optimizer) -> Optimizer:
    """An optimizer from an instance or a name ("gd"/"sgd", "momentum", "rmsprop", "adam")."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        key = _ALIASES.get(optimizer.lower(), optimizer.lower())
        if key in _OPTIMIZERS:
            return _OPTIMIZERS[key]()
    raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)} or an Optimizer, got {optimizer!r}")


def from_config(name, config) -> Optimizer:
    return _OPTIMIZERS[name](**config)
