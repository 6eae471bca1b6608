"""``Sequential``: a stack of layers with the course's layout (examples are columns)."""

from __future__ import annotations

import numpy as np

from .. import kernels
from .. import losses as losses_mod
from .._validation import as_float, as_labels, check_finite
from ..engine.plan import flat_params, flat_state
from ..errors import NotBuiltError
from ..layers import REGISTRY, BatchNorm, Context, Dense, Layer


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().generate_state(1)[0])


class Sequential:
    """A feed-forward network: ``Sequential([Dense(5, "relu"), Dense(1, "sigmoid")], input_dim=2)``.

    Parameters
    ----------
    layers : list of Layer
    input_dim : int, optional
        Number of input features ``n[0]``; without it the model is built by the first ``fit``.
    seed : int, optional
        Initialisation draws ``np.random.RandomState(seed)`` then, layer after layer,
        ``randn(n[l], n[l-1]) * scale`` (the course's numbers for the course's seeds).
    dtype : float32 or float64, optional
        Parameter dtype; by default float64, or the dtype of the first ``fit``'s ``X``.

    ``X`` is ``(n_features, m)``. Labels ``Y`` are ``(1, m)`` for a sigmoid output, one-hot
    ``(C, m)`` or integer ``(m,)`` for softmax, ``(n_out, m)`` for regression.
    """

    def __init__(self, layers, input_dim=None, seed=None, dtype=None):
        layers = list(layers)
        if not layers:
            raise ValueError("layers must be a non-empty list of pyneural layers")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a pyneural layer, got {type(layer).__name__}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("layers must not contain the same layer object twice")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
        self.layers = layers
        self.seed = _fresh_seed() if seed is None else int(seed)
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.input_dim = None
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self.history = None
        self._step = 0  # mini-batch steps taken over all fits (keys dropout masks)
        if input_dim is not None:
            self.build(input_dim)

    # ------------------------------------------------------------------- structure

    @property
    def built(self) -> bool:
        return self.input_dim is not None

    def build(self, input_dim, dtype=None):
        """Create the parameters for ``input_dim`` input features."""
        if isinstance(input_dim, bool) or not isinstance(input_dim, (int, np.integer)) or input_dim < 1:
            raise ValueError(f"input_dim must be a positive int, got {input_dim!r}")
        if self.dtype is None:
            self.dtype = np.dtype(dtype or np.float64)
        self._attach_batchnorm()
        rng = np.random.RandomState(self.seed)
        n = int(input_dim)
        for layer in self.layers:
            n = layer.build(n, rng, self.dtype)
        self.input_dim = int(input_dim)
        # Parameters and batch-norm statistics live in two flat buffers (the layers hold
        # views), which the training engine and the optimizers update in one pass.
        flat_params(self)
        flat_state(self)
        return self

    def _attach_batchnorm(self):
        # The notes normalise Z[l] before the activation: a BatchNorm right after a Dense
        # takes over that Dense's activation and makes its bias redundant (β replaces it).
        for prev, layer in zip(self.layers, self.layers[1:]):
            if isinstance(layer, BatchNorm) and isinstance(prev, Dense) and prev._moved_activation is None:
                layer.activation = prev.activation
                prev._moved_activation = prev.activation
                prev.activation = "identity"
                prev.use_bias = False

    def _require_built(self):
        if not self.built:
            raise NotBuiltError("the model is not built: pass input_dim= to Sequential or call fit first")

    def weights(self):
        """``[(layer_index, name, array)]`` of the trainable parameters, in a fixed order."""
        self._require_built()
        return [(i, k, a) for i, layer in enumerate(self.layers) for k, a in layer.params.items()]

    def get_weights(self):
        """Copies of every parameter and every non-trainable state array."""
        self._require_built()
        return [{k: a.copy() for k, a in {**layer.params, **{"state:" + s: v for s, v in layer.state.items()}}.items()}
                for layer in self.layers]

    def set_weights(self, weights):
        """Restore arrays saved by :meth:`get_weights` (copied in place)."""
        self._require_built()
        if len(weights) != len(self.layers):
            raise ValueError(f"weights must hold {len(self.layers)} layer entries, got {len(weights)}")
        for i, (layer, saved) in enumerate(zip(self.layers, weights)):
            for key, value in saved.items():
                target = layer.state if key.startswith("state:") else layer.params
                name = key[6:] if key.startswith("state:") else key
                if name not in target or np.shape(value) != target[name].shape:
                    raise ValueError(f"weights[{i}][{key!r}] does not match layer {i} ({layer!r})")
                target[name][...] = value

    @property
    def parameters(self):
        """The course's dict view ``{"W1", "b1", ..., "WL", "bL"}`` (plus ``gamma{l}``,
        ``beta{l}`` for batch norm after Dense ``l``). The arrays are the model's own."""
        self._require_built()
        out, l = {}, 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                l += 1
                out["W" + str(l)] = layer.params["W"]
                if "b" in layer.params:
                    out["b" + str(l)] = layer.params["b"]
            elif isinstance(layer, BatchNorm):
                out["gamma" + str(l)] = layer.params["gamma"]
                out["beta" + str(l)] = layer.params["beta"]
        return out

    def count_params(self) -> int:
        self._require_built()
        return sum(layer.n_params() for layer in self.layers)

    @property
    def output_activation(self):
        return getattr(self.layers[-1], "activation", "identity") if self.layers else "identity"

    @property
    def task(self) -> str:
        """"binary", "multiclass" or "regression", from the output activation."""
        code = kernels.activation_code(self.output_activation)
        if code == kernels.activation_code("sigmoid"):
            return "binary"
        if code == kernels.activation_code("softmax"):
            return "multiclass"
        return "regression"

    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts (printed and returned)."""
        self._require_built()
        rows = [("Layer", "Output shape", "Params")]
        for i, layer in enumerate(self.layers):
            rows.append((f"{i}: {layer!r}", f"({layer.output_dim}, m)", f"{layer.n_params():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        line = "-" * (sum(widths) + 4)
        text = [line] + [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
        text.insert(2, line)
        n_state = sum(a.size for layer in self.layers for a in layer.state.values())
        text += [line, f"Input: ({self.input_dim}, m), dtype {self.dtype}",
                 f"Trainable params: {self.count_params():,}", f"Non-trainable params: {n_state:,}"]
        out = "\n".join(text)
        if print_fn is not None:
            print_fn(out)
        return out

    def __repr__(self):
        return f"Sequential({self.layers!r}, input_dim={self.input_dim}, seed={self.seed})"

    # ------------------------------------------------------------------ data checks

    def _check_X(self, X, name="X"):
        X = as_float(X, name)
        if not self.built:
            self.build(X.shape[0], dtype=X.dtype)
        if X.shape[0] != self.input_dim:
            raise ValueError(f"{name} must have shape ({self.input_dim}, m) (features are rows), got {X.shape}")
        check_finite(X, name)
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    def _check_Y(self, Y, m, name="Y"):
        """Validated targets for this model's task."""
        out_dim = self.layers[-1].output_dim
        task = self.task
        if task == "multiclass":
            Yarr = np.asarray(Y)
            if Yarr.ndim == 1 or (Yarr.ndim == 2 and Yarr.shape[0] == 1 and out_dim > 1):
                return as_labels(Yarr, name, m, out_dim)
            Yf = as_float(Yarr, name)
            if Yf.shape != (out_dim, m):
                raise ValueError(f"{name} must be one-hot ({out_dim}, {m}) or integer labels ({m},), got {Yf.shape}")
            check_finite(Yf, name)
            if np.any((Yf != 0) & (Yf != 1)) or np.any(Yf.sum(axis=0) != 1):
                raise ValueError(f"{name} must be one-hot: one 1 per column, zeros elsewhere")
            return Yf.astype(self.dtype, copy=False)
        Yf = as_float(np.asarray(Y).reshape(1, -1) if np.ndim(Y) == 1 and out_dim == 1 else Y, name)
        if Yf.shape != (out_dim, m):
            raise ValueError(f"{name} must have shape ({out_dim}, {m}), got {Yf.shape}")
        check_finite(Yf, name)
        if task == "binary" and np.any((Yf != 0) & (Yf != 1)):
            raise ValueError(f"{name} must hold binary labels 0 or 1 for a sigmoid output")
        return Yf.astype(self.dtype, copy=False)

    # -------------------------------------------------------------- forward/backward

    def _forward(self, X, ctx):
        caches = []
        A = X
        for i, layer in enumerate(self.layers):
            ctx.layer_index = i
            A, cache = layer.forward(A, ctx)
            caches.append(cache)
        return A, caches

    def _backward(self, AL, Y, caches, ctx, loss):
        last = len(self.layers) - 1
        out_layer = self.layers[last]
        fused = hasattr(out_layer, "activation") and loss.fuses_with(out_layer.activation)
        dA = None if fused else loss.output_dA(AL, Y)
        for i in range(last, -1, -1):
            ctx.layer_index = i
            if i == last and fused:
                dA = self.layers[i].backward(None, caches[i], ctx, dZ=loss.output_dZ(AL, Y))
            else:
                dA = self.layers[i].backward(dA, caches[i], ctx)

    def _l2_cost(self, l2, m):
        if not l2:
            return 0.0
        total = sum(kernels.sum_squares(layer.params["W"]) for layer in self.layers if isinstance(layer, Dense))
        return l2 / (2 * m) * total

    # ------------------------------------------------------------------- inference

    def predict_proba(self, X):
        """The network's output ``AL`` (probabilities for sigmoid/softmax outputs)."""
        self._require_built()
        X = self._check_X(X)
        AL, _ = self._forward(X, Context(training=False))
        return AL

    def predict(self, X):
        """Labels: ``(1, m)`` 0/1 for a sigmoid output (threshold 0.5), ``(m,)`` class
        indices for softmax, the output itself for regression."""
        AL = self.predict_proba(X)
        task = self.task
        if task == "binary":
            return (AL > 0.5).astype(np.int64)
        if task == "multiclass":
            return np.argmax(AL, axis=0)
        return AL

    def evaluate(self, X, Y, loss=None):
        """``{"loss": cost, "accuracy": ...}`` on ``(X, Y)`` in inference mode."""
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[1])
        loss = losses_mod.get(loss) if loss is not None else (self.loss or losses_mod.default_for(self.output_activation))
        AL, _ = self._forward(X, Context(training=False))
        out = {"loss": loss.cost(AL, Y)}
        if self.task != "regression":
            out["accuracy"] = _correct(AL, Y, self.task) / (AL.size if self.task == "binary" else AL.shape[1])
        return out

    # ---------------------------------------------------------------- persistence

    def get_config(self) -> dict:
        return {
            "input_dim": self.input_dim,
            "seed": self.seed,
            "dtype": None if self.dtype is None else self.dtype.name,
            "layers": [{"kind": layer.kind, "config": layer.get_config()} for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config):
        layers = []
        for i, spec in enumerate(config["layers"]):
            kind = spec.get("kind")
            if kind not in REGISTRY:
                raise ValueError(f"layers[{i}] has unknown kind {kind!r}")
            layers.append(REGISTRY[kind](**spec.get("config", {})))
        return cls(layers, input_dim=config.get("input_dim"), seed=config.get("seed"), dtype=config.get("dtype"))

    def save(self, path):
        """Save to ``path`` (an ``.npz`` file with a JSON header; no pickle), atomically."""
        from .io import save

        save(self, path)

    def fit(self, X, Y, epochs=1, batch_size=None, optimizer="adam", loss=None, l2=0.0, schedule=None,
            validation_data=None, callbacks=None, seed=None, verbose=0, engine=None):
        """Train; see :func:`pyneural.model.training.fit` for the parameters."""
        from .training import fit

        return fit(self, X, Y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, loss=loss, l2=l2,
                   schedule=schedule, validation_data=validation_data, callbacks=callbacks, seed=seed,
                   verbose=verbose, engine=engine)


def _correct(AL, Y, task):
    """Number of correct predictions: output units for binary (sigmoid) outputs, columns for
    multiclass, 0 for regression."""
    if task == "binary":
        return int(np.count_nonzero((AL > 0.5) == (Y > 0.5)))
    if task == "multiclass":
        pred = np.argmax(AL, axis=0)
        labels = Y if Y.ndim == 1 else np.argmax(Y, axis=0)
        return int(np.count_nonzero(pred == labels))
    return 0
