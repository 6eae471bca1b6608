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
from ..backends import get_backend
from ..engine import executor_for
from ..engine import plan as plan_mod
from .._validation import check_number
from ..callbacks import Callback, History
from ..layers import Context
from .sequential import _correct, _fresh_seed


def batch_indices(m, batch_size, seed, epoch):
    """Column indices of each mini-batch of epoch ``epoch``: ``RandomState(seed + epoch)
    .permutation(m)`` cut into ``⌊m/size⌋`` full batches and the remainder, as the course's
    ``random_mini_batches(X, Y, size, seed + epoch)`` (the seed taken modulo 2**32, as
    ``RandomState`` requires). Full batch (``None``): no shuffle."""
    if batch_size is None:
        return [None]
    perm = np.random.RandomState((seed + epoch) % 2**32).permutation(m)
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
        validation_data=None, callbacks=None, seed=None, verbose=0, engine=None):
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
        Epoch ``k`` shuffles with ``RandomState((seed + k) mod 2**32)``, so ``seed=11``
        reproduces the course's optimisation notebook (seed 10, plus 1 before each epoch).
        Dropout masks are keyed by ``(seed, step, layer)``. ``None`` draws a seed (stored in
        the history). At most ``2**63 - 1``.
    verbose : int
        0 silent, 1 a progress bar (tqdm), 2 one line per epoch.
    engine : bool or None
        ``None`` (default): on the ``cpp`` and ``numba`` backends whole epochs run inside
        the compiled training engine (:mod:`pyneural.engine`); on ``numpy`` the per-layer
        loop runs. ``False`` forces the per-layer loop (the readable reference), ``True``
        requires the engine.

    Returns a :class:`~pyneural.callbacks.History`. A NaN or infinite cost stops training
    with a warning naming the first layer whose output was not finite, and the model keeps
    the weights of the last finished epoch. Ctrl-C stops after the current step (on the
    ``numba`` engine: after the current epoch).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if engine not in (None, True, False):
        raise ValueError(f"engine must be None, True or False, got {engine!r}")
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
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in [0, 2**63) or None, got {seed!r}")
    validation = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (X_dev, Y_dev)")
        Xv = model._check_X(validation_data[0], "validation_data[0]")
        validation = (Xv, model._check_Y(validation_data[1], Xv.shape[1], "validation_data[1]"))
    callbacks = list(callbacks or [])
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    executor = None if engine is False else executor_for(get_backend())
    if engine is True and executor is None:
        raise ValueError(f"the {get_backend().NAME} backend has no training engine; use cpp or numba")
    history = History()
    history.seed = int(seed)
    plain = not callbacks and validation is None and verbose != 2  # epochs may run in chunks
    callbacks = [history, *callbacks]
    for cb in callbacks:
        cb.set_model(model)
    model.optimizer, model.loss, model.history, model.stop_training = optimizer, loss, history, False
    run = _Run(model, X, Y, batch_size, loss, optimizer, l2, int(seed), schedule, validation, callbacks,
               _progress(verbose, epochs), verbose, epochs)
    for cb in callbacks:
        cb.on_train_begin()
    try:
        with _interrupt_flag() as interrupted:
            if executor is not None:
                run.engine_loop(executor, interrupted, plain)
            else:
                run.layer_loop(interrupted)
    finally:
        if run.bar is not None:
            run.bar.close()
    for cb in callbacks:
        cb.on_train_end()
    return history


class _Run:
    """One ``fit`` call: the two training loops and the bookkeeping they share."""

    def __init__(self, model, X, Y, batch_size, loss, optimizer, l2, seed, schedule, validation, callbacks,
                 bar, verbose, epochs):
        self.model, self.X, self.Y, self.batch_size = model, X, Y, batch_size
        self.loss, self.optimizer, self.l2, self.seed = loss, optimizer, l2, seed
        self.schedule, self.validation, self.callbacks = schedule, validation, callbacks
        self.bar, self.verbose, self.epochs = bar, verbose, epochs
        self.lr0 = optimizer.learning_rate
        self.history = callbacks[0]

    def lr(self, epoch):
        return self.schedule(epoch, self.lr0) if self.schedule is not None else self.lr0

    # ------------------------------------------------------------------ bookkeeping

    def end_epoch(self, epoch, lr, cost, correct, seen, seconds):
        """Logs, callbacks and progress of a finished (or interrupted) epoch."""
        logs = {"loss": cost / seen}
        task = self.model.task
        if task != "regression":
            # Binary: every output unit is a prediction (correct counts units).
            logs["accuracy"] = correct / (seen * (self.model.layers[-1].output_dim if task == "binary" else 1))
        if self.validation is not None:
            logs.update({"val_" + k: v for k, v in self.model.evaluate(*self.validation, self.loss).items()})
        logs["lr"] = lr
        logs["time"] = seconds
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k not in ("lr", "time")})
        elif self.verbose == 2:
            print(f"epoch {epoch + 1}/{self.epochs} " + " ".join(
                f"{k}={v:.6g}" for k, v in logs.items() if k != "time") + f" ({seconds:.3f} s)")

    def stop_nonfinite(self, epoch, layer):
        model = self.model
        where = "" if layer is None or layer < 0 else f" (first non-finite output: layer {layer}, {model.layers[layer]!r})"
        self.history.stopped_reason = f"non-finite cost at epoch {epoch}{where}"
        warnings.warn(f"fit stopped: the cost became NaN or infinite at epoch {epoch}{where}; the model keeps "
                      "the weights of the last finished epoch. Try a smaller learning rate.",
                      RuntimeWarning, stacklevel=4)

    def stop_interrupted(self, epoch):
        self.history.stopped_reason = f"interrupted (Ctrl-C) during epoch {epoch}"
        warnings.warn("fit interrupted by Ctrl-C; the model holds the weights after the last finished step",
                      RuntimeWarning, stacklevel=4)

    def stopped_by_callback(self, epoch):
        if self.model.stop_training:
            self.history.stopped_reason = self.history.stopped_reason or f"stopped by a callback after epoch {epoch}"
            return True
        return False

    # ------------------------------------------------------------- per-layer loop

    def layer_loop(self, interrupted):
        """The readable loop: every step calls each layer's kernels from Python."""
        model, X, Y, loss, optimizer, l2 = self.model, self.X, self.Y, self.loss, self.optimizer, self.l2
        m = X.shape[1]
        weights = model.weights()
        params = [a for _, _, a in weights]
        for epoch in range(self.epochs):
            lr = self.lr(epoch)
            for cb in self.callbacks:
                cb.on_epoch_begin(epoch, {"lr": lr})
            start = time.perf_counter()
            snapshot = model.get_weights()
            total_cost, correct, seen, nonfinite, nan_layer = 0.0, 0, 0, False, None
            for idx in batch_indices(m, self.batch_size, self.seed, epoch):
                Xb = X if idx is None else X[:, idx]
                Yb = Y if idx is None else (Y[idx] if Y.ndim == 1 else Y[:, idx])
                mb = Xb.shape[1]
                ctx = Context(training=True, seed=self.seed, step=model._step, l2=l2)
                AL, caches = model._forward(Xb, ctx)
                cost = loss.cost(AL, Yb) + model._l2_cost(l2, mb)
                if not math.isfinite(cost):
                    nonfinite, nan_layer = True, _first_nonfinite_layer(model, caches)
                    break
                model._backward(AL, Yb, caches, ctx, loss)
                optimizer.step(params, [model.layers[i].grads[k] for i, k, _ in weights], lr)
                model._step += 1
                total_cost += cost * mb
                correct += _correct(AL, Yb, model.task)
                seen += mb
                if interrupted["set"]:
                    break
            if nonfinite:
                model.set_weights(snapshot)
                self.stop_nonfinite(epoch, nan_layer)
                return
            self.end_epoch(epoch, lr, total_cost, correct, seen, time.perf_counter() - start)
            if interrupted["set"]:
                self.stop_interrupted(epoch)
                return
            if self.stopped_by_callback(epoch):
                return

    # --------------------------------------------------------------- engine loop

    def engine_loop(self, executor, interrupted, plain):
        """Whole epochs inside the compiled engine. With no callbacks, validation or
        per-epoch printing (``plain``), several epochs run per call (chunks of ~0.05 s), so
        tiny networks do not pay Python per epoch."""
        model, optimizer = self.model, self.optimizer
        plan = plan_mod.build_plan(model, self.X, self.Y, self.batch_size, self.loss, optimizer, self.l2, self.seed)
        args = plan.args()
        stop = lambda: interrupted["set"]  # noqa: E731  (the C++ engine polls it)
        epoch, chunk = 0, 1
        while epoch < self.epochs:
            n = min(chunk, self.epochs - epoch) if plain else 1
            lrs = np.array([self.lr(e) for e in range(epoch, epoch + n)], np.float64)
            for k in range(n):
                for cb in self.callbacks:
                    cb.on_epoch_begin(epoch + k, {"lr": lrs[k]})
            out = np.zeros((n, plan_mod.OUT_FIELDS))
            start = time.perf_counter()
            status, done = executor(*args, epoch, n, lrs, model._step, optimizer.iterations, out, stop)
            seconds = time.perf_counter() - start
            rows = done + (1 if status != plan_mod.STATUS_OK and done < n else 0)
            steps = int(out[:rows, plan_mod.STEPS].sum())
            model._step += steps
            optimizer.iterations += steps
            per_epoch = seconds / max(done, 1)
            for k in range(done):
                row = out[k]
                self.end_epoch(epoch + k, lrs[k], row[plan_mod.COST], row[plan_mod.CORRECT], row[plan_mod.SEEN],
                               per_epoch)
            if status == plan_mod.STATUS_NONFINITE:
                self.stop_nonfinite(epoch + done, int(out[done, plan_mod.NAN_LAYER]))
                return
            if status == plan_mod.STATUS_STOPPED or interrupted["set"]:
                if status == plan_mod.STATUS_STOPPED and done < n and out[done, plan_mod.SEEN] > 0:
                    row = out[done]
                    self.end_epoch(epoch + done, lrs[done], row[plan_mod.COST], row[plan_mod.CORRECT],
                                   row[plan_mod.SEEN], seconds - per_epoch * done)
                self.stop_interrupted(epoch + done)
                return
            if self.stopped_by_callback(epoch + done - 1):
                return
            epoch += done
            if plain and seconds < 0.05:
                chunk = min(chunk * 2, 1 << 16)


__all__ = ["batch_indices", "fit"]
