"""pyneural.tune: the notes' log-scale sampling (H05, H06) and random search (H02)."""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

from pyneural import tune


def _draws(sampler, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([sampler.sample(rng) for _ in range(n)])


def test_loguniform_range_and_log10_uniform():
    x = _draws(tune.loguniform(1e-4, 1))
    assert x.min() >= 1e-4 and x.max() <= 1
    r = np.log10(x)
    # r ~ U[-4, 0]: each decade holds ~1/4 of the samples (a uniform draw would put 90% in [0.1, 1])
    counts = np.histogram(r, bins=4, range=(-4, 0))[0] / x.size
    np.testing.assert_allclose(counts, 0.25, atol=0.03)
    assert r.mean() == pytest.approx(-2.0, abs=0.06)


def test_one_minus_loguniform_beta():
    beta = _draws(tune.one_minus_loguniform(0.9, 0.999))
    assert beta.min() >= 0.9 and beta.max() <= 0.999
    r = np.log10(1 - beta)  # notes H06: r ~ U[-3, -1]
    assert r.min() >= -3 - 1e-12 and r.max() <= -1 + 1e-12
    np.testing.assert_allclose(np.histogram(r, bins=2, range=(-3, -1))[0] / r.size, 0.5, atol=0.03)


def test_uniform_int_range_choice():
    u = _draws(tune.uniform(-1.0, 3.0))
    assert u.min() >= -1 and u.max() <= 3 and u.mean() == pytest.approx(1.0, abs=0.1)
    rng = np.random.default_rng(1)
    ints = [tune.int_range(50, 52).sample(rng) for _ in range(300)]
    assert set(ints) == {50, 51, 52} and all(type(i) is int for i in ints)  # both ends included
    opts = ["relu", "tanh", (1, 2)]
    picks = [tune.choice(opts).sample(rng) for _ in range(100)]
    assert {p if isinstance(p, str) else "tuple" for p in picks} == {"relu", "tanh", "tuple"}
    assert (1, 2) in picks  # returned as given


def test_reprs():
    assert repr(tune.loguniform(1e-4, 1)) == "loguniform(0.0001, 1.0)"
    assert repr(tune.one_minus_loguniform(0.9, 0.999)) == "one_minus_loguniform(0.9, 0.999)"
    assert repr(tune.int_range(2, 4)) == "int_range(2, 4)"
    assert repr(tune.choice([1, "a"])) == "choice([1, 'a'])"
    assert repr(tune.uniform(0, 1)) == "uniform(0.0, 1.0)"


@pytest.mark.parametrize(
    "make, exc, word",
    [
        (lambda: tune.loguniform(0, 1), ValueError, "0 < a"),
        (lambda: tune.loguniform(1, 0.1), ValueError, "a < b"),
        (lambda: tune.uniform("a", 1), TypeError, "a"),
        (lambda: tune.one_minus_loguniform(0.9, 1.0), ValueError, "b < 1"),
        (lambda: tune.int_range(3, 2), ValueError, "low <= high"),
        (lambda: tune.int_range(1.5, 2), TypeError, "low"),
        (lambda: tune.choice([]), ValueError, "at least one"),
        (lambda: tune.choice("abc"), TypeError, "list or tuple"),
        (lambda: tune.uniform(0, 1).sample(np.random.RandomState(0)), TypeError, "Generator"),
    ],
)
def test_sampler_validation(make, exc, word):
    with pytest.raises(exc, match=word):
        make()


SPACE = {"lr": tune.loguniform(1e-4, 1), "n_h": tune.int_range(1, 100), "act": tune.choice(["relu", "tanh"]),
         "epochs": 7}


def test_sample_trials_up_front_and_reproducible():
    a = tune.sample_trials(SPACE, 5, seed=3)
    assert a == tune.sample_trials(SPACE, 5, seed=3)
    assert a[:3] == tune.sample_trials(SPACE, 3, seed=3)  # independent of n_trials
    assert a != tune.sample_trials(SPACE, 5, seed=4)
    assert all(t["epochs"] == 7 for t in a)  # fixed values pass through
    assert len({t["lr"] for t in a}) == 5


@pytest.mark.parametrize(
    "space, word",
    [
        ({"lr": [0.1, 0.01]}, r"space\['lr'\].*tune.choice"),
        ({"f": np.zeros(2)}, r"space\['f'\]"),
        ({1: tune.uniform(0, 1)}, "keys must be str"),
        ([("lr", 0.1)], "space must be a dict"),
    ],
)
def test_bad_space(space, word):
    with pytest.raises(TypeError, match=word):
        tune.sample_trials(space, 2)


def _objective(p):
    # best at lr = 0.01 (log10 = -2); a known function of the parameters
    return -((math.log10(p["lr"]) + 2) ** 2) - 0.001 * abs(p["n_h"] - 50)


def test_random_search_picks_the_best_trial():
    res = tune.random_search(_objective, SPACE, n_trials=12, seed=0)
    assert len(res) == 12 and [t["index"] for t in res.trials] == list(range(12))
    values = [_objective(t["params"]) for t in res.trials]
    assert res.best["value"] == max(values)
    assert res.best_params == res.trials[int(np.argmax(values))]["params"]
    assert [t["params"] for t in res.trials] == tune.sample_trials(SPACE, 12, seed=0)
    low = tune.random_search(_objective, SPACE, n_trials=12, seed=0, mode="min")
    assert low.best["value"] == min(values)
    assert all(t["status"] == "ok" and t["seconds"] >= 0 for t in res.trials)


def test_random_search_records_failures_and_dict_metrics():
    def fit(p):
        if p["n_h"] > 50:
            raise RuntimeError(f"too wide: {p['n_h']}")
        return {"dev_acc": 1 - p["n_h"] / 100, "train_acc": 1.0}

    res = tune.random_search(fit, SPACE, n_trials=10, seed=1, metric="dev_acc")
    failed = [t for t in res.trials if t["status"] == "failed"]
    ok = [t for t in res.trials if t["status"] == "ok"]
    assert failed and ok  # the seed gives both kinds
    assert all(t["error"].startswith("RuntimeError: too wide") and t["value"] is None for t in failed)
    assert res.best["params"]["n_h"] == min(t["params"]["n_h"] for t in ok)
    assert res.best["metrics"] == {"dev_acc": res.best["value"], "train_acc": 1.0}
    text = res.table()
    assert "dev_acc" in text and "failed" in text and "too wide" in text
    assert text.count("\n") >= 10
    assert res.table(sort=True).splitlines()[1].split()[0] == str(res.best["index"])


def test_random_search_all_failing_and_bad_returns():
    res = tune.random_search(lambda p: {"a": 1, "b": 2}, SPACE, n_trials=2)  # which key? -> failed
    assert all("pass metric=" in t["error"] for t in res.trials)
    with pytest.raises(RuntimeError, match="no trial succeeded"):
        res.best
    nan = tune.random_search(lambda p: float("nan"), SPACE, n_trials=1)
    assert nan.trials[0]["status"] == "failed" and "NaN" in nan.trials[0]["error"]
    single = tune.random_search(lambda p: {"acc": 0.5}, SPACE, n_trials=1)  # a lone key is the metric
    assert single.best["value"] == 0.5


def test_random_search_verbose_prints_one_line_per_trial(capsys):
    tune.random_search(_objective, SPACE, n_trials=3, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("trial 1/3")


@pytest.mark.parametrize(
    "kw, exc, word",
    [
        ({"n_trials": 0}, ValueError, "n_trials"),
        ({"n_trials": 2.0}, TypeError, "n_trials"),
        ({"mode": "best"}, ValueError, "mode"),
        ({"seed": -1}, ValueError, "seed"),
        ({"backend": "loky"}, ValueError, "backend"),
        ({"metric": 1}, TypeError, "metric"),
    ],
)
def test_random_search_validation(kw, exc, word):
    with pytest.raises(exc, match=word):
        tune.random_search(_objective, SPACE, **kw)
    with pytest.raises(TypeError, match="build_and_fit"):
        tune.random_search(None, SPACE)


def test_to_pandas(monkeypatch):
    res = tune.random_search(_objective, SPACE, n_trials=2)
    monkeypatch.setitem(sys.modules, "pandas", None)  # simulate pandas missing
    with pytest.raises(ImportError, match="needs pandas"):
        res.to_pandas()
    # the row layout, checked with a stand-in for pandas (it may not be installed here)
    monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(DataFrame=lambda rows: rows))
    rows = res.to_pandas()
    assert [r["index"] for r in rows] == [0, 1]
    assert {"status", "value", "seconds", "error", "param_lr", "param_epochs", "metric_value"} <= set(rows[0])
    assert rows[1]["param_lr"] == res.trials[1]["params"]["lr"]
