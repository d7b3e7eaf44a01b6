"""Lead scoring: points from the project's rules, blended with a score learned from history.

**Rule points.** ``[plugins.sales.scoring] rules`` are of two kinds:

- field rules give their points when a lead field equals a value, is one of
  several values, or is set (``not_null``). Text compares without regard to
  case; ``true`` only matches a yes answer, never the number 1. A rule may name
  a custom field as ``custom_fields.KEY``.
- activity rules count recent activity and give their points per item, capped
  by ``max``: ``activity = "task"`` counts the lead's tasks completed within
  ``within_days``; any other value is an interaction channel (``email``,
  ``phone``, ...) counted on the lead's contact, that is the contact it was
  converted into or, before that, the contact with the lead's email. A lead
  with no contact has no such activity, and its reason says so.

Every rule gives a :class:`Reason` naming the rule and the points it gave (0
when it did not apply), so a score can always be explained.

**Learned score.** From the leads that are closed: a lead converted into a deal
that is now won counts as won; one converted into a lost deal, or disqualified,
counts as lost. For each of the fields in :data:`LEARNED_FIELDS`, the lead's
own value is looked up in that history and its won rate estimated with
Laplace smoothing, ``(won + 1) / (closed + 2)``, so one lucky lead does not make
a value certain. Only values with at least :data:`MIN_CLOSED` closed leads
count (fewer say too little); the learned score is the mean of the counted
rates as a percentage (0-100), or ``None`` when no value has enough history.
The counts are grouped SQL (:meth:`~crmkit.storage.StorageReader.aggregate`):
one statement per field and chunk of closed leads, never a read of every lead.

**Total.** With ``w = learned_weight`` (0 to 1)::

    total = round((1 - w) * points + w * learned)

rounded half to even; the learned percentage is read on the same scale as the
rule points and ``qualify_at``. Without a learned score, or with ``w = 0``
(which skips the history entirely), ``total = points``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage.query import Aggregate, AllOf, Cond, Filter, GroupKey
from crmkit_sales.settings import ScoringRule, sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader

LEAD = "sales.lead"
#: The lead fields whose values the learned score looks up in history.
LEARNED_FIELDS: tuple[str, ...] = (
    "source",
    "title",
    "owner",
    "budget",
    "authority",
    "need",
    "timeline",
)
#: Closed leads a value needs before its won rate counts towards the learned score.
MIN_CLOSED = 5
#: Lead ids per ``in`` filter when counting closed leads.
CHUNK = 500
CUSTOM_PREFIX = "custom_fields."


def show_value(value: Any) -> str:
    """A field value as reasons print it: yes/no for answers, text as it is."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@attrs.frozen
class Reason:
    """Why a rule gave the points it gave: the rule in words, its points, what was found."""

    rule: str
    points: int
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.points:+d} ({self.detail})"


@attrs.frozen
class LearnedReason:
    """One field of the learned score: the lead's value and how such leads ended."""

    field: str
    value: Any
    won: int
    closed: int

    @property
    def counted(self) -> bool:
        """Whether enough leads with this value are closed for it to count."""
        return self.closed >= MIN_CLOSED

    @property
    def percent(self) -> float:
        """The smoothed won rate, ``(won + 1) / (closed + 2)``, as a percentage."""
        return (self.won + 1) / (self.closed + 2) * 100

    def __str__(self) -> str:
        text = (
            f"{self.field}={show_value(self.value)}: {self.won} of {self.closed} closed leads won"
        )
        if self.counted:
            return f"{text} ({self.percent:.1f}%)"
        return f"{text} (fewer than {MIN_CLOSED}, not counted)"


@attrs.frozen
class Score:
    """A lead's score: rule points with reasons, the learned percentage with reasons, the total."""

    points: int
    reasons: tuple[Reason, ...]
    learned: float | None
    learned_reasons: tuple[LearnedReason, ...]
    total: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for ``--json``."""
        return {
            "total": self.total,
            "points": self.points,
            "learned": None if self.learned is None else round(self.learned, 2),
            "reasons": [
                {"rule": r.rule, "points": r.points, "detail": r.detail} for r in self.reasons
            ],
            "learned_reasons": [
                {
                    "field": r.field,
                    "value": r.value,
                    "won": r.won,
                    "closed": r.closed,
                    "percent": round(r.percent, 2),
                    "counted": r.counted,
                }
                for r in self.learned_reasons
            ],
        }


# -- rule points ---------------------------------------------------------------


def _field_value(row: Mapping[str, Any], name: str) -> Any:
    if name.startswith(CUSTOM_PREFIX):
        custom = row.get("custom_fields") or {}
        return custom.get(name[len(CUSTOM_PREFIX) :])
    if name not in row:
        raise ValidationError(
            LEAD,
            name,
            f"a scoring rule names no lead field {name!r}; fix [plugins.sales.scoring] rules "
            f"in crmkit.toml (fields: {', '.join(sorted(row))}, or custom_fields.KEY)",
        )
    return row[name]


def _same(value: Any, wanted: Any) -> bool:
    """Equality as rules mean it: yes/no only matches yes/no, text ignores case."""
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value is wanted
    if isinstance(value, str) and isinstance(wanted, str):
        return value.casefold() == wanted.casefold()
    return bool(value == wanted)


def field_reason(rule: ScoringRule, row: Mapping[str, Any]) -> Reason:
    """The points a field rule gives ``row``, with the value it saw."""
    assert rule.field is not None
    value = _field_value(row, rule.field)
    if rule.not_null:
        hit = value is not None and value != ""
    elif rule.one_of is not None:
        hit = any(_same(value, wanted) for wanted in rule.one_of)
    else:
        hit = _same(value, rule.equals)
    seen = "not set" if value is None else f"is {show_value(value)!r}"
    return Reason(rule.describe(), rule.points if hit else 0, f"{rule.field} {seen}")


def _capped(rule: ScoringRule, count: int) -> int:
    points = count * rule.points
    if rule.max is None:
        return points
    return min(points, rule.max) if points >= 0 else max(points, -rule.max)


def lead_contact(reader: StorageReader, crm: CRM, row: Mapping[str, Any]) -> tuple[str | None, str]:
    """The lead's contact id and how it was found: by conversion, or by the lead's email."""
    if row.get("contact_id"):
        return row["contact_id"], "converted contact"
    if row.get("email"):
        found = reader.get_by(crm.entity_type("contact"), "email", row["email"])
        if found is not None:
            return found["id"], "contact with the lead's email"
    return None, ""


def activity_reason(
    reader: StorageReader, crm: CRM, rule: ScoringRule, row: Mapping[str, Any], now: dt.datetime
) -> Reason:
    """The points an activity rule gives ``row``: recent items times points, capped."""
    assert rule.activity is not None and rule.within_days is not None
    since = now - dt.timedelta(days=rule.within_days)
    window = f"in the last {rule.within_days} days"
    if rule.activity == "task":
        done = reader.count(
            crm.entity_type("sales.task"),
            AllOf((Cond("lead_id", "eq", row["id"]), Cond("done_at", "ge", since))),
        )
        return Reason(rule.describe(), _capped(rule, done), f"{done} tasks completed {window}")
    contact_id, how = lead_contact(reader, crm, row)
    if contact_id is None:
        return Reason(
            rule.describe(),
            0,
            f"no contact yet, so no {rule.activity} activity to count (activity counts once "
            "the lead is converted or its email belongs to a contact)",
        )
    count = reader.count(
        crm.entity_type("interaction"),
        AllOf(
            (
                Cond("contact_id", "eq", contact_id),
                Cond("channel", "eq", rule.activity),
                Cond("occurred_at", "ge", since),
            )
        ),
    )
    return Reason(
        rule.describe(),
        _capped(rule, count),
        f"{count} {rule.activity} interactions {window} on the {how}",
    )


def rule_points(
    reader: StorageReader,
    crm: CRM,
    row: Mapping[str, Any],
    rules: Sequence[ScoringRule],
    now: dt.datetime | None = None,
) -> tuple[int, tuple[Reason, ...]]:
    """The rule points of a lead row and one reason per rule, in the rules' order."""
    when = now or utcnow()
    reasons = tuple(
        activity_reason(reader, crm, rule, row, when)
        if rule.kind == "activity"
        else field_reason(rule, row)
        for rule in rules
    )
    return sum(r.points for r in reasons), reasons


# -- the learned score -----------------------------------------------------------


@attrs.frozen
class History:
    """How closed leads ended, per learned field and value: ``won`` and ``closed`` counts."""

    won: Mapping[str, Mapping[Any, int]]
    closed: Mapping[str, Mapping[Any, int]]

    def reason(self, field: str, value: Any) -> LearnedReason:
        return LearnedReason(
            field, value, self.won[field].get(value, 0), self.closed[field].get(value, 0)
        )


def _outcomes(reader: StorageReader, crm: CRM) -> tuple[list[str], list[str]]:
    """The ids of leads whose deal was won, and of those whose deal was lost (one statement)."""
    rows = reader.aggregate(
        crm.entity_type("sales.deal"),
        Aggregate(
            where=AllOf((Cond("status", "in", ["won", "lost"]), Cond("lead_id", "isnull", False))),
            group_by=(GroupKey("status"), GroupKey("lead_id")),
            measures=(),
        ),
    )
    won = [r["lead_id"] for r in rows if r["status"] == "won"]
    lost = [r["lead_id"] for r in rows if r["status"] == "lost"]
    return won, lost


def _count_by(
    reader: StorageReader, crm: CRM, field: str, where: Filter, into: dict[Any, int]
) -> None:
    """Add the number of leads matching ``where`` per value of ``field`` to ``into``."""
    rows = reader.aggregate(
        crm.entity_type(LEAD), Aggregate(where=where, group_by=(GroupKey(field, name="value"),))
    )
    for r in rows:
        into[r["value"]] = into.get(r["value"], 0) + r["count"]


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def learn_history(
    reader: StorageReader, crm: CRM, fields: Sequence[str] = LEARNED_FIELDS
) -> History:
    """Count closed leads by outcome for every value of ``fields``, in grouped statements."""
    won_ids, lost_ids = _outcomes(reader, crm)
    won: dict[str, dict[Any, int]] = {}
    closed: dict[str, dict[Any, int]] = {}
    for field in fields:
        won[field] = {}
        for chunk in _chunks(won_ids):
            _count_by(reader, crm, field, Cond("id", "in", list(chunk)), won[field])
        closed[field] = dict(won[field])
        for chunk in _chunks(lost_ids):
            _count_by(reader, crm, field, Cond("id", "in", list(chunk)), closed[field])
        _count_by(reader, crm, field, Cond("status", "eq", "unqualified"), closed[field])
    return History(won, closed)


def learned_score(
    history: History, row: Mapping[str, Any], fields: Sequence[str] = LEARNED_FIELDS
) -> tuple[float | None, tuple[LearnedReason, ...]]:
    """The learned percentage of a lead row (``None`` without enough history) and its reasons.

    Fields the lead has no value for are left out.
    """
    reasons = tuple(history.reason(f, row[f]) for f in fields if row.get(f) is not None)
    rates = [r.percent for r in reasons if r.counted]
    return (sum(rates) / len(rates) if rates else None), reasons


def blend(points: int, learned: float | None, weight: float) -> int:
    """``round((1 - weight) * points + weight * learned)``; ``points`` without a learned score."""
    if learned is None or weight <= 0:
        return points
    return round((1 - weight) * points + weight * learned)


def score_lead_row(
    reader: StorageReader, crm: CRM, row: Mapping[str, Any], now: dt.datetime | None = None
) -> Score:
    """The :class:`Score` of a lead row, read through ``reader`` (nothing is written)."""
    scoring = sales_settings(crm).scoring
    points, reasons = rule_points(reader, crm, row, scoring.rules, now)
    learned: float | None = None
    learned_reasons: tuple[LearnedReason, ...] = ()
    if scoring.learned_weight > 0:
        learned, learned_reasons = learned_score(learn_history(reader, crm), row)
    total = blend(points, learned, scoring.learned_weight)
    return Score(points, reasons, learned, learned_reasons, total)
