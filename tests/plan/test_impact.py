"""What Polar's counts of recent events mean for a filter (plan/impact.py), without Polar."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.plan.impact import name_warnings, property_warning, review
from reconciler.plan.live import Counts, LiveAnswers, LiveOptions, Question
from reconciler.usage.engine import Event

NAME = {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "a"}]}
COUNT = {"func": "count"}


def _answers(counts: Counts, threshold: float = 10.0, before: bool = True) -> LiveAnswers:
    question = Question("k", "change", NAME, COUNT, NAME if before else None)
    return LiveAnswers(LiveOptions("30d", 50, threshold), "s", "e", (question,),
                       {"k": counts}, frozenset({"a"}))


def test_keep_drop_add_from_the_three_counts() -> None:
    [impact] = review(_answers(Counts(after=12, before=10, both=9))).meters
    assert (impact.before, impact.kept, impact.dropped, impact.added) == (10, 9, 1, 3)
    assert impact.flagged  # adds 30%


def test_the_threshold_is_strictly_more_than() -> None:
    [exact] = review(_answers(Counts(after=10, before=10, both=9), threshold=10)).meters
    assert not exact.flagged  # drops exactly 10%, adds 10%
    [more] = review(_answers(Counts(after=10, before=10, both=8), threshold=10)).meters
    assert more.flagged


def test_from_no_event_any_addition_is_flagged_and_no_match_warned() -> None:
    [added] = review(_answers(Counts(after=3, before=0, both=0))).meters
    assert added.flagged and added.warnings == ()
    [none] = review(_answers(Counts(after=0, before=0, both=0))).meters
    assert not none.flagged and none.warnings == ("matches no event in 30 days",)


def test_unseen_names_get_the_closest_seen_ones() -> None:
    nested = {"conjunction": "or", "clauses": [
        {"property": "name", "operator": "eq", "value": "api_cal"},
        {"conjunction": "and", "clauses": [
            {"property": "name", "operator": "like", "value": "lm_req"},
            {"property": "name", "operator": "like", "value": "zzz"},
            {"property": "name", "operator": "ne", "value": "nope"}]}]}
    names = frozenset({"api_call", "api_calls", "llm_request", "storage"})
    assert name_warnings(nested, names) == [
        "no event named `api_cal` has been seen (did you mean `api_call` or `api_calls`?)",
        "no event name containing `zzz` has been seen",
    ]


def test_a_property_no_sampled_event_carries_as_a_number() -> None:
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    strings = tuple(Event("llm_request", moment, {"tokens": "12"}) for _ in range(3))
    total = {"func": "sum", "property": "tokens"}
    assert property_warning(total, Counts(3, sample=strings)) == (
        "none of 3 recent `llm_request` events carry `tokens` as a number: the sum would be 0")
    assert property_warning({"func": "unique", "property": "tokens"}, Counts(3, sample=strings)) is None
    one = (*strings, Event("api_call", moment, {"tokens": 4}))
    assert property_warning(total, Counts(4, sample=one)) is None
    assert property_warning(total, Counts(0)) is None  # no sample: nothing to say
