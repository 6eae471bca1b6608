"""The scikit-learn estimators: the estimator protocol (``check_estimator``), pipelines,
hyper-parameter search, label handling, determinism and the no-copy hand-off to the model."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris, make_regression  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import pyneural as pn  # noqa: E402
from pyneural.layers import BatchNorm, Dense, Dropout  # noqa: E402
from pyneural.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

# --------------------------------------------------------------------- check_estimator

#: Checks expected to fail, by estimator class name: {check name: reason}. Empty: every
#: check passes. (Checks that skip themselves because of the environment, e.g. pandas not
#: installed or SCIPY_ARRAY_API unset, show up as pytest skips, not here.)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}

_SMALL = dict(hidden_layer_sizes=(16,), epochs=20, learning_rate=0.01, batch_size=32, random_state=0)
_ESTIMATORS = [
    NeuralNetClassifier(**_SMALL),
    NeuralNetRegressor(**_SMALL),
    # The defaults (epochs=200, lr=0.001, one hidden layer of 64): what users get.
    NeuralNetClassifier(),
    NeuralNetRegressor(),
    # Every optional layer, early stopping and float32 in one configuration each.
    NeuralNetClassifier(hidden_layer_sizes=(16, 8), epochs=30, learning_rate=0.01, keep_prob=0.9,
                        batch_norm=True, early_stopping=True, dtype="float32", random_state=0),
    NeuralNetRegressor(hidden_layer_sizes=(16, 8), epochs=30, learning_rate=0.01, keep_prob=0.9,
                       batch_norm=True, early_stopping=True, dtype="float32", random_state=0),
]


@parametrize_with_checks(
    _ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_defaults_are_the_documented_ones():
    params = NeuralNetClassifier().get_params()
    assert params == dict(
        hidden_layer_sizes=(64,), activation="relu", optimizer="adam", learning_rate=0.001, epochs=200,
        batch_size=64, l2=0.0, keep_prob=1.0, batch_norm=False, init="he", early_stopping=False,
        validation_fraction=0.1, patience=10, random_state=None, verbose=0, dtype="float64",
    )
    assert NeuralNetRegressor().get_params() == params


# ------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _iris_clf(**kw):
    return NeuralNetClassifier(**{**dict(hidden_layer_sizes=(16,), epochs=50, learning_rate=0.01,
                                         batch_size=16, random_state=0), **kw})


# ------------------------------------------------------------------ classification


def test_iris_pipeline_accuracy(iris_split):
    Xtr, Xte, ytr, yte = iris_split
    pipe = Pipeline([("scale", StandardScaler()), ("net", _iris_clf())]).fit(Xtr, ytr)
    assert pipe.score(Xte, yte) >= 0.9
    net = pipe.named_steps["net"]
    assert net.model_.task == "multiclass" and net.model_.layers[-1].units == 3
    proba = pipe.predict_proba(Xte)
    assert proba.shape == (len(Xte), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(pipe.predict(Xte), net.classes_[proba.argmax(axis=1)])
    assert net.n_iter_ == 50 == len(net.history_["loss"])
    assert net.history_["loss"][-1] < net.history_["loss"][0]


def test_breast_cancer_binary_sigmoid_output():
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=30,
                                                                 learning_rate=0.01, batch_size=32, random_state=0))
    pipe.fit(Xtr, ytr)
    assert pipe.score(Xte, yte) >= 0.93
    net = pipe[-1]
    assert net.model_.task == "binary" and net.model_.layers[-1].units == 1  # one sigmoid unit
    proba = pipe.predict_proba(Xte)
    p = net.model_.predict_proba(pipe[0].transform(Xte).T)[0]
    np.testing.assert_allclose(proba, np.column_stack([1 - p, p]))
    np.testing.assert_array_equal(pipe.predict(Xte), (p > 0.5).astype(int))


def test_string_labels_round_trip(iris_split):
    Xtr, Xte, ytr, yte = iris_split
    names = np.array(["setosa", "versicolor", "virginica"])
    scaler = StandardScaler().fit(Xtr)
    clf = _iris_clf().fit(scaler.transform(Xtr), names[ytr])
    np.testing.assert_array_equal(clf.classes_, names)
    pred = clf.predict(scaler.transform(Xte))
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    assert np.mean(pred == names[yte]) >= 0.9
    # Same network as with integer labels (labels are encoded by their sorted order).
    clf_int = _iris_clf().fit(scaler.transform(Xtr), ytr)
    np.testing.assert_array_equal(pred, names[clf_int.predict(scaler.transform(Xte))])

    # Binary string labels: predict_proba's columns follow classes_.
    y2 = np.where(ytr == 0, "yes", "no")
    clf2 = _iris_clf(epochs=20).fit(scaler.transform(Xtr), y2)
    np.testing.assert_array_equal(clf2.classes_, ["no", "yes"])
    proba = clf2.predict_proba(scaler.transform(Xte))
    pred2 = clf2.predict(scaler.transform(Xte))
    np.testing.assert_array_equal(pred2, clf2.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(pred2, np.where(yte == 0, "yes", "no"))


def test_one_class_is_an_error():
    X = np.random.RandomState(0).randn(10, 2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        NeuralNetClassifier(epochs=1).fit(X, np.zeros(10))


# ---------------------------------------------------------------------- regression


@pytest.mark.parametrize("multi", [False, True])
def test_regressor_shapes_and_r2(multi):
    X, y = make_regression(n_samples=300, n_features=5, n_targets=2 if multi else 1, noise=1.0, random_state=0)
    y = y / y.std(axis=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    reg = NeuralNetRegressor(hidden_layer_sizes=(32,), epochs=100, learning_rate=0.01, batch_size=32, random_state=0)
    reg.fit(Xtr, ytr)
    pred = reg.predict(Xte)
    assert pred.shape == yte.shape and pred.dtype == np.float64
    assert reg.model_.task == "regression" and reg.model_.layers[-1].units == (2 if multi else 1)
    assert reg.score(Xte, yte) > 0.95


def test_regressor_column_target_keeps_its_shape():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    reg = NeuralNetRegressor(epochs=2, random_state=0).fit(X, y[:, None])
    assert reg.predict(X).shape == (50, 1)


def test_float32_network_float64_regression_output():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    reg = NeuralNetRegressor(epochs=3, dtype="float32", random_state=0).fit(X, y)
    assert reg.model_.dtype == np.float32
    assert reg.predict(X).dtype == np.float64
    clf = NeuralNetClassifier(epochs=3, dtype="float32", random_state=0).fit(X, y > 0)
    assert clf.predict_proba(X).dtype == np.float32 and clf.predict(X).dtype == bool


# ---------------------------------------------------------- model selection, clone


def test_randomized_search_over_learning_rate_and_hidden_sizes(iris_split):
    from scipy.stats import loguniform

    Xtr, _, ytr, _ = iris_split
    pipe = Pipeline([("scale", StandardScaler()), ("net", _iris_clf(epochs=15))])
    search = RandomizedSearchCV(
        pipe,
        {"net__learning_rate": loguniform(1e-3, 1e-1), "net__hidden_layer_sizes": [(8,), (16, 8)]},
        n_iter=3, cv=2, random_state=0,
    )
    search.fit(Xtr, ytr)
    assert len(search.cv_results_["params"]) == 3
    best = search.best_estimator_.named_steps["net"]
    chosen = search.best_params_
    # The searched values reach the network.
    assert best.model_.optimizer.learning_rate == pytest.approx(chosen["net__learning_rate"])
    assert tuple(l.units for l in best.model_.layers[:-1]) == chosen["net__hidden_layer_sizes"]
    assert search.score(Xtr, ytr) > 0.5


def test_cross_val_score_and_clone(iris_split):
    Xtr, _, ytr, _ = iris_split
    clf = _iris_clf(epochs=10, hidden_layer_sizes=[8], optimizer="rmsprop")
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), Xtr, ytr, cv=3)
    assert scores.shape == (3,)
    assert not hasattr(clf, "model_")  # cross_val_score fits clones
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    twin.set_params(epochs=3, learning_rate=0.5)
    assert (twin.epochs, twin.learning_rate, clf.epochs) == (3, 0.5, 10)


def test_parameters_reach_the_network():
    X = np.random.RandomState(0).randn(40, 3)
    y = (X[:, 0] > 0).astype(int)
    clf = NeuralNetClassifier(hidden_layer_sizes=(6, 4), activation="tanh", keep_prob=0.8, batch_norm=True,
                              init="xavier", optimizer="momentum", learning_rate=0.05, epochs=2,
                              random_state=0).fit(X, y)
    kinds = [type(layer) for layer in clf.model_.layers]
    assert kinds == [Dense, BatchNorm, Dropout, Dense, BatchNorm, Dropout, Dense]
    dense = [layer for layer in clf.model_.layers if isinstance(layer, Dense)]
    assert [d.units for d in dense] == [6, 4, 1]
    assert all(d.init == "xavier" for d in dense)
    assert [layer.activation for layer in clf.model_.layers if isinstance(layer, BatchNorm)] == ["tanh", "tanh"]
    assert clf.model_.layers[2].keep_prob == 0.8
    assert isinstance(clf.model_.optimizer, pn.optimizers.Momentum)
    assert clf.model_.optimizer.learning_rate == 0.05
    assert clf.n_features_in_ == 3

    # No hidden layer: logistic regression; an int is one hidden layer.
    assert len(NeuralNetClassifier(hidden_layer_sizes=(), epochs=1).fit(X, y).model_.layers) == 1
    assert [d.units for d in NeuralNetClassifier(hidden_layer_sizes=5, epochs=1).fit(X, y).model_.layers] == [5, 1]


def test_optimizer_instance_lends_settings_not_state():
    X = np.random.RandomState(0).randn(30, 2)
    y = (X.sum(axis=1) > 0).astype(int)
    opt = pn.optimizers.Adam(learning_rate=0.5, beta1=0.8)
    clf = NeuralNetClassifier(optimizer=opt, learning_rate=0.02, epochs=3, random_state=0).fit(X, y)
    used = clf.model_.optimizer
    assert used is not opt and isinstance(used, pn.optimizers.Adam)
    assert (used.learning_rate, used.beta1) == (0.02, 0.8)
    assert opt.iterations == 0 and opt.slots == {} and opt.learning_rate == 0.5


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(epochs=0), ValueError),
        (dict(batch_size=0), ValueError),
        (dict(learning_rate=-1.0), ValueError),
        (dict(keep_prob=0.0), ValueError),
        (dict(l2=-0.1), ValueError),
        (dict(hidden_layer_sizes=(4, 0)), ValueError),
        (dict(optimizer="lbfgs"), ValueError),
        (dict(activation="swish"), ValueError),
        (dict(dtype="int32"), ValueError),
        (dict(early_stopping=True, validation_fraction=1.5), ValueError),
    ],
)
def test_bad_parameters_raise_at_fit_not_init(params, error):
    clf = NeuralNetClassifier(**params)  # scikit-learn convention: __init__ only stores
    X = np.random.RandomState(0).randn(20, 2)
    with pytest.raises(error):
        clf.fit(X, np.arange(20) % 2)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        NeuralNetRegressor().predict(np.zeros((2, 2)))


# ----------------------------------------------------- determinism, early stopping


def test_random_state_makes_fit_reproducible(iris_split):
    Xtr, Xte, ytr, _ = iris_split
    kw = dict(epochs=10, keep_prob=0.8, batch_norm=True)
    a = _iris_clf(**kw).fit(Xtr, ytr)
    b = _iris_clf(**kw).fit(Xtr, ytr)
    c = _iris_clf(random_state=1, **kw).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    assert a.history_["loss"] == b.history_["loss"]
    assert not np.array_equal(a.predict_proba(Xte), c.predict_proba(Xte))
    # Refitting the same estimator gives the same model again (check_fit_idempotent).
    np.testing.assert_array_equal(a.fit(Xtr, ytr).predict_proba(Xte), b.predict_proba(Xte))
    # A RandomState instance is accepted (and advanced, as in scikit-learn).
    rs = np.random.RandomState(0)
    _iris_clf(random_state=rs, epochs=1).fit(Xtr, ytr)
    assert rs.randint(1 << 30) != np.random.RandomState(0).randint(1 << 30)


def test_early_stopping_holds_out_and_stops(iris_split):
    Xtr, _, ytr, _ = iris_split
    Xs = StandardScaler().fit_transform(Xtr)
    clf = _iris_clf(epochs=1000, early_stopping=True, patience=3, validation_fraction=0.2).fit(Xs, ytr)
    assert clf.n_iter_ < 1000
    assert len(clf.history_["val_loss"]) == clf.n_iter_
    assert "stopped by a callback" in clf.history_.stopped_reason


def test_pickle_round_trip(iris_split):
    Xtr, Xte, ytr, _ = iris_split
    clf = _iris_clf(epochs=5).fit(Xtr, ytr)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(Xte), clf.predict_proba(Xte))


# ------------------------------------------------------------------ no copy of X


def _capture(monkeypatch):
    """Record the X that ``Sequential.fit`` receives and the X of the first training forward pass."""
    seen = {}
    fit, forward = pn.Sequential.fit, pn.Sequential._forward

    def spy_fit(self, X, Y, **kw):
        seen.setdefault("fit", X)
        return fit(self, X, Y, **kw)

    def spy_forward(self, X, ctx):
        # Inference: training runs inside the engine, which gathers batches itself.
        if not ctx.training:
            seen.setdefault("forward", X)
        return forward(self, X, ctx)

    monkeypatch.setattr(pn.Sequential, "fit", spy_fit)
    monkeypatch.setattr(pn.Sequential, "_forward", spy_forward)
    return seen


def test_c_ordered_float64_X_reaches_the_model_without_copy(monkeypatch):
    rng = np.random.RandomState(0)
    X = np.ascontiguousarray(rng.randn(50, 4))
    y = (X[:, 0] > 0).astype(int)
    seen = _capture(monkeypatch)
    NeuralNetClassifier(epochs=1, batch_size=None, random_state=0).fit(X, y).predict(X)
    for where in ("fit", "forward"):
        Xm = seen[where]
        assert Xm.shape == (4, 50)  # examples are columns
        assert np.shares_memory(Xm, X), where  # a view of the caller's array, not a copy
        assert Xm.flags.f_contiguous and not Xm.flags.owndata
        np.testing.assert_array_equal(Xm, X.T)


def test_conversion_copies_only_when_needed(monkeypatch):
    X = np.random.RandomState(0).randn(50, 4)
    y = (X[:, 0] > 0).astype(int)
    seen = _capture(monkeypatch)
    NeuralNetClassifier(epochs=1, dtype="float32", random_state=0).fit(X, y)
    assert seen["fit"].dtype == np.float32 and not np.shares_memory(seen["fit"], X)
    seen.clear()
    X32 = X.astype(np.float32)
    NeuralNetClassifier(epochs=1, dtype="float32", random_state=0).fit(X32, y)
    assert np.shares_memory(seen["fit"], X32)
