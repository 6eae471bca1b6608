"""Random hyperparameter search (notes H02-H06): random points, not a grid, on the right scale.

    >>> from pyneural import tune
    >>> space = {"learning_rate": tune.loguniform(1e-4, 1),      # r ~ U[-4, 0], α = 10^r
    ...          "beta": tune.one_minus_loguniform(0.9, 0.999),  # 1 − β = 10^r, r ~ U[-3, -1]
    ...          "n_h": tune.int_range(50, 100), "epochs": 200}  # plain values stay fixed
    >>> result = tune.random_search(lambda p: train_and_score(**p), space, n_trials=25)
    >>> result.best_params; print(result.table())

Every trial's parameters are drawn up front from ``seed`` (trial ``i`` from its own stream
``SeedSequence(seed).spawn(n)[i]``), so the trials do not depend on how or in which order
they are run, and a parallel executor runs exactly the trials the sequential one does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from ._validation import check_number

__all__ = [
    "Sampler",
    "SearchResult",
    "choice",
    "int_range",
    "loguniform",
    "one_minus_loguniform",
    "random_search",
    "sample_trials",
    "uniform",
]

_FIXED = (bool, int, float, str, type(None), np.integer, np.floating, np.bool_)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


def _bounds(a, b, what: str) -> tuple[float, float]:
    a, b = check_number(a, "a"), check_number(b, "b")
    if not a < b:
        raise ValueError(f"{what} needs a < b, got a={a!r}, b={b!r}")
    return a, b


class Sampler:
    """A distribution over one hyperparameter: ``sample(rng)`` draws one value."""

    def sample(self, rng: np.random.Generator):
        raise NotImplementedError


class _Uniform(Sampler):
    def __init__(self, a, b):
        self.a, self.b = _bounds(a, b, "uniform")

    def sample(self, rng):
        return float(_check_rng(rng).uniform(self.a, self.b))

    def __repr__(self):
        return f"uniform({self.a!r}, {self.b!r})"


class _LogUniform(Sampler):
    def __init__(self, a, b):
        self.a, self.b = _bounds(a, b, "loguniform")
        if self.a <= 0:
            raise ValueError(f"loguniform needs 0 < a < b, got a={a!r}")

    def sample(self, rng):
        r = _check_rng(rng).uniform(math.log10(self.a), math.log10(self.b))
        return float(min(max(10.0**r, self.a), self.b))  # 10**log10(b) may round past b

    def __repr__(self):
        return f"loguniform({self.a!r}, {self.b!r})"


class _OneMinusLogUniform(Sampler):
    def __init__(self, a, b):
        self.a, self.b = _bounds(a, b, "one_minus_loguniform")
        if not (0 <= self.a and self.b < 1):
            raise ValueError(f"one_minus_loguniform needs 0 <= a < b < 1, got a={a!r}, b={b!r}")

    def sample(self, rng):
        r = _check_rng(rng).uniform(math.log10(1 - self.b), math.log10(1 - self.a))
        return float(min(max(1.0 - 10.0**r, self.a), self.b))

    def __repr__(self):
        return f"one_minus_loguniform({self.a!r}, {self.b!r})"


class _IntRange(Sampler):
    def __init__(self, low, high):
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"int_range {name} must be an int, got {v!r}")
        if low > high:
            raise ValueError(f"int_range needs low <= high, got low={low}, high={high}")
        self.low, self.high = int(low), int(high)

    def sample(self, rng):
        return int(_check_rng(rng).integers(self.low, self.high, endpoint=True))

    def __repr__(self):
        return f"int_range({self.low!r}, {self.high!r})"


class _Choice(Sampler):
    def __init__(self, options):
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise TypeError(f"choice options must be a list or tuple, got {type(options).__name__}")
        if len(options) == 0:
            raise ValueError("choice needs at least one option")
        self.options = list(options)

    def sample(self, rng):
        return self.options[int(_check_rng(rng).integers(len(self.options)))]

    def __repr__(self):
        return f"choice({self.options!r})"


def uniform(a, b) -> Sampler:
    """A float uniform in [a, b] (notes H04: fine for e.g. the number of layers' range)."""
    return _Uniform(a, b)


def loguniform(a, b) -> Sampler:
    """10^r with r ~ U[log10 a, log10 b] (notes H05), e.g. ``loguniform(1e-4, 1)`` for α: each
    decade gets the same share of samples (a uniform draw would put 90% in [0.1, 1])."""
    return _LogUniform(a, b)


def one_minus_loguniform(a, b) -> Sampler:
    """β in [a, b] with 1 − β log-uniform (notes H06): β = 1 − 10^r, r ~ U[log10(1 − b),
    log10(1 − a)]; ``one_minus_loguniform(0.9, 0.999)`` draws r in [−3, −1]."""
    return _OneMinusLogUniform(a, b)


def int_range(low, high) -> Sampler:
    """An int uniform in [low, high], both ends included (e.g. hidden units 50..100)."""
    return _IntRange(low, high)


def choice(options) -> Sampler:
    """One of ``options`` with equal probability (returned as given, not as a NumPy scalar)."""
    return _Choice(options)


def _check_space(space) -> dict:
    if not isinstance(space, Mapping):
        raise TypeError(f"space must be a dict of name -> sampler or fixed value, got {type(space).__name__}")
    for key, entry in space.items():
        if not isinstance(key, str):
            raise TypeError(f"space keys must be str, got {key!r}")
        if not isinstance(entry, (Sampler, *_FIXED)):
            raise TypeError(
                f"space[{key!r}] must be a sampler (tune.loguniform, uniform, choice, int_range, "
                f"one_minus_loguniform) or a fixed number/str/bool/None, got {type(entry).__name__}"
                + (" (wrap a list of options in tune.choice([...]))" if isinstance(entry, (list, tuple)) else "")
            )
    return dict(space)


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)


def _check_n_trials(n_trials) -> int:
    if isinstance(n_trials, (bool, np.bool_)) or not isinstance(n_trials, (int, np.integer)):
        raise TypeError(f"n_trials must be a positive int, got {n_trials!r}")
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    return int(n_trials)


def sample_trials(space, n_trials, seed=0) -> list[dict]:
    """The parameter dicts of ``n_trials`` trials, all drawn now from ``seed``.

    Trial ``i`` draws from ``default_rng(SeedSequence(seed).spawn(n_trials)[i])``, keys in
    the space's order; the first k trials are the same for any ``n_trials >= k``.
    """
    space = _check_space(space)
    n_trials = _check_n_trials(n_trials)
    streams = np.random.SeedSequence(_check_seed(seed)).spawn(n_trials)
    trials = []
    for ss in streams:
        rng = np.random.default_rng(ss)
        trials.append({k: (v.sample(rng) if isinstance(v, Sampler) else v) for k, v in space.items()})
    return trials


# --- execution --------------------------------------------------------------------------


def _objective(out, metric):
    """(metrics dict, value to optimise) from what build_and_fit returned."""
    if isinstance(out, Mapping):
        metrics = dict(out)
        if metric is None:
            if len(metrics) != 1:
                raise ValueError(
                    f"build_and_fit returned a dict with keys {sorted(metrics)}: pass metric= naming the one to optimise"
                )
            metric = next(iter(metrics))
        if metric not in metrics:
            raise KeyError(f"metric {metric!r} not in the returned keys {sorted(metrics)}")
        value = metrics[metric]
    else:
        value = out
        metrics = {metric or "value": out}
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"the objective must be a real number, got {type(value).__name__}: {value!r:.60}")
    value = float(value)
    if math.isnan(value):
        raise ValueError("the objective is NaN (did training diverge?)")
    return metrics, value


def _run_trial(fn, trial: dict, metric) -> dict:
    """Run one trial; never raises for an error inside ``fn`` (a module-level function so a
    process-pool executor can pickle it)."""
    record = {"index": trial["index"], "params": dict(trial["params"]), "metrics": {}, "value": None,
              "status": "ok", "error": None, "seconds": 0.0}
    start = time.perf_counter()
    try:
        record["metrics"], record["value"] = _objective(fn(dict(trial["params"])), metric)
    except Exception as exc:  # a failing trial is recorded; KeyboardInterrupt still stops the search
        record["status"], record["error"] = "failed", f"{type(exc).__name__}: {exc}"
    record["seconds"] = time.perf_counter() - start
    return record


class _SequentialExecutor:
    """Runs trials one after the other in this process. A parallel executor (loky, dask)
    provides the same ``map``, yielding records as ``_run_trial`` makes them."""

    def map(self, fn, trials, metric):
        for trial in trials:
            yield _run_trial(fn, trial, metric)


_EXECUTORS = {"sequential": _SequentialExecutor}


class SearchResult:
    """The trials of a search: ``trials`` (dicts with index, params, metrics, value, status,
    error, seconds, in trial order), ``best``, ``best_params``, ``table()``, ``to_pandas()``."""

    def __init__(self, trials, metric=None, mode="max"):
        self.trials = list(trials)
        self.metric, self.mode = metric, mode

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self):
        return iter(self.trials)

    def __repr__(self) -> str:
        ok = sum(t["status"] == "ok" for t in self.trials)
        return f"<SearchResult: {len(self)} trials, {ok} ok, mode={self.mode!r}, metric={self.metric!r}>"

    @property
    def best(self) -> dict:
        """The successful trial with the best value (the first one on a tie)."""
        ok = [t for t in self.trials if t["status"] == "ok"]
        if not ok:
            first = self.trials[0]["error"] if self.trials else "no trials"
            raise RuntimeError(f"no trial succeeded (first error: {first})")
        sign = 1.0 if self.mode == "max" else -1.0
        return max(ok, key=lambda t: sign * t["value"])  # max keeps the first of equal keys

    @property
    def best_params(self) -> dict:
        return dict(self.best["params"])

    def table(self, sort: bool = False) -> str:
        """A plain-text table, one row per trial (``sort=True``: best first, failures last)."""
        rows = list(self.trials)
        if sort:
            sign = -1.0 if self.mode == "max" else 1.0
            rows.sort(key=lambda t: (t["status"] != "ok", sign * t["value"] if t["value"] is not None else 0.0))
        keys = list(dict.fromkeys(k for t in rows for k in t["params"]))
        head = ["trial", "status", self.metric or "value", *keys, "seconds"]
        body = [[str(t["index"]), t["status"], _fmt(t["value"]), *(_fmt(t["params"].get(k)) for k in keys),
                 f"{t['seconds']:.2f}"] for t in rows]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head, *body]]
        lines += [f"trial {t['index']} failed: {t['error']}" for t in rows if t["status"] != "ok"]
        return "\n".join(lines)

    def to_pandas(self):
        """A DataFrame: index, status, value, seconds, error, ``param_<name>`` and ``metric_<name>``."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("SearchResult.to_pandas() needs pandas: pip install pandas (or use .table())") from exc
        rows = []
        for t in self.trials:
            row = {k: t[k] for k in ("index", "status", "value", "seconds", "error")}
            row.update({f"param_{k}": v for k, v in t["params"].items()})
            row.update({f"metric_{k}": v for k, v in t["metrics"].items()})
            rows.append(row)
        return pd.DataFrame(rows)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def random_search(build_and_fit, space, n_trials=10, seed=0, metric=None, mode="max", verbose=0,
                  backend="sequential") -> SearchResult:
    """Run ``build_and_fit(params)`` for ``n_trials`` random points of ``space``.

    Parameters
    ----------
    build_and_fit : callable(params: dict) -> float or dict
        Trains a model with the given hyperparameters and returns the score (e.g. dev
        accuracy), or a dict of metrics of which ``metric`` names the one to optimise. An
        exception fails that trial (status "failed", error text kept); the search goes on.
    space : dict
        name → sampler (:func:`loguniform`, :func:`uniform`, :func:`choice`,
        :func:`int_range`, :func:`one_minus_loguniform`) or a fixed scalar.
    n_trials : int >= 1
    seed : int >= 0
        All trials are drawn up front (:func:`sample_trials`).
    metric : str, optional
        The key to optimise when ``build_and_fit`` returns a dict (may be omitted if the dict
        has one key).
    mode : "max" or "min"
    verbose : int
        0 silent; 1 prints one line per trial as it ends.
    backend : "sequential"
        Where trials run; only in-process sequential execution exists so far.
    """
    if not callable(build_and_fit):
        raise TypeError(f"build_and_fit must be callable, got {type(build_and_fit).__name__}")
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if metric is not None and not isinstance(metric, str):
        raise TypeError(f"metric must be a str naming a returned key, got {metric!r}")
    if backend not in _EXECUTORS:
        raise ValueError(f"backend must be one of {sorted(_EXECUTORS)}, got {backend!r}")
    params = sample_trials(space, n_trials, seed)
    trials = [{"index": i, "params": p} for i, p in enumerate(params)]
    records = []
    for rec in _EXECUTORS[backend]().map(build_and_fit, trials, metric):
        records.append(rec)
        if verbose:
            ok = rec["status"] == "ok"
            what = f"{metric or 'value'}={_fmt(rec['value'])}" if ok else f"FAILED ({rec['error']})"
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in rec["params"].items())
            print(f"trial {rec['index'] + 1}/{len(trials)}: {what}  [{shown}]  {rec['seconds']:.2f} s",
                  flush=True)
    records.sort(key=lambda r: r["index"])  # a parallel executor may finish out of order
    return SearchResult(records, metric=metric, mode=mode)
