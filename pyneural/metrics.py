"""Evaluation metrics (notes 1.12) and the bias/variance diagnosis of ML strategy (notes 1.13).

Labels may be given as integer vectors of shape (m,) or (1, m), or as (C, m) one-hot or
score matrices (converted with ``argmax`` over the classes, axis 0). Metrics are fractions
in [0, 1], not the course's percentages. A ratio with a zero denominator (e.g. precision
when nothing is predicted positive) is 0.0, silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import check_number
from .data import _int_labels

__all__ = [
    "BiasVarianceReport",
    "accuracy",
    "bias_variance_report",
    "confusion_matrix",
    "f1_score",
    "precision",
    "recall",
]

_AVERAGES = ("binary", "macro", "micro", None)


def _labels(y, name: str) -> tuple[np.ndarray, int | None]:
    """1-D int64 labels, and the class count implied by a (C, m) one-hot input (else None)."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[0] >= 2:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
        return np.argmax(arr, axis=0).astype(np.int64), arr.shape[0]
    if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[0] == 1)):
        raise ValueError(
            f"{name} must be labels of shape (m,) or (1, m), or one-hot (C, m); got shape {arr.shape}"
        )
    return _int_labels(arr, name), None


def _pair(y_true, y_pred, n_classes=None) -> tuple[np.ndarray, np.ndarray, int]:
    t, ct = _labels(y_true, "y_true")
    p, cp = _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must hold the same number of examples, got {t.shape[0]} and {p.shape[0]}"
        )
    if t.size == 0:
        raise ValueError("y_true and y_pred are empty: no examples to evaluate")
    inferred = max(int(t.max()), int(p.max())) + 1
    inferred = max([inferred] + [c for c in (ct, cp) if c is not None])
    if n_classes is None:
        return t, p, inferred
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)):
        raise TypeError(f"n_classes must be a positive int, got {n_classes!r}")
    if n_classes < inferred:
        raise ValueError(f"n_classes = {n_classes} but the labels need at least {inferred} classes")
    return t, p, int(n_classes)


def _div(num, den) -> np.ndarray:
    """num / den with 0 where den == 0, without a RuntimeWarning."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def accuracy(y_true, y_pred) -> float:
    """Fraction of examples whose predicted label equals the true label (notes P02-P04)."""
    t, p, _ = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, n_classes=None) -> np.ndarray:
    """(C, C) int64 counts: row = true class, column = predicted class.

    ``n_classes`` defaults to the largest label + 1 (or C of a one-hot input).
    """
    t, p, c = _pair(y_true, y_pred, n_classes)
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(np.int64)


def _prf(y_true, y_pred, average, pos_label, n_classes):
    """(precision, recall, f1) as floats, or per-class arrays when ``average`` is None."""
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm)
    pred_pos, true_pos = cm.sum(axis=0), cm.sum(axis=1)
    if average == "binary":
        if cm.shape[0] > 2:
            raise ValueError(
                f"average='binary' needs labels in {{0, 1}}, got {cm.shape[0]} classes: "
                f"pass average='macro', 'micro' or None"
            )
        if pos_label not in (0, 1) or isinstance(pos_label, (bool, np.bool_)):
            raise ValueError(f"pos_label must be 0 or 1, got {pos_label!r}")
        k = int(pos_label)
        # a (m,) vector of only zeros gives a 1x1 matrix: the positive class never occurs
        tp_k = tp[k] if k < cm.shape[0] else 0
        pp_k = pred_pos[k] if k < cm.shape[0] else 0
        tr_k = true_pos[k] if k < cm.shape[0] else 0
        P, R = float(_div(tp_k, pp_k)), float(_div(tp_k, tr_k))
        return P, R, float(_div(2 * P * R, P + R))
    if average == "micro":
        # every error is one false positive (for the predicted class) and one false negative
        P = float(_div(tp.sum(), pred_pos.sum()))
        R = float(_div(tp.sum(), true_pos.sum()))
        return P, R, float(_div(2 * P * R, P + R))
    P, R = _div(tp, pred_pos), _div(tp, true_pos)
    F = _div(2 * P * R, P + R)
    if average is None:
        return P, R, F
    present = (pred_pos + true_pos) > 0  # macro: classes seen in y_true or y_pred, as scikit-learn
    return float(P[present].mean()), float(R[present].mean()), float(F[present].mean())


_DOC = """

    Parameters
    ----------
    y_true, y_pred : labels of shape (m,) or (1, m), or one-hot / scores of shape (C, m)
    average : "binary" (default), "macro", "micro" or None
        "binary": the score of class ``pos_label`` (labels must be 0/1). "macro": the
        unweighted mean of the per-class scores over the classes that occur in y_true or
        y_pred. "micro": from the total counts (equals the accuracy for single-label data).
        None: an array with one score per class 0..C-1.
    pos_label : 0 or 1
        The positive class for ``average="binary"``.
    n_classes : int, optional
        C for ``average=None`` (default: largest label + 1).
    """


def precision(y_true, y_pred, *, average="binary", pos_label=1, n_classes=None):
    return _prf(y_true, y_pred, average, pos_label, n_classes)[0]


def recall(y_true, y_pred, *, average="binary", pos_label=1, n_classes=None):
    return _prf(y_true, y_pred, average, pos_label, n_classes)[1]


def f1_score(y_true, y_pred, *, average="binary", pos_label=1, n_classes=None):
    return _prf(y_true, y_pred, average, pos_label, n_classes)[2]


precision.__doc__ = "Precision TP / (TP + FP): of the examples predicted positive, the fraction that are." + _DOC
recall.__doc__ = "Recall TP / (TP + FN): of the positive examples, the fraction predicted positive." + _DOC
f1_score.__doc__ = (
    "F1 = 2PR / (P + R), the harmonic mean of precision and recall (the notes' M05 call it "
    "their average: ERR-27; the harmonic mean is right). 0.0 when P + R = 0. Macro F1 is the "
    "mean of the per-class F1 scores." + _DOC
)


# --- bias / variance (notes M03, M04, M07, M08, M10) -------------------------------------

_ADVICE = {
    "avoidable bias": "bigger network, train longer, better optimisation algorithm "
    "(momentum, RMSprop, Adam), or another architecture / hyperparameter search",
    "variance": "more training data, regularisation (L2, dropout, data augmentation), "
    "or another architecture / hyperparameter search",
    "data mismatch": "error analysis of how training and dev data differ, make the training "
    "data more like the dev/test data (collect similar data), artificial data synthesis",
    "overfitting to dev": "a bigger dev set",
}


@dataclass
class BiasVarianceReport:
    """Errors (fractions), the gaps between them and a diagnosis; ``print()`` shows a table."""

    train_error: float
    dev_error: float
    human_error: float | None
    train_dev_error: float | None
    test_error: float | None
    avoidable_bias: float | None
    variance: float
    data_mismatch: float | None
    overfitting_to_dev: float | None
    diagnosis: list = field(default_factory=list)

    def __str__(self) -> str:
        rows = [
            ("human-level", self.human_error, "", None),
            ("training", self.train_error, "avoidable bias", self.avoidable_bias),
            ("training-dev", self.train_dev_error, "variance", self.variance),
            ("dev", self.dev_error, "data mismatch", self.data_mismatch),
            ("test", self.test_error, "overfitting to dev", self.overfitting_to_dev),
        ]
        if self.train_dev_error is None:  # then variance is the train -> dev gap
            rows[2] = ("dev", self.dev_error, "variance", self.variance)
            rows[3] = None
        lines = [f"{'set':<14}{'error':>8}   gap from the row above"]
        for row in rows:
            if row is None or row[1] is None:
                continue
            name, err, gap_name, gap = row
            gap_txt = f"{gap_name:<22}{gap:>7.1%}" if gap is not None else ""
            lines.append(f"{name:<14}{err:>8.1%}   {gap_txt}".rstrip())
        lines.append("diagnosis:")
        lines.extend(f"  - {d}" for d in self.diagnosis)
        return "\n".join(lines)


def _error(value, name: str) -> float | None:
    if value is None:
        return None
    v = check_number(value, name)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1] (e.g. 0.11 for 11%), got {value!r}")
    return v


def bias_variance_report(train_error, dev_error, human_error=None, train_dev_error=None,
                         test_error=None, *, tol=0.01) -> BiasVarianceReport:
    """Which gap between the error levels is largest, and what to try (notes M03-M10).

    Gaps: avoidable bias = train − human (human-level error as the proxy for Bayes error);
    variance = train-dev − train (or dev − train without a training-dev set); data mismatch
    = dev − train-dev; overfitting to dev = test − dev. Without ``human_error`` the avoidable
    bias is reported as None, and the diagnosis assumes Bayes error ≈ 0 as the notes' M03
    table does (so the training error itself counts as bias). Gaps of at most ``tol`` (a
    fraction, default one percentage point) are treated as negligible.

    Examples (M03): train 1% / dev 11% → variance; 15% / 16% → bias; 15% / 30% → both;
    0.5% / 1% → neither; with human 15%, train 15% / dev 16% is fine.
    """
    train = _error(train_error, "train_error")
    dev = _error(dev_error, "dev_error")
    human = _error(human_error, "human_error")
    train_dev = _error(train_dev_error, "train_dev_error")
    test = _error(test_error, "test_error")
    tol = check_number(tol, "tol", minimum=0.0)

    bias = None if human is None else train - human
    variance = (train_dev if train_dev is not None else dev) - train
    mismatch = None if train_dev is None else dev - train_dev
    overfit = None if test is None else test - dev

    gaps = [("avoidable bias", train if bias is None else bias), ("variance", variance)]
    if mismatch is not None:
        gaps.append(("data mismatch", mismatch))
    if overfit is not None:
        gaps.append(("overfitting to dev", overfit))
    # rounded: 0.16 - 0.15 is 0.010000000000000009 in floating point, not above tol = 0.01
    big = sorted((g for g in gaps if round(g[1], 9) > tol), key=lambda g: -round(g[1], 9))

    diagnosis = []
    if human is None:
        diagnosis.append("human_error not given: assuming Bayes error ≈ 0, so all training error counts as bias")
    if not big:
        diagnosis.append(f"no gap above {tol:.1%}: low bias and low variance; nothing pressing to fix")
    for i, (name, gap) in enumerate(big):
        lead = "largest gap" if i == 0 else "also"
        diagnosis.append(f"{lead}: {name} ({gap:.1%}); try: {_ADVICE[name]}")
    return BiasVarianceReport(train, dev, human, train_dev, test, bias, variance, mismatch, overfit, diagnosis)
