"""pyneural.schedules: the notes' learning-rate decay (O19, ERR-19) with a 0-based epoch."""

from __future__ import annotations

import json
import math

import pytest

from pyneural import schedules as S


def test_notes_table_inverse_time_decay():
    # notes O19: α0 = 0.2, decay_rate = 1 -> epochs 1, 2, 3, 4 (1-based) give 0.1, 0.067, 0.05, 0.04;
    # pyneural's epoch is 0-based, so those are epoch = 0, 1, 2, 3
    sched = S.InverseTimeDecay(decay_rate=1.0)
    got = [sched(epoch, 0.2) for epoch in range(4)]
    assert got == pytest.approx([0.1, 0.2 / 3, 0.05, 0.04])
    assert [round(v, 3) for v in got] == [0.1, 0.067, 0.05, 0.04]


def test_inverse_time_step_wise():
    sched = S.InverseTimeDecay(decay_rate=0.5, time_interval=3)
    # epoch_num = epoch + 1; ⌊epoch_num / 3⌋ = 0, 0, 1, 1, 1, 2 for epoch 0..5
    assert [sched(e, 1.0) for e in range(6)] == pytest.approx([1, 1, 1 / 1.5, 1 / 1.5, 1 / 1.5, 1 / 2])


def test_other_schedules_hand_values():
    assert [S.Constant()(e, 0.3) for e in (0, 5, 100)] == [0.3, 0.3, 0.3]
    assert S.ExponentialDecay()(0, 1.0) == pytest.approx(0.95)
    assert S.ExponentialDecay(base=0.5)(2, 0.2) == pytest.approx(0.2 * 0.125)
    assert S.InverseSqrtDecay(k=2.0)(0, 0.1) == pytest.approx(0.2)  # first epoch finite: k·α0
    assert S.InverseSqrtDecay(k=2.0)(3, 0.1) == pytest.approx(0.1)  # 2/√4 · 0.1
    step = S.StepDecay(drop=0.5, every=10)
    assert [step(e, 1.0) for e in (0, 9, 10, 19, 20, 35)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]


@pytest.mark.parametrize(
    "sched",
    [S.Constant(), S.InverseTimeDecay(0.3, 5), S.ExponentialDecay(0.9), S.InverseSqrtDecay(0.5),
     S.StepDecay(0.1, 3)],
)
def test_config_round_trip(sched):
    cfg = sched.get_config()
    assert json.loads(json.dumps(cfg)) == cfg  # plain values only
    again = type(sched).from_config(cfg)
    assert again == sched and repr(again) == repr(sched)
    assert S.get(cfg) == sched
    assert S.Schedule.from_config(cfg) == sched
    assert [again(e, 0.7) for e in range(12)] == [sched(e, 0.7) for e in range(12)]


def test_get_resolves_names():
    assert S.get("inverse_time") == S.InverseTimeDecay()
    assert S.get("InverseTimeDecay") == S.InverseTimeDecay()
    assert S.get("exponential_decay") == S.ExponentialDecay()
    assert isinstance(S.get("step"), S.StepDecay)
    assert isinstance(S.get(None), S.Constant)
    obj = S.InverseSqrtDecay()
    assert S.get(obj) is obj
    assert S.get(S.StepDecay) == S.StepDecay()
    fn = lambda epoch, lr0: lr0  # noqa: E731
    assert S.get(fn) is fn
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        S.get("cosine")
    with pytest.raises(TypeError, match="schedule"):
        S.get(3)


@pytest.mark.parametrize(
    "make, exc, word",
    [
        (lambda: S.InverseTimeDecay(decay_rate=-1), ValueError, "decay_rate"),
        (lambda: S.InverseTimeDecay(time_interval=0), ValueError, "time_interval"),
        (lambda: S.InverseTimeDecay(time_interval=1.5), TypeError, "time_interval"),
        (lambda: S.ExponentialDecay(base=1.5), ValueError, "base"),
        (lambda: S.ExponentialDecay(base=0), ValueError, "base"),
        (lambda: S.InverseSqrtDecay(k=-2), ValueError, "k"),
        (lambda: S.StepDecay(drop=0), ValueError, "drop"),
        (lambda: S.StepDecay(every=0), ValueError, "every"),
        (lambda: S.InverseTimeDecay(decay_rate="1"), TypeError, "decay_rate"),
        (lambda: S.InverseTimeDecay(decay_rate=math.nan), ValueError, "decay_rate"),
        (lambda: S.Constant()(-1, 0.1), ValueError, "epoch"),
        (lambda: S.Constant()(1.0, 0.1), TypeError, "epoch"),
        (lambda: S.Constant()(0, -0.1), ValueError, "lr0"),
        (lambda: S.InverseTimeDecay.from_config({"name": "step"}), ValueError, "not 'inverse_time'"),
        (lambda: S.StepDecay.from_config({"drop": 0.5, "rate": 1}), ValueError, "rate"),
        (lambda: S.Schedule.from_config({"drop": 0.5}), ValueError, "name"),
    ],
)
def test_validation(make, exc, word):
    with pytest.raises(exc, match=word):
        make()
