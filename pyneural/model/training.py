"""The training loop behind ``Sequential.fit``: mini-batches exactly as the course builds them."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import warnings

import numpy as np

from .. import losses as losses_mod
from .. import optimizers as optimizers_mod
from .. import schedules as schedules_mod
from .._validation import check_number
from ..callbacks import Callback, History
from ..layers import Context
from .sequential import _accuracy, _fresh_seed


def batch_indices(m, batch_size, seed, epoch):
    """Column indices of each mini-batch of epoch ``epoch``: ``RandomState(seed + epoch)
    .permutation(m)`` cut into ``⌊m/size⌋`` full batches and the remainder, as the course's
    ``random_mini_batches(X, Y, size, seed + epoch)``. Full batch (``None``): no shuffle."""
    if batch_size is None:
        return [None]
    perm = np.random.RandomState(seed + epoch).permutation(m)
    return [perm[k:k + batch_size] for k in range(0, m, batch_size)]


@contextlib.contextmanager
def _interrupt_flag():
    """Turn Ctrl-C into a flag checked between steps, so a step is never half applied."""
    flag = {"set": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag["set"] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _progress(verbose, epochs):
    if verbose == 1:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=epochs, unit="epoch", leave=True)
        except ImportError:
            return None
    return None


def _first_nonfinite_layer(model, caches):
    for i, cache in enumerate(caches):
        arrays = cache if isinstance(cache, tuple) else (cache,)
        for a in arrays:
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all():
                return i
    return None


def fit(model, X, Y, epochs=1, batch_size=None, optimizer="adam", loss=None, l2=0.0, schedule=None,
        validation_data=None, callbacks=None, seed=None, verbose=0):
    """Train ``model`` on ``X (n_x, m)``, ``Y``.

    Parameters
    ----------
    epochs : int
        Passes over the data.
    batch_size : int or None
        Mini-batch size; ``None`` is full-batch gradient descent (no shuffling).
    optimizer : str or Optimizer
        "gd", "momentum", "rmsprop", "adam" (course defaults) or an instance (its state
        carries over between ``fit`` calls).
    loss : str or Loss, optional
        Defaults to the loss that matches the output activation.
    l2 : float
        λ of the L2 term ``λ/(2m) Σ‖W‖²`` (m = the mini-batch size), added to the cost and,
        as ``(λ/m)W``, to every Dense layer's gradient.
    schedule : str, Schedule or callable, optional
        Learning-rate decay ``schedule(epoch, lr0)`` (see :mod:`pyneural.schedules`).
    validation_data : (X_dev, Y_dev), optional
        Evaluated after every epoch (``val_loss``, ``val_accuracy``).
    callbacks : list of Callback
    seed : int, optional
        Epoch ``k`` shuffles with ``RandomState(seed + k)``, so ``seed=11`` reproduces the
        course's optimisation notebook (seed 10, plus 1 before each epoch). Dropout masks are
        keyed by ``(seed, step, layer)``. ``None`` draws a seed (stored in the history).
    verbose : int
        0 silent, 1 a progress bar (tqdm), 2 one line per epoch.

    Returns a :class:`~pyneural.callbacks.History`. A NaN or infinite cost stops training
    with a warning naming the first layer whose output was not finite, and the model keeps
    the weights of the last finished epoch. Ctrl-C stops after the current step.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    X = model._check_X(X)
    m = X.shape[1]
    Y = model._check_Y(Y, m)
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        batch_size = int(min(batch_size, m))
    l2 = check_number(l2, "l2", minimum=0.0)
    loss = losses_mod.get(loss) if loss is not None else losses_mod.default_for(model.output_activation)
    optimizer = optimizers_mod.get(optimizer)
    schedule = schedules_mod.get(schedule) if schedule is not None else None
    if seed is None:
        seed = _fresh_seed()
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (X_dev, Y_dev)")
        Xv = model._check_X(validation_data[0], "validation_data[0]")
        Yv = model._check_Y(validation_data[1], Xv.shape[1], "validation_data[1]")
    callbacks = list(callbacks or [])
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    history = History()
    history.seed = int(seed)
    callbacks = [history, *callbacks]
    for cb in callbacks:
        cb.set_model(model)
    model.optimizer, model.loss, model.history, model.stop_training = optimizer, loss, history, False
    lr0 = optimizer.learning_rate
    weights = model.weights()
    params = [a for _, _, a in weights]
    task = model.task
    bar = _progress(verbose, epochs)

    for cb in callbacks:
        cb.on_train_begin()
    try:
        with _interrupt_flag() as interrupted:
            for epoch in range(epochs):
                lr = schedule(epoch, lr0) if schedule is not None else lr0
                for cb in callbacks:
                    cb.on_epoch_begin(epoch, {"lr": lr})
                start = time.perf_counter()
                snapshot = model.get_weights()
                total_cost, correct, seen, nan_layer = 0.0, 0.0, 0, None
                for idx in batch_indices(m, batch_size, seed, epoch):
                    Xb = X if idx is None else X[:, idx]
                    Yb = Y if idx is None else (Y[idx] if Y.ndim == 1 else Y[:, idx])
                    mb = Xb.shape[1]
                    ctx = Context(training=True, seed=int(seed), step=model._step, l2=l2)
                    AL, caches = model._forward(Xb, ctx)
                    cost = loss.cost(AL, Yb) + model._l2_cost(l2, mb)
                    if not math.isfinite(cost):
                        nan_layer = _first_nonfinite_layer(model, caches)
                        break
                    model._backward(AL, Yb, caches, ctx, loss)
                    optimizer.step(params, [model.layers[i].grads[k] for i, k, _ in weights], lr)
                    model._step += 1
                    total_cost += cost * mb
                    acc = _accuracy(AL, Yb, task)
                    if acc is not None:
                        correct += acc * mb
                    seen += mb
                    if interrupted["set"]:
                        break
                if nan_layer is not None or (seen == 0 and m > 0):
                    model.set_weights(snapshot)
                    where = "" if nan_layer is None else f" (first non-finite output: layer {nan_layer}, {model.layers[nan_layer]!r})"
                    history.stopped_reason = f"non-finite cost at epoch {epoch}{where}"
                    warnings.warn(f"fit stopped: the cost became NaN or infinite at epoch {epoch}{where}; "
                                  "the model keeps the weights of the last finished epoch. Try a smaller "
                                  "learning rate.", RuntimeWarning, stacklevel=3)
                    break
                logs = {"loss": total_cost / seen}
                if task != "regression":
                    logs["accuracy"] = correct / seen
                if validation_data is not None:
                    logs.update({"val_" + k: v for k, v in model.evaluate(Xv, Yv, loss).items()})
                logs["lr"] = lr
                logs["time"] = time.perf_counter() - start
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k not in ("lr", "time")})
                elif verbose == 2:
                    print(f"epoch {epoch + 1}/{epochs} " + " ".join(
                        f"{k}={v:.6g}" for k, v in logs.items() if k != "time") + f" ({logs['time']:.3f} s)")
                if interrupted["set"]:
                    history.stopped_reason = f"interrupted (Ctrl-C) during epoch {epoch}"
                    warnings.warn("fit interrupted by Ctrl-C; the model holds the weights after the last "
                                  "finished step", RuntimeWarning, stacklevel=3)
                    break
                if model.stop_training:
                    history.stopped_reason = history.stopped_reason or f"stopped by a callback after epoch {epoch}"
                    break
    finally:
        if bar is not None:
            bar.close()
    for cb in callbacks:
        cb.on_train_end()
    return history


__all__ = ["batch_indices", "fit"]
