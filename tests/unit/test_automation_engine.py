"""The automation rule engine on plain facts: conditions, conflicts, edges, and, with random
rules, its two promises (order does not matter; it terminates)."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from procflow.domain import automations as engine
from procflow.domain.automation_rules import Scope, check, to_rule
from procflow.domain.automations import Action, Condition, Facts, People, Rule, Template

START = datetime(2030, 1, 1, 9, tzinfo=UTC)
STEPS = ("s1", "s2", "s3")
NOBODY = Template(defaults={}, deadlines={}, started=START)


def field_is(value: str, field: str = "x", op: str = "equals") -> Condition:
    return Condition(engine.PRERUN, field, op, value)


def settle(
    rules: list[Rule],
    values: dict[str, object],
    done: Iterable[str] = (),
    before: Iterable[str] = (),
) -> engine.Outcome:
    return engine.settle(rules, Facts(values, frozenset(done)), frozenset(before), NOBODY)


def test_values_compare_as_text_of_any_field_type() -> None:
    assert engine.texts({"id": 2, "text": "Yes", "value": None}) == ["yes"]
    assert engine.texts([{"text": "A", "selected": True}, {"text": "B", "selected": False}]) == [
        "a"
    ]
    assert engine.texts(True) == ["yes"]
    assert engine.texts("  ") == []
    assert engine.texts(None) == []
    facts = Facts({"n": "12", "t": "Hello world"}, frozenset())
    assert engine.holds(Condition(engine.PRERUN, "n", "greater_than", "9.5"), facts)
    assert not engine.holds(Condition(engine.PRERUN, "n", "less_than", "abc"), facts)
    assert engine.holds(Condition(engine.PRERUN, "t", "contains", "WORLD"), facts)
    assert engine.holds(Condition(engine.PRERUN, "missing", "is_empty"), facts)


def test_and_binds_tighter_than_or() -> None:
    a, b, c = (field_is("yes", f) for f in "abc")
    rule = Rule(
        "r",
        (
            a,
            Condition(**{**b.__dict__, "logic": "and", "position": 1}),
            Condition(**{**c.__dict__, "logic": "or", "position": 2}),
        ),
        (),
    )
    assert engine.rule_holds(rule, Facts({"c": "yes"}, frozenset()))
    assert not engine.rule_holds(rule, Facts({"a": "yes"}, frozenset()))
    assert engine.rule_holds(rule, Facts({"a": "yes", "b": "yes"}, frozenset()))


def test_show_hides_by_default_and_hide_beats_show() -> None:
    show = Rule("r1", (field_is("yes"),), (Action("visibility", "show", "s3"),))
    hide = Rule("r2", (field_is("yes", "y"),), (Action("visibility", "hide", "s3"),))
    assert not settle([show], {"x": "no"}).steps["s3"].visible
    assert settle([show], {"x": "yes"}).steps["s3"].visible
    assert not settle([show, hide], {"x": "yes", "y": "yes"}).steps["s3"].visible


def test_assignment_applies_on_change_and_is_withdrawn_when_the_rule_stops_holding() -> None:
    rule = Rule(
        "r", (field_is("yes"),), (Action("assignment", "assign", "s1", People(frozenset({7}))),)
    )
    plan = settle([rule], {"x": "yes"}).steps["s1"]
    assert plan.add.users == {7}
    assert not plan.remove
    assert not settle([rule], {"x": "yes"}, before={"r"}).steps["s1"].add
    assert settle([rule], {"x": "no"}, before={"r"}).steps["s1"].remove.users == {7}


def test_deadlines_take_the_earliest_and_shift_moves_the_template_deadline() -> None:
    tpl = Template({}, {"s1": START + timedelta(days=3)}, START)
    rules = [
        Rule("a", (field_is("yes"),), (Action("deadline", "set", "s1", deadline=(5, "days")),)),
        Rule("b", (field_is("yes"),), (Action("deadline", "shift", "s1", deadline=(-1, "days")),)),
    ]
    outcome = engine.settle(rules, Facts({"x": "yes"}, frozenset()), frozenset(), tpl)
    assert outcome.steps["s1"].deadline == START + timedelta(days=2)
    back = engine.settle(rules, Facts({"x": "no"}, frozenset()), frozenset({"a", "b"}), tpl)
    assert back.steps["s1"].deadline_changed
    assert back.steps["s1"].deadline == START + timedelta(3)


def test_reopen_and_webhooks_fire_once_on_the_edge_and_cascade() -> None:
    first = Rule(
        "r1", (Condition(engine.STEP, "s2", "completed"),), (Action("status", "reopen", "s1"),)
    )
    second = Rule(
        "r2",
        (Condition(engine.STEP, "s1", "not_completed"),),
        (Action("status", "reopen", "s3"), Action("webhook", "fire", url="https://example.com/h")),
    )
    outcome = settle([first, second], {}, done={"s1", "s2", "s3"})
    assert outcome.reopen == {"s1", "s3"}
    assert outcome.reopened_by == {"s1": "r1", "s3": "r2"}
    assert outcome.webhooks == [("r2", "https://example.com/h")]
    assert outcome.rounds == 3
    again = settle([first, second], {}, done={"s1", "s2", "s3"}, before={"r1", "r2"})
    assert not again.reopen
    assert not again.webhooks


def test_the_wire_shape_is_checked_against_the_template() -> None:
    scope = Scope(steps={"s1"}, prerun={"k"}, captures={"c": "s1"})
    body = {
        "conditions": [
            {"conditionable_type": "Prerun", "conditionable_id": "other", "operation": "equals"}
        ],
        "then_actions": [
            {"action_type": "visibility", "action_verb": "show", "target_step_id": "zz"}
        ],
    }
    _, errors = check(body, scope, lambda url: None)
    assert set(errors) == {"conditions.0.conditionable_id", "then_actions.0.target_step_id"}
    body["conditions"][0]["conditionable_id"] = "k"
    body["then_actions"][0]["target_step_id"] = "s1"
    stored, errors = check(body, scope, lambda url: None)
    assert not errors
    rule = to_rule("r", stored)
    assert rule.actions[0] == Action("visibility", "show", "s1")


# Random rules over three steps and two fields: every condition and action the engine knows.
conditions = st.one_of(
    st.builds(
        Condition,
        st.just(engine.STEP),
        st.sampled_from(STEPS),
        st.sampled_from(engine.STEP_OPERATIONS),
        logic=st.sampled_from(("and", "or")),
        position=st.integers(0, 3),
    ),
    st.builds(
        Condition,
        st.just(engine.PRERUN),
        st.sampled_from(("x", "y")),
        st.sampled_from(engine.FIELD_OPERATIONS),
        st.sampled_from(("yes", "no", "3")),
        logic=st.sampled_from(("and", "or")),
        position=st.integers(0, 3),
    ),
)
people = st.builds(People, st.frozensets(st.integers(1, 4), max_size=2))
actions = st.one_of(
    st.builds(
        Action, st.just("visibility"), st.sampled_from(("show", "hide")), st.sampled_from(STEPS)
    ),
    st.builds(
        Action,
        st.just("assignment"),
        st.sampled_from(("assign", "unassign")),
        st.sampled_from(STEPS),
        people,
    ),
    st.builds(
        Action,
        st.just("deadline"),
        st.sampled_from(("set", "shift")),
        st.sampled_from(STEPS),
        deadline=st.tuples(st.integers(-5, 5), st.sampled_from(("hours", "days"))),
    ),
    st.builds(Action, st.just("status"), st.just("reopen"), st.sampled_from(STEPS)),
    st.builds(Action, st.just("webhook"), st.just("fire"), url=st.just("https://example.com/h")),
)
rule_sets = st.lists(
    st.tuples(
        st.lists(conditions, min_size=1, max_size=3), st.lists(actions, min_size=1, max_size=3)
    ),
    max_size=6,
).map(lambda items: [Rule(f"r{i}", tuple(c), tuple(a)) for i, (c, a) in enumerate(items)])
facts = st.builds(
    Facts,
    st.fixed_dictionaries(
        {"x": st.sampled_from(("yes", "no", "3", "")), "y": st.sampled_from(("yes", "7"))}
    ),
    st.frozensets(st.sampled_from(STEPS)),
)


@settings(max_examples=60, deadline=None)
@given(rule_sets, facts, st.frozensets(st.sampled_from([f"r{i}" for i in range(6)])), st.randoms())
def test_the_outcome_does_not_depend_on_rule_order_and_always_settles(
    rules: list[Rule], known: Facts, before: frozenset[str], rnd: object
) -> None:
    tpl = Template({"s1": People(frozenset({1}))}, {"s2": START + timedelta(days=1)}, START)
    outcome = engine.settle(rules, known, before, tpl)
    shuffled = list(rules)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]  # hypothesis's Random
    again = engine.settle(shuffled, known, before, tpl)
    assert (outcome.matched, outcome.fired, outcome.reopen, outcome.steps, outcome.webhooks) == (
        again.matched,
        again.fired,
        again.reopen,
        again.steps,
        again.webhooks,
    )
    assert outcome.reopened_by == again.reopened_by
    assert outcome.rounds <= len(known.completed) + 1
    assert outcome.reopen <= known.completed
    settled = engine.settle(
        rules, Facts(known.values, known.completed - outcome.reopen), outcome.matched, tpl
    )
    assert not settled.reopen
    assert not settled.webhooks
