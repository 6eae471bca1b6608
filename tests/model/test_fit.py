"""Sequential.fit and friends: seeding, callbacks, schedules, NaN handling, shapes, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pyneural as pn
from pyneural.callbacks import Callback, EarlyStopping, ModelCheckpoint, TerminateOnNaN
from pyneural.layers import Activation, BatchNorm, Dense, Dropout


def small_binary(rng, m=60):
    X = rng.standard_normal((3, m))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(float)
    return X, Y


def net(**kw):
    return pn.Sequential([Dense(6, "relu"), Dropout(0.8), Dense(1, "sigmoid")], input_dim=3, seed=4, **kw)


def test_same_seed_gives_identical_weights(backend_name, rng):
    X, Y = small_binary(rng)
    with pn.use_backend(backend_name):
        a, b, c = net(), net(), net()
        a.fit(X, Y, epochs=5, batch_size=16, seed=7)
        b.fit(X, Y, epochs=5, batch_size=16, seed=7)
        c.fit(X, Y, epochs=5, batch_size=16, seed=8)
    for (_, _, wa), (_, _, wb), (_, _, wc) in zip(a.weights(), b.weights(), c.weights()):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for (_, _, wa), (_, _, wc) in zip(a.weights(), c.weights()))


def test_minibatches_follow_the_course_partition(rng):
    from pyneural.model.training import batch_indices

    X, Y = small_binary(rng, m=150)
    batches = pn.functional.random_mini_batches(X, Y, 64, seed=11 + 2)
    idx = batch_indices(150, 64, 11, 2)
    assert [len(i) for i in idx] == [64, 64, 22]
    for (bx, _), i in zip(batches, idx):
        np.testing.assert_array_equal(bx, X[:, i])


def test_history_predict_evaluate_and_summary(rng, capsys):
    X, Y = small_binary(rng)
    model = net()
    h = model.fit(X, Y, epochs=4, batch_size=20, validation_data=(X, Y), seed=1,
                  schedule=pn.schedules.InverseTimeDecay(decay_rate=1.0))
    assert sorted(h.history) == ["accuracy", "loss", "lr", "time", "val_accuracy", "val_loss"]
    assert len(h["loss"]) == 4 and h.epoch == [0, 1, 2, 3]
    lr0 = model.optimizer.learning_rate
    assert h["lr"] == pytest.approx([pn.schedules.InverseTimeDecay(1.0)(e, lr0) for e in range(4)])
    p = model.predict(X)
    assert p.shape == (1, 60) and set(np.unique(p)) <= {0, 1}
    proba = model.predict_proba(X)
    assert proba.shape == (1, 60) and np.all((proba > 0) & (proba < 1))
    ev = model.evaluate(X, Y)
    assert ev["accuracy"] == pytest.approx(float(np.mean(p == Y)))
    text = model.summary()
    assert "Trainable params: 31" in text and "Trainable params: 31" in capsys.readouterr().out
    assert set(model.parameters) == {"W1", "b1", "W2", "b2"}
    assert model.parameters["W1"] is model.layers[0].params["W"]


def test_dropout_and_batchnorm_switch_off_outside_fit(rng):
    X = rng.standard_normal((3, 40))
    y = rng.integers(0, 3, 40)
    model = pn.Sequential([Dense(8, "relu"), BatchNorm(), Dropout(0.5), Dense(3, "softmax")], input_dim=3, seed=0)
    model.fit(X, y, epochs=2, batch_size=8, seed=0)
    p1, p2 = model.predict_proba(X), model.predict_proba(X)
    np.testing.assert_array_equal(p1, p2)  # no dropout, running statistics
    np.testing.assert_allclose(model.predict_proba(X[:, :5]), p1[:, :5], rtol=1e-12)  # batch-independent
    np.testing.assert_allclose(p1.sum(axis=0), 1.0, rtol=1e-12)
    assert "b" not in model.layers[0].params  # bias dropped before batch norm
    assert model.layers[1].activation == "relu"


def test_early_stopping_restores_best_weights(rng):
    X, Y = small_binary(rng)
    Xv, Yv = small_binary(rng, 30)

    class Record(Callback):
        def __init__(self):
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    rec = Record()
    stop = EarlyStopping(monitor="val_loss", patience=2)
    model = net()
    h = model.fit(X, Y, epochs=300, optimizer=pn.optimizers.Adam(0.5), validation_data=(Xv, Yv),
                  callbacks=[rec, stop], seed=3)
    assert stop.stopped_epoch is not None and len(h["loss"]) < 300
    best = int(np.argmin(h["val_loss"]))
    assert stop.best_epoch == best
    for now, then in zip(model.get_weights(), rec.weights[best]):
        for k in now:
            np.testing.assert_array_equal(now[k], then[k])


def test_nan_cost_stops_with_last_good_weights(rng):
    X, Y = small_binary(rng)
    model = pn.Sequential([Dense(6, "relu"), Dense(1, "identity")], input_dim=3, seed=1)
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        h = model.fit(X, Y * 1e3, epochs=50, optimizer=pn.optimizers.GD(10.0), callbacks=[TerminateOnNaN()])
    assert h.stopped_reason.startswith("non-finite cost")
    assert all(np.isfinite(w).all() for _, _, w in model.weights())
    assert len(h["loss"]) < 50 and all(np.isfinite(h["loss"]))


def test_checkpoint_writes_loadable_models(tmp_path, rng):
    X, Y = small_binary(rng)
    model = net()
    model.fit(X, Y, epochs=3, callbacks=[ModelCheckpoint(tmp_path / "ck-{epoch}.npz", save_best_only=False)], seed=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck-0.npz", "ck-1.npz", "ck-2.npz"]
    np.testing.assert_array_equal(pn.load(tmp_path / "ck-2.npz").predict_proba(X), model.predict_proba(X))


def test_optimizer_state_carries_over_between_fits(rng):
    X, Y = small_binary(rng)
    opt = pn.optimizers.Adam(0.01)
    a = net()
    a.fit(X, Y, epochs=2, batch_size=30, optimizer=opt, seed=0)
    assert opt.iterations == 4
    a.fit(X, Y, epochs=1, batch_size=30, optimizer=opt, seed=0)
    assert opt.iterations == 6


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda m, X, Y: m.fit(X[:2], Y), ValueError, r"X must have shape \(3, m\)"),
        (lambda m, X, Y: m.fit(X, Y[:, :10]), ValueError, r"Y must have shape \(1, 60\)"),
        (lambda m, X, Y: m.fit(X, Y * 2), ValueError, "binary labels"),
        (lambda m, X, Y: m.fit(np.where(X > 1, np.nan, X), Y), ValueError, "X contains NaN"),
        (lambda m, X, Y: m.fit(np.where(X > 1, np.inf, X), Y), ValueError, "X contains NaN or Inf"),
        (lambda m, X, Y: m.fit(X[:, :0], Y[:, :0]), ValueError, "X must not be empty"),
        (lambda m, X, Y: m.fit(X, Y, epochs=-1), ValueError, "epochs"),
        (lambda m, X, Y: m.fit(X, Y, batch_size=0), ValueError, "batch_size"),
        (lambda m, X, Y: m.fit(X, Y, optimizer="lbfgs"), ValueError, "optimizer must be one of"),
        (lambda m, X, Y: m.fit(X, Y, optimizer=pn.optimizers.Adam(-0.1)), ValueError, "learning_rate must be > 0"),
        (lambda m, X, Y: m.fit(X, Y, l2=-1), ValueError, "l2 must be >= 0"),
        (lambda m, X, Y: m.fit(X, Y, validation_data=X), ValueError, "validation_data"),
        (lambda m, X, Y: m.fit(X, Y, callbacks=[print]), TypeError, "callbacks"),
        (lambda m, X, Y: m.predict(X.astype(complex)), TypeError, "X must hold real numbers"),
    ],
)
def test_bad_input_raises_naming_the_argument(rng, call, exc, match):
    X, Y = small_binary(rng)
    with pytest.raises(exc, match=match):
        call(net(), X, Y)


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: Dense(0), ValueError, "units must be >= 1"),
        (lambda: Dense(10**12), ValueError, "units must be at most"),
        (lambda: Dense(3, "swish"), ValueError, "activation must be one of"),
        (lambda: Dense(3, init="orthogonal"), ValueError, "init must be one of"),
        (lambda: Activation("gelu"), ValueError, "activation must be one of"),
        (lambda: Dropout(0), ValueError, "keep_prob"),
        (lambda: BatchNorm(momentum=1.5), ValueError, "momentum"),
        (lambda: pn.Sequential([]), ValueError, "non-empty"),
        (lambda: pn.Sequential([Dense(2), "relu"]), TypeError, r"layers\[1\]"),
        (lambda: pn.Sequential([Dense(2)], input_dim=0), ValueError, "input_dim"),
        (lambda: pn.Sequential([Dense(2)]).summary(), ValueError, "not built"),
    ],
)
def test_bad_construction_raises(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_multiclass_labels_are_checked(rng):
    X = rng.standard_normal((3, 10))
    model = pn.Sequential([Dense(3, "softmax")], input_dim=3, seed=0)
    with pytest.raises(ValueError, match=r"Y must be class labels in \[0, 3\)"):
        model.fit(X, np.arange(10) % 4)
    with pytest.raises(ValueError, match="one-hot"):
        model.fit(X, np.full((3, 10), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, np.arange(10) % 3, epochs=1)


def test_ctrl_c_stops_cleanly_after_the_current_step(rng):
    import os
    import signal

    X, Y = small_binary(rng)

    class Interrupt(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                os.kill(os.getpid(), signal.SIGINT)

    opt = pn.optimizers.Adam(0.01)
    model = net()
    with pytest.warns(RuntimeWarning, match="interrupted"):
        h = model.fit(X, Y, epochs=10, batch_size=20, optimizer=opt, callbacks=[Interrupt()], seed=0)
    assert h.stopped_reason.startswith("interrupted")
    assert len(h["loss"]) == 3  # epochs 0, 1 and the interrupted epoch 2 (one step)
    assert opt.iterations == 2 * 3 + 1  # optimizer state matches the weights: no half step
    assert all(np.isfinite(w).all() for _, _, w in model.weights())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_verbose_progress(rng, capsys):
    X, Y = small_binary(rng)
    net().fit(X, Y, epochs=2, verbose=2, seed=0)
    out = capsys.readouterr().out
    assert "epoch 1/2 loss=" in out and "epoch 2/2" in out and "accuracy=" in out
    net().fit(X, Y, epochs=3, verbose=1, seed=0)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err  # tqdm's bar with the cost
