"""A softmax network on scikit-learn's bundled digits (8×8 images, 1,797 of them)."""

from __future__ import annotations

import pytest

import pyneural as pn
from pyneural.layers import BatchNorm, Dense, Dropout


def digits_split():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    X = d.data.T / 16.0
    Xtr, ytr, _, _, Xte, yte = pn.data.train_dev_test_split(X, d.target, dev=0.0, test=0.2, seed=0)
    return Xtr, ytr, Xte, yte


def build(batchnorm):
    def bn():
        return [BatchNorm()] if batchnorm else []

    return pn.Sequential([Dense(128, "relu"), *bn(), Dropout(0.8), Dense(64, "relu"), *bn(), Dropout(0.8),
                          Dense(10, "softmax")], input_dim=64, seed=0)


def test_digits_softmax_with_adam_and_dropout_reaches_97_percent():
    Xtr, ytr, Xte, yte = digits_split()
    accs = {}
    for batchnorm in (False, True):
        model = build(batchnorm)
        model.fit(Xtr, ytr, epochs=40, batch_size=64, optimizer=pn.optimizers.Adam(0.001), seed=1)
        accs[batchnorm] = model.evaluate(Xte, yte)["accuracy"]
    assert accs[False] >= 0.97, accs
    assert accs[True] >= accs[False] - 0.005, accs  # batch norm helps or matches
