"""The automation rule engine: which rules hold for a run, and what they do to its steps.

A pure function of plain facts (field values, completed steps, the rules that held at the
previous evaluation), so it is tested without a database and its guarantees are checked
with random inputs:

- **Order does not matter.** Every decision is taken over the *set* of matching rules, and
  conflicts are settled by fixed preferences (hide beats show, unassign beats assign, the
  earliest deadline wins), never by which rule came first.
- **It terminates.** The only effect that changes a fact a condition reads is `reopen`, and
  it only ever removes steps from the completed set; so `settle` reaches a fixed point in
  at most one round per step, plus one.

Level effects (visibility, assignment, deadline) follow whether a rule holds now; edge
effects (reopen, webhook) fire once when a rule starts to hold.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from procflow.domain.deadlines import apply_rule

STEP = "Step"
CAPTURE = "Capture"
PRERUN = "Prerun"
CONDITIONABLE_TYPES = (STEP, CAPTURE, PRERUN)
STEP_OPERATIONS = ("completed", "not_completed")
FIELD_OPERATIONS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "is_empty",
    "is_not_empty",
    "greater_than",
    "less_than",
)
VERBS = {
    "visibility": ("show", "hide"),
    "assignment": ("assign", "unassign"),
    "deadline": ("set", "shift"),
    "status": ("reopen",),
    "webhook": ("fire",),
}


@dataclass(frozen=True)
class Condition:
    kind: str
    target: str
    operation: str
    statement: str = ""
    logic: str = "and"
    position: int = 0


@dataclass(frozen=True)
class People:
    users: frozenset[int] = frozenset()
    guests: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def __or__(self, other: "People") -> "People":
        return People(
            self.users | other.users, self.guests | other.guests, self.groups | other.groups
        )

    def __sub__(self, other: "People") -> "People":
        return People(
            self.users - other.users, self.guests - other.guests, self.groups - other.groups
        )

    def __and__(self, other: "People") -> "People":
        return People(
            self.users & other.users, self.guests & other.guests, self.groups & other.groups
        )

    def __bool__(self) -> bool:
        return bool(self.users or self.guests or self.groups)


@dataclass(frozen=True)
class Action:
    type: str
    verb: str
    step: str | None = None
    people: People = People()
    deadline: tuple[int, str] | None = None
    url: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Facts:
    """What conditions read: field values by field id, and the steps whose task is done."""

    values: Mapping[str, Any]
    completed: frozenset[str]


@dataclass(frozen=True)
class StepPlan:
    """What the rules make of one step: visible or not, people to add and remove, and its
    new deadline when the rules that set it changed (`deadline_changed`)."""

    visible: bool = True
    add: People = People()
    remove: People = People()
    deadline_changed: bool = False
    deadline: datetime | None = None


@dataclass
class Outcome:
    matched: frozenset[str]
    fired: frozenset[str]
    reopen: frozenset[str]
    steps: dict[str, StepPlan] = field(default_factory=dict)
    webhooks: list[tuple[str, str]] = field(default_factory=list)
    rounds: int = 1
    causes: dict[str, frozenset[str]] = field(default_factory=dict)
    reopened_by: dict[str, str] = field(default_factory=dict)


def texts(value: Any) -> list[str]:
    """A field value as the lowercase texts a condition compares: a dropdown's option
    text, the chosen options of a multiselect, yes/no for a checkbox, nothing when empty."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["yes"] if value else []
    if isinstance(value, (int, float, Decimal)):
        return [str(value)]
    if isinstance(value, str):
        return [value.strip().lower()] if value.strip() else []
    if isinstance(value, Mapping):
        text = value.get("text", value.get("value"))
        return texts(text) if isinstance(text, (str, int, float)) else []
    if isinstance(value, list):
        found: list[str] = []
        for item in value:
            if isinstance(item, Mapping) and item.get("selected") is False:
                continue
            found += texts(item)
        return found
    return []


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def holds(condition: Condition, facts: Facts) -> bool:
    if condition.kind == STEP:
        done = condition.target in facts.completed
        return done if condition.operation == "completed" else not done
    found = texts(facts.values.get(condition.target))
    wanted = condition.statement.strip().lower()
    match condition.operation:
        case "equals":
            return wanted in found
        case "not_equals":
            return wanted not in found
        case "contains":
            return any(wanted in text for text in found)
        case "not_contains":
            return not any(wanted in text for text in found)
        case "is_empty":
            return not found
        case "is_not_empty":
            return bool(found)
    limit = _number(wanted)
    numbers = [n for n in (_number(text) for text in found) if n is not None]
    if limit is None or not numbers:
        return False
    if condition.operation == "greater_than":
        return numbers[0] > limit
    return numbers[0] < limit


def rule_holds(rule: Rule, facts: Facts) -> bool:
    """Conditions in position order; `and` binds tighter than `or` (the first condition's
    `logic` is ignored). A rule without conditions never holds."""
    ordered = sorted(rule.conditions, key=lambda c: c.position)
    if not ordered:
        return False
    groups: list[list[Condition]] = [[ordered[0]]]
    for condition in ordered[1:]:
        if condition.logic == "or":
            groups.append([condition])
        else:
            groups[-1].append(condition)
    return any(all(holds(c, facts) for c in group) for group in groups)


def matching(rules: Iterable[Rule], facts: Facts) -> frozenset[str]:
    return frozenset(rule.id for rule in rules if rule_holds(rule, facts))


@dataclass(frozen=True)
class Template:
    """What a run's template says of each step when no rule speaks: its default owners
    and its default deadline, and when the run started."""

    defaults: Mapping[str, People]
    deadlines: Mapping[str, datetime | None]
    started: datetime


def settle(rules: Sequence[Rule], facts: Facts, before: frozenset[str], tpl: Template) -> Outcome:
    """Evaluate until no rule that starts to hold reopens another completed step."""
    by_id = {rule.id: rule for rule in rules}
    completed = facts.completed
    fired: set[str] = set()
    reopened_by: dict[str, str] = {}
    rounds = 0
    while True:
        rounds += 1
        now = matching(rules, Facts(facts.values, completed))
        fresh = now - before - fired
        fired |= fresh
        targets: dict[str, str] = {}
        for rule_id in sorted(fresh, reverse=True):
            for a in by_id[rule_id].actions:
                if a.type == "status" and a.step is not None and a.step in completed:
                    targets[a.step] = rule_id
        if not targets:
            break
        reopened_by |= targets
        completed = completed - frozenset(targets)
    outcome = Outcome(
        matched=now,
        fired=frozenset(fired),
        reopen=frozenset(reopened_by),
        rounds=rounds,
        reopened_by=reopened_by,
    )
    outcome.webhooks = sorted(
        (rule_id, a.url)
        for rule_id in fired
        for a in by_id[rule_id].actions
        if a.type == "webhook" and a.url
    )
    outcome.steps, outcome.causes = _plans(by_id, before & set(by_id), now, tpl)
    return outcome


def _plans(
    rules: Mapping[str, Rule], before: frozenset[str], now: frozenset[str], tpl: Template
) -> tuple[dict[str, StepPlan], dict[str, frozenset[str]]]:
    plans: dict[str, StepPlan] = {}
    causes: dict[str, frozenset[str]] = {}
    steps = {a.step for rule in rules.values() for a in rule.actions if a.step}
    for step in sorted(s for s in steps if s is not None):

        def acting(ids: frozenset[str], kind: str, verb: str, step: str = step) -> list[Action]:
            return [
                a
                for rule_id in sorted(ids)
                for a in rules[rule_id].actions
                if a.step == step and a.type == kind and a.verb == verb
            ]

        def people(ids: frozenset[str], verb: str) -> People:
            found = People()
            for action in acting(ids, "assignment", verb):
                found = found | action.people
            return found

        shown = bool(acting(now, "visibility", "show"))
        show_rules = bool(acting(frozenset(rules), "visibility", "show"))
        hidden = bool(acting(now, "visibility", "hide"))
        visible = (shown or not show_rules) and not hidden
        default = tpl.defaults.get(step, People())
        added_now, added_before = people(now, "assign"), people(before, "assign")
        cut_now, cut_before = people(now, "unassign"), people(before, "unassign")
        add = ((added_now - added_before) | ((cut_before - cut_now) & default)) - cut_now
        remove = (cut_now - cut_before) | ((added_before - added_now) - default - cut_before)
        set_now = _deadline_actions(acting, now)
        set_before = _deadline_actions(acting, before)
        changed = set_now != set_before
        deadline = _deadline(set_now, tpl.deadlines.get(step), tpl.started) if changed else None
        plans[step] = StepPlan(visible, add, remove - add, changed, deadline)
        causes[step] = frozenset(
            rule_id
            for rule_id in now ^ before
            if any(a.step == step for a in rules[rule_id].actions)
        )
    return plans, causes


def _deadline_actions(acting: Any, ids: frozenset[str]) -> frozenset[tuple[str, int, str]]:
    return frozenset(
        (a.verb, *a.deadline)
        for verb in VERBS["deadline"]
        for a in acting(ids, "deadline", verb)
        if a.deadline is not None
    )


def _deadline(
    actions: frozenset[tuple[str, int, str]], default: datetime | None, started: datetime
) -> datetime | None:
    """The earliest deadline the holding rules give; the template's own when none does.
    `set` counts from the run's start, `shift` moves the template's deadline (or the start,
    for a step without one) by a signed amount."""
    if not actions:
        return default
    found: list[datetime] = []
    for verb, value, unit in actions:
        base = started if verb == "set" or default is None else default
        moved = apply_rule({"value": abs(value), "unit": unit}, base)
        assert moved is not None
        found.append(moved if value >= 0 else base - (moved - base))
    return min(found)
