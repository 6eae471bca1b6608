"""scikit-learn estimators around :class:`pyneural.Sequential`.

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` follow the scikit-learn
estimator protocol (``get_params``/``set_params``, ``fit``/``predict``/``score``,
``clone``), so they work in ``Pipeline``, ``GridSearchCV``, ``RandomizedSearchCV``,
``cross_val_score`` and pass ``sklearn.utils.estimator_checks.check_estimator``.

Unlike the rest of pyneural, ``X`` here is scikit-learn's ``(n_samples, n_features)``:
``fit`` hands the model the transposed *view* ``X.T`` (examples become columns without a
copy for C-ordered input of the estimator's ``dtype``).

This module needs scikit-learn (``pip install scikit-learn``); ``import pyneural`` does
not import it.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import optimizers as optimizers_mod
from .callbacks import EarlyStopping
from .layers import BatchNorm, Dense, Dropout
from .model import Sequential

_SEED_MAX = np.iinfo(np.int32).max


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class _BaseNeuralNet(BaseEstimator):
    """Shared parameters, network construction and training."""

    def __init__(
        self,
        hidden_layer_sizes=(64,),
        activation="relu",
        optimizer="adam",
        learning_rate=0.001,
        epochs=200,
        batch_size=64,
        l2=0.0,
        keep_prob=1.0,
        batch_norm=False,
        init="he",
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        random_state=None,
        verbose=0,
        dtype="float64",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.keep_prob = keep_prob
        self.batch_norm = batch_norm
        self.init = init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    # ---------------------------------------------------------------- checks

    def _dtype(self):
        try:
            dt = np.dtype(self.dtype)
        except TypeError as exc:
            raise TypeError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}") from exc
        if dt not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return dt

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if _is_int(sizes):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError as exc:
            raise TypeError(
                f"hidden_layer_sizes must be an int or a sequence of ints, got {self.hidden_layer_sizes!r}"
            ) from exc
        if not all(_is_int(s) and s >= 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must hold positive ints, got {self.hidden_layer_sizes!r}")
        return tuple(int(s) for s in sizes)

    def _check_params(self):
        if not _is_int(self.epochs) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {self.epochs!r}")
        if self.batch_size is not None and (not _is_int(self.batch_size) or self.batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {self.batch_size!r}")
        if not _is_real(self.learning_rate) or not (0 < self.learning_rate < np.inf):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not _is_real(self.l2) or not (0 <= self.l2 < np.inf):
            raise ValueError(f"l2 must be a number >= 0, got {self.l2!r}")
        if not _is_real(self.keep_prob) or not (0 < self.keep_prob <= 1):
            raise ValueError(f"keep_prob must be in (0, 1], got {self.keep_prob!r}")
        if self.early_stopping:
            if not _is_real(self.validation_fraction) or not (0 < self.validation_fraction < 1):
                raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
            if not _is_int(self.patience) or self.patience < 0:
                raise ValueError(f"patience must be an int >= 0, got {self.patience!r}")
        if self.verbose not in (0, 1, 2, False, True):
            raise ValueError(f"verbose must be 0, 1 or 2, got {self.verbose!r}")

    def _make_optimizer(self):
        # A fresh optimizer every fit: a name gets the course defaults, an instance lends its
        # settings (never its state, and it is never trained itself); the learning rate is
        # ours and goes through the optimizer's own validation.
        opt = optimizers_mod.get(self.optimizer)  # ValueError for unknown names
        return type(opt)(**{**opt.get_config(), "learning_rate": float(self.learning_rate)})

    def _build_model(self, n_out, out_activation, seed, dtype):
        layers = []
        for units in self._hidden_sizes():
            layers.append(Dense(units, self.activation, init=self.init))
            if self.batch_norm:
                layers.append(BatchNorm())
            if self.keep_prob < 1:
                layers.append(Dropout(float(self.keep_prob)))
        layers.append(Dense(n_out, out_activation, init=self.init))
        return Sequential(layers, seed=seed, dtype=dtype)

    # -------------------------------------------------------------- training

    def _train(self, X, Y, n_out, out_activation, stratify=None):
        """Fit a fresh network on samples-first ``X`` (m, n) and model-layout targets ``Y``
        (``(k, m)`` or ``(m,)``: the sample axis is last)."""
        self._check_params()
        dtype = X.dtype
        rng = check_random_state(self.random_state)
        model_seed, fit_seed, split_seed = (int(s) for s in rng.randint(0, _SEED_MAX, size=3))
        self.model_ = self._build_model(n_out, out_activation, model_seed, dtype)

        callbacks, validation_data = [], None
        if self.early_stopping:
            idx = np.arange(X.shape[0])
            try:
                train_idx, val_idx = train_test_split(
                    idx, test_size=self.validation_fraction, random_state=split_seed, stratify=stratify)
            except ValueError:
                if stratify is None:
                    raise
                train_idx, val_idx = train_test_split(idx, test_size=self.validation_fraction,
                                                      random_state=split_seed)
            Y_train, Y_val = Y[..., train_idx], Y[..., val_idx]
            X_train, X_val = X[train_idx], X[val_idx]
            validation_data = (X_val.T, Y_val)
            callbacks.append(EarlyStopping(monitor="val_loss", patience=int(self.patience),
                                           restore_best_weights=True))
        else:
            X_train, Y_train = X, Y

        self.history_ = self.model_.fit(
            X_train.T,  # (n_features, m) view: examples as columns, no copy
            Y_train,
            epochs=int(self.epochs),
            batch_size=None if self.batch_size is None else int(self.batch_size),
            optimizer=self._make_optimizer(),
            l2=float(self.l2),
            validation_data=validation_data,
            callbacks=callbacks,
            seed=fit_seed,
            verbose=int(self.verbose),
        )
        self.n_iter_ = len(self.history_.epoch)
        return self

    def _model_output(self, X):
        """The network's output for samples-first ``X``, as ``(m, n_out)``."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype)
        return self.model_.predict_proba(X.T).T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """A feed-forward classifier trained by pyneural.

    Binary problems get one sigmoid output unit (binary cross-entropy), more classes a
    softmax output (categorical cross-entropy). Class labels may be any values
    ``np.unique`` can sort (ints, strings, ...); ``predict`` returns them unchanged.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Units of each hidden ``Dense`` layer; ``()`` gives logistic/softmax regression.
    activation : str, default="relu"
        Hidden-layer activation: "relu", "tanh", "sigmoid", "leaky_relu", "identity".
    optimizer : str or pyneural.optimizers.Optimizer, default="adam"
        "gd"/"sgd", "momentum", "rmsprop", "adam", or an instance whose settings are kept
        (it is copied; its learning rate is replaced by ``learning_rate``).
    learning_rate : float, default=0.001
    epochs : int, default=200
        Passes over the training data (fewer with early stopping).
    batch_size : int or None, default=64
        Mini-batch size; ``None`` trains full-batch.
    l2 : float, default=0.0
        L2 strength λ (the course's ``λ/(2m) Σ‖W‖²``).
    keep_prob : float, default=1.0
        Below 1, a ``Dropout(keep_prob)`` follows every hidden layer.
    batch_norm : bool, default=False
        A ``BatchNorm`` after every hidden ``Dense`` (normalising ``Z`` before the activation).
    init : str or float, default="he"
        Weight initialisation of every ``Dense`` (see :class:`pyneural.layers.Dense`).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified when possible) and
        stop when its loss has not improved for ``patience`` epochs; the best weights are kept.
    validation_fraction : float, default=0.1
    patience : int, default=10
    random_state : int, RandomState or None, default=None
        Seeds the initialisation, the mini-batch shuffles, dropout and the validation split.
        An int makes ``fit`` fully reproducible.
    verbose : int, default=0
        0 silent, 1 progress bar, 2 one line per epoch.
    dtype : "float64" or "float32", default="float64"
        Parameter and compute dtype; ``X`` is converted to it (no copy if it already is).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray, only when ``X`` had string column names
    model_ : pyneural.Sequential
        The fitted network (its ``predict``/``predict_proba`` take ``(n_features, m)``).
    history_ : pyneural.callbacks.History
        Per-epoch ``loss``/``accuracy`` (and ``val_*`` with early stopping).
    n_iter_ : int
        Epochs run.
    """

    def fit(self, X, y):
        """Train on ``X`` of shape (n_samples, n_features) and labels ``y`` (n_samples,)."""
        X, y = validate_data(self, X, y, dtype=self._dtype())
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        y_enc = y_enc.reshape(-1)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"NeuralNetClassifier needs samples of at least 2 classes; got one class "
                f"({self.classes_[0]!r})")
        if n_classes == 2:
            Y = y_enc.reshape(1, -1).astype(X.dtype)
            return self._train(X, Y, 1, "sigmoid", stratify=y_enc)
        return self._train(X, y_enc.astype(np.int64), n_classes, "softmax", stratify=y_enc)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        out = self._model_output(X)
        if len(self.classes_) == 2:
            p = out[:, 0]
            return np.column_stack([1 - p, p])
        return out

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels, shape (n_samples,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class NeuralNetRegressor(RegressorMixin, _BaseNeuralNet):
    """A feed-forward regressor trained by pyneural: identity output, squared-error loss.

    ``y`` may be (n_samples,) or (n_samples, n_outputs); ``predict`` returns the same
    shape, as float64 (scikit-learn's target dtype) whatever ``dtype`` the network uses. ``score`` is R². Parameters and attributes are those of
    :class:`NeuralNetClassifier` (no ``classes_``); ``history_`` records ``loss`` (the
    course's ``½ mean (ŷ - y)²``).
    """

    def fit(self, X, y):
        """Train on ``X`` of shape (n_samples, n_features) and targets ``y``."""
        X, y = validate_data(self, X, y, dtype=self._dtype(), multi_output=True, y_numeric=True)
        y = np.asarray(y)
        self._y_ndim = y.ndim
        Y = y.reshape(1, -1) if y.ndim == 1 else y.T
        return self._train(X, Y, Y.shape[0], "identity")

    def predict(self, X):
        """Predictions, shape (n_samples,) or (n_samples, n_outputs) as ``y`` was."""
        out = self._model_output(X).astype(np.float64, copy=False)  # sklearn's target dtype
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]
