"""pyneural.metrics: hand-computed scores, F1 as the harmonic mean (ERR-27), the notes'
bias/variance examples (M03, M08, M10)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pyneural import metrics as M

# 8 examples: TP = 3 (idx 0,1,2), FN = 1 (idx 3), FP = 2 (idx 4,5), TN = 2 (idx 6,7)
Y_TRUE = np.array([1, 1, 1, 1, 0, 0, 0, 0])
Y_PRED = np.array([1, 1, 1, 0, 1, 1, 0, 0])


def test_binary_hand_example():
    P, R = 3 / 5, 3 / 4
    assert M.accuracy(Y_TRUE, Y_PRED) == pytest.approx(5 / 8)
    assert M.precision(Y_TRUE, Y_PRED) == pytest.approx(P)
    assert M.recall(Y_TRUE, Y_PRED) == pytest.approx(R)
    assert M.f1_score(Y_TRUE, Y_PRED) == pytest.approx(2 * P * R / (P + R))  # 2/3
    assert M.f1_score(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    assert M.f1_score(Y_TRUE, Y_PRED) != pytest.approx((P + R) / 2)  # not the arithmetic mean
    # class 0 as the positive class: TP = 2, FP = 1, FN = 2
    assert M.precision(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(2 / 3)
    assert M.recall(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(1 / 2)


def test_layouts_row_vector_and_one_hot():
    row_t, row_p = Y_TRUE.reshape(1, -1), Y_PRED.reshape(1, -1).astype(float)
    assert M.f1_score(row_t, row_p) == pytest.approx(2 / 3)
    onehot_t = np.eye(2)[Y_TRUE].T  # (2, m)
    probs_p = np.where(np.eye(2)[Y_PRED].T == 1, 0.8, 0.2)  # scores: argmax gives Y_PRED
    assert M.f1_score(onehot_t, probs_p) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(M.confusion_matrix(onehot_t, Y_PRED), [[2, 2], [1, 3]])


def test_confusion_matrix_hand_example():
    t = [0, 0, 1, 2, 2, 2]
    p = [0, 1, 1, 2, 0, 2]
    cm = M.confusion_matrix(t, p)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])  # rows true, cols pred
    assert cm.dtype == np.int64
    assert M.confusion_matrix(t, p, n_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="n_classes = 2"):
        M.confusion_matrix(t, p, n_classes=2)
    assert M.confusion_matrix(np.zeros((3, 4)), [0, 0, 0, 2]).shape == (3, 3)  # C from one-hot


def test_multiclass_averages():
    t = [0, 0, 1, 2, 2, 2]
    p = [0, 1, 1, 2, 0, 2]
    # per class: P = [1/2, 1/2, 1], R = [1/2, 1, 2/3], F1 = [1/2, 2/3, 4/5]
    np.testing.assert_allclose(M.precision(t, p, average=None), [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(M.recall(t, p, average=None), [1 / 2, 1, 2 / 3])
    np.testing.assert_allclose(M.f1_score(t, p, average=None), [1 / 2, 2 / 3, 4 / 5])
    assert M.f1_score(t, p, average="macro") == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 3)
    for fn in (M.precision, M.recall, M.f1_score):  # micro = accuracy for single-label data
        assert fn(t, p, average="micro") == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="average='macro'"):
        M.f1_score(t, p)


def test_agrees_with_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    t, p = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    for avg in ("macro", "micro", None):
        np.testing.assert_allclose(M.f1_score(t, p, average=avg), skm.f1_score(t, p, average=avg))
        np.testing.assert_allclose(M.precision(t, p, average=avg), skm.precision_score(t, p, average=avg))
    tb, pb = t % 2, p % 2
    assert M.recall(tb, pb) == pytest.approx(skm.recall_score(tb, pb))


def test_zero_division_is_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.precision([1, 0, 1], [0, 0, 0]) == 0.0  # nothing predicted positive
        assert M.recall([0, 0, 0], [0, 1, 0]) == 0.0  # no positives
        assert M.f1_score([0, 0], [0, 0]) == 0.0
        assert M.f1_score([1, 0], [0, 1]) == 0.0  # P = R = 0
        np.testing.assert_array_equal(M.precision([0, 0], [0, 0], average=None, n_classes=3), [1, 0, 0])


@pytest.mark.parametrize(
    "t, p, exc, word",
    [
        ([0, 1], [0, 1, 1], ValueError, "same number of examples"),
        ([], [], ValueError, "empty"),
        ([0, 1], [0.3, 0.7], ValueError, r"A > 0\.5"),
        ([0, -1], [0, 1], ValueError, ">= 0"),
        (np.zeros((2, 2, 2)), [0, 1], ValueError, r"one-hot \(C, m\)"),
        (["a", "b"], [0, 1], TypeError, "y_true"),
    ],
)
def test_label_errors(t, p, exc, word):
    with pytest.raises(exc, match=word):
        M.accuracy(t, p)


def test_average_and_pos_label_errors():
    with pytest.raises(ValueError, match="average"):
        M.f1_score([0, 1], [0, 1], average="weighted")
    with pytest.raises(ValueError, match="pos_label"):
        M.f1_score([0, 1], [0, 1], pos_label=2)


# --- bias / variance ------------------------------------------------------------------


def _main(report):
    return [d for d in report.diagnosis if d.startswith("largest gap")]


@pytest.mark.parametrize(
    "train, dev, human, expect",
    [
        (0.01, 0.11, None, ["variance"]),  # the notes' M03 table
        (0.15, 0.16, None, ["avoidable bias"]),
        (0.15, 0.30, None, ["avoidable bias", "variance"]),
        (0.005, 0.01, None, []),
        (0.15, 0.16, 0.15, []),  # with human-level 15%, 15% / 16% is fine
    ],
)
def test_bias_variance_notes_table(train, dev, human, expect):
    r = M.bias_variance_report(train, dev, human_error=human)
    named = [d.split(": ", 1)[1].split(" (")[0] for d in r.diagnosis if d.startswith(("largest", "also"))]
    assert named == expect
    if not expect:
        assert any("low bias and low variance" in d for d in r.diagnosis)
    assert r.variance == pytest.approx(dev - train)
    assert r.avoidable_bias == (None if human is None else pytest.approx(train - human))


def test_bias_variance_all_gaps():
    # M10's example: train 1% / train-dev 9% / dev 10% is a variance problem
    r = M.bias_variance_report(0.01, 0.10, human_error=0.0, train_dev_error=0.09, test_error=0.10)
    assert (r.avoidable_bias, r.variance, r.data_mismatch, r.overfitting_to_dev) == pytest.approx(
        (0.01, 0.08, 0.01, 0.0)
    )
    assert "variance" in _main(r)[0] and "more training data" in _main(r)[0]
    mismatch = M.bias_variance_report(0.01, 0.12, human_error=0.0, train_dev_error=0.015)
    assert "data mismatch" in _main(mismatch)[0] and "artificial data synthesis" in _main(mismatch)[0]
    overfit = M.bias_variance_report(0.01, 0.015, human_error=0.0, test_error=0.08)
    assert "overfitting to dev" in _main(overfit)[0] and "bigger dev set" in _main(overfit)[0]
    bias = M.bias_variance_report(0.20, 0.21, human_error=0.01)
    assert "bigger network" in _main(bias)[0] and "train longer" in _main(bias)[0]


def test_bias_variance_str_and_validation():
    text = str(M.bias_variance_report(0.01, 0.10, human_error=0.005, train_dev_error=0.09, test_error=0.11))
    for word in ("human-level", "training-dev", "avoidable bias", "data mismatch", "overfitting to dev",
                 "0.5%", "9.0%", "diagnosis"):
        assert word in text
    assert "training-dev" not in str(M.bias_variance_report(0.01, 0.1))
    with pytest.raises(ValueError, match=r"dev_error must be a fraction in \[0, 1\]"):
        M.bias_variance_report(0.01, 11)
    with pytest.raises(ValueError, match="human_error"):
        M.bias_variance_report(0.01, 0.1, human_error=-0.1)
    with pytest.raises(TypeError, match="train_error"):
        M.bias_variance_report("1%", 0.1)
