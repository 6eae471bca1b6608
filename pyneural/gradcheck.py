"""``gradient_check(model, X, Y)``: the course's gradient checking for a whole model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import losses as losses_mod
from .layers import Context


@dataclass
class GradientCheckResult:
    """``difference`` is the course's ``‖g - ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂)`` over all parameters;
    ``per_parameter`` gives the same ratio for each parameter array ("layer{i}.{name}")."""

    difference: float
    per_parameter: dict = field(default_factory=dict)
    n_params: int = 0

    def __float__(self):
        return self.difference

    def passed(self, threshold=1e-7) -> bool:
        return self.difference < threshold

    def __str__(self):
        lines = [f"gradient check: difference = {self.difference:.3e} over {self.n_params} parameters"]
        lines += [f"  {k}: {v:.3e}" for k, v in self.per_parameter.items()]
        return "\n".join(lines)


def _ratio(g, a):
    den = np.linalg.norm(g) + np.linalg.norm(a)
    return float(np.linalg.norm(g - a) / den) if den else 0.0


def gradient_check(model, X, Y, epsilon=1e-7, l2=0.0, loss=None):
    """Compare backprop with two-sided differences ``(J(θ+ε) - J(θ-ε)) / 2ε``.

    The cost includes the L2 term, batch norm uses the batch's statistics (its running
    averages are not touched) and dropout is off. Runs in float64 on a copy of the model,
    so a float32 model is checked too and the model itself is unchanged.
    """
    from .model import Sequential

    model._require_built()
    clone = Sequential.from_config({**model.get_config(), "dtype": "float64"})
    clone.set_weights([{k: v.astype(np.float64) for k, v in w.items()} for w in model.get_weights()])
    X = clone._check_X(np.asarray(X, dtype=np.float64))
    Y = clone._check_Y(Y, X.shape[1])
    loss = losses_mod.get(loss) if loss is not None else (model.loss or losses_mod.default_for(clone.output_activation))
    m = X.shape[1]

    def ctx():
        return Context(training=True, dropout=False, update_stats=False, l2=l2)

    def J():
        AL, _ = clone._forward(X, ctx())
        return loss.cost(AL, Y) + clone._l2_cost(l2, m)

    c = ctx()
    AL, caches = clone._forward(X, c)
    clone._backward(AL, Y, caches, c, loss)
    analytic, numeric, per = [], [], {}
    for i, name, param in clone.weights():
        grad = clone.layers[i].grads[name].astype(np.float64).ravel()
        approx = np.empty_like(grad)
        flat = param.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + epsilon
            plus = J()
            flat[j] = old - epsilon
            minus = J()
            flat[j] = old
            approx[j] = (plus - minus) / (2 * epsilon)
        per[f"layer{i}.{name}"] = _ratio(grad, approx)
        analytic.append(grad)
        numeric.append(approx)
    g, a = np.concatenate(analytic), np.concatenate(numeric)
    return GradientCheckResult(_ratio(g, a), per, int(g.size))
