"""The ``[plugins.service]`` table of crmkit.toml: calendars, SLA policies, teams, escalation.

```toml
[plugins.service]
key_prefix = "T"                 # tickets are T-1, T-2, ...
near_breach_minutes = 60         # warn this long (business time) before a target is missed
[plugins.service.calendars.office]
timezone = "Europe/London"
hours = {mon = "09:00-17:30", fri = "09:00-13:00,14:00-17:00"}   # absent days are closed
holidays = ["2026-12-25"]
[plugins.service.sla.standard]   # a customer tier
calendar = "office"              # or the built-in "24x7" (always open, UTC)
urgent = {first_response = "1h", resolution = "8h"}
normal = {first_response = "8h", resolution = "40h"}            # business time: "90m", "1h30m"
[plugins.service.teams.support]
agents = ["ana", "ben"]
assignment = "round_robin"       # or "least_open"
[[plugins.service.escalation]]
when = "breach"                  # or "near_breach"
target = "resolution"            # or "first_response"
priorities = ["high", "urgent"]  # optional: only these priorities
actions = ["raise_priority", "reassign:team-leads", "notify:duty-manager"]
```

crmkit checks the table against :data:`SETTINGS_SCHEMA` when a CRM opens;
:func:`service_settings` reads it into typed values on every call (settings
belong to a CRM, so nothing is cached in the module). What JSON Schema cannot
say (a time zone that exists, a calendar that is defined, ranges that do not
overlap, a team an escalation reassigns to that is defined) is checked there,
as is a team's way of sharing tickets, and reported as
:class:`~crmkit.errors.ConfigError` naming the table, the key and the fix.
Without an ``sla`` table the ``standard`` tier runs on the ``24x7`` calendar
with :data:`DEFAULT_SLA`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmkit.errors import ConfigError, ValidationError
from crmkit_service.calendar import WEEKDAYS, Calendar, always_open, parse_ranges
from crmkit_service.entities import ASSIGNMENT_METHODS, PRIORITIES

if TYPE_CHECKING:
    from crmkit import CRM

PLUGIN = "service"
TABLE = f"crmkit.toml [plugins.{PLUGIN}]"
DEFAULT_TIER = "standard"
BUILTIN_CALENDAR = "24x7"
ESCALATION_WHEN: tuple[str, ...] = ("breach", "near_breach")
SLA_TARGETS: tuple[str, ...] = ("first_response", "resolution")
DURATION_PATTERN = r"^[0-9]+h([0-9]+m)?$|^[0-9]+m$"
"""Business time as hours and minutes: ``90m``, ``4h``, ``1h30m``."""
RANGES_PATTERN = r"^\d{2}:\d{2}-\d{2}:\d{2}(\s*,\s*\d{2}:\d{2}-\d{2}:\d{2})*$"
ACTION_PATTERN = r"^(raise_priority|reassign:[A-Za-z0-9_.@-]+|notify:[A-Za-z0-9_.@-]+)$"

DEFAULT_SLA: dict[str, dict[str, str]] = {
    "urgent": {"first_response": "1h", "resolution": "8h"},
    "high": {"first_response": "4h", "resolution": "24h"},
    "normal": {"first_response": "8h", "resolution": "40h"},
    "low": {"first_response": "16h", "resolution": "80h"},
}

_DURATION: dict[str, Any] = {"type": "string", "pattern": DURATION_PATTERN}
_TARGETS: dict[str, Any] = {
    "type": "object",
    "properties": {"first_response": _DURATION, "resolution": _DURATION},
    "required": ["first_response", "resolution"],
    "additionalProperties": False,
}
SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key_prefix": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{0,9}$"},
        "near_breach_minutes": {"type": "integer", "minimum": 0},
        "calendars": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_-]*$", "not": {"const": "24x7"}},
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "timezone": {"type": "string", "minLength": 1},
                    "hours": {
                        "type": "object",
                        "propertyNames": {"enum": list(WEEKDAYS)},
                        "additionalProperties": {"type": "string", "pattern": RANGES_PATTERN},
                        "minProperties": 1,
                    },
                    "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                },
                "required": ["timezone", "hours"],
                "additionalProperties": False,
            },
        },
        "sla": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "calendar": {"type": "string", "minLength": 1},
                    **{priority: _TARGETS for priority in PRIORITIES},
                },
                "required": ["calendar"],
                "additionalProperties": False,
            },
        },
        "teams": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "agents": {"type": "array", "items": {"type": "string", "minLength": 1}},
                    "assignment": {"enum": list(ASSIGNMENT_METHODS)},
                },
                "additionalProperties": False,
            },
        },
        "escalation": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "when": {"enum": list(ESCALATION_WHEN)},
                    "target": {"enum": list(SLA_TARGETS)},
                    "priorities": {"type": "array", "items": {"enum": list(PRIORITIES)}},
                    "actions": {
                        "type": "array",
                        "items": {"type": "string", "pattern": ACTION_PATTERN},
                        "minItems": 1,
                    },
                },
                "required": ["when", "target", "actions"],
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


@attrs.frozen
class SlaPolicy:
    """The targets for one tier and priority, counted in ``calendar``'s business time."""

    name: str
    """``"<tier>/<priority>"``, stored on the ticket as ``sla_policy``."""
    calendar: Calendar
    first_response: dt.timedelta
    resolution: dt.timedelta


@attrs.frozen
class Team:
    """A team of agents and how new tickets are shared among them."""

    name: str
    agents: tuple[str, ...] = ()
    assignment: str = "round_robin"


@attrs.frozen
class EscalationRule:
    """What to do when a ticket's target (``first_response``/``resolution``) is missed
    (``breach``) or about to be (``near_breach``); ``priorities`` empty means all."""

    when: str
    target: str
    actions: tuple[str, ...]
    priorities: tuple[str, ...] = ()

    def applies_to(self, priority: str) -> bool:
        """Whether a ticket of ``priority`` falls under this rule."""
        return not self.priorities or priority in self.priorities


@attrs.frozen
class ServiceSettings:
    """The service settings of one CRM, read from ``[plugins.service]``."""

    key_prefix: str = "T"
    near_breach: dt.timedelta = dt.timedelta(minutes=60)
    calendars: Mapping[str, Calendar] = attrs.field(factory=lambda: {"24x7": always_open()})
    policies: Mapping[str, Mapping[str, SlaPolicy]] = attrs.field(factory=dict)
    """Tier -> priority -> policy."""
    teams: Mapping[str, Team] = attrs.field(factory=dict)
    escalations: tuple[EscalationRule, ...] = ()

    def calendar(self, name: str) -> Calendar:
        """The calendar called ``name``; ``ConfigError`` naming the known ones if none."""
        try:
            return self.calendars[name]
        except KeyError:
            known = ", ".join(sorted(self.calendars))
            raise ConfigError(
                f"{TABLE}: no calendar {name!r}; define [plugins.service.calendars.{name}] "
                f"or use one of {known}"
            ) from None

    def policy(self, tier: str, priority: str) -> SlaPolicy | None:
        """The SLA of a tier and priority; an unknown tier falls back to ``standard``.

        ``None`` when the tier sets no targets for that priority: such tickets
        have no SLA clock.
        """
        targets = self.policies.get(tier)
        if targets is None:
            targets = self.policies.get(DEFAULT_TIER, {})
        return targets.get(priority)

    def team(self, name: str) -> Team:
        """The team called ``name``; ``ValidationError`` naming the teams there are if none."""
        try:
            return self.teams[name]
        except KeyError:
            known = ", ".join(sorted(self.teams)) or "none are defined"
            raise ValidationError(
                "service.ticket",
                "team",
                f"no team {name!r}; use one of {known} "
                "(teams are [plugins.service.teams.NAME] in crmkit.toml)",
            ) from None


def parse_duration(text: str) -> dt.timedelta:
    """Business time written as ``"90m"``, ``"4h"`` or ``"1h30m"`` (no days: a day's length
    depends on the calendar). Raises ``ValueError`` for anything else or for zero."""
    match = re.fullmatch(r"(?:([0-9]+)h)?(?:([0-9]+)m)?", text.strip())
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; write hours and minutes: 90m, 4h, 1h30m")
    hours, minutes = (int(part or 0) for part in match.groups())
    duration = dt.timedelta(hours=hours, minutes=minutes)
    if not duration:
        raise ValueError(f"{text!r} is no time at all; an SLA target must be at least 1m")
    return duration


def service_settings(crm: CRM) -> ServiceSettings:
    """The ``[plugins.service]`` settings of ``crm``, with defaults, as typed values."""
    return parse_settings(crm.settings.plugin(PLUGIN))


def parse_settings(table: Mapping[str, Any]) -> ServiceSettings:
    """Read a ``[plugins.service]`` table (already checked against the schema)."""
    calendars = {BUILTIN_CALENDAR: always_open(BUILTIN_CALENDAR)}
    for name, spec in table.get("calendars", {}).items():
        calendars[name] = _calendar(name, spec)
    base = ServiceSettings(calendars=calendars)
    sla = table.get("sla", {DEFAULT_TIER: {"calendar": BUILTIN_CALENDAR, **DEFAULT_SLA}})
    policies = {tier: _tier(base, tier, spec) for tier, spec in sla.items()}
    teams = {name: _team(name, spec) for name, spec in table.get("teams", {}).items()}
    escalations = tuple(
        _escalation(number, rule, teams)
        for number, rule in enumerate(table.get("escalation", ()), start=1)
    )
    return attrs.evolve(
        base,
        key_prefix=table.get("key_prefix", "T"),
        near_breach=dt.timedelta(minutes=table.get("near_breach_minutes", 60)),
        policies=policies,
        teams=teams,
        escalations=escalations,
    )


def _calendar(name: str, spec: Mapping[str, Any]) -> Calendar:
    where = f"crmkit.toml [plugins.service.calendars.{name}]"
    try:
        tz = ZoneInfo(spec["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where} timezone: {spec['timezone']!r} is not a known time zone; "
            "use an IANA name such as 'Europe/London'"
        ) from None
    week = {}
    for day, text in spec["hours"].items():
        try:
            week[WEEKDAYS.index(day)] = parse_ranges(text)
        except ValueError as exc:
            raise ConfigError(f"{where} hours.{day}: {exc}") from None
    holidays = set()
    for text in spec.get("holidays", ()):
        try:
            holidays.add(dt.date.fromisoformat(text))
        except ValueError:
            raise ConfigError(
                f"{where} holidays: {text!r} is not a date; write YYYY-MM-DD"
            ) from None
    try:
        return Calendar(name, tz, week, frozenset(holidays))
    except ValueError as exc:
        raise ConfigError(f"{where} hours: {exc}") from None


def _team(name: str, spec: Mapping[str, Any]) -> Team:
    assignment = spec.get("assignment", "round_robin")
    if assignment not in ASSIGNMENT_METHODS:
        raise ConfigError(
            f"crmkit.toml [plugins.service.teams.{name}] assignment: {assignment!r} is not a "
            f"way to share tickets; use one of {', '.join(ASSIGNMENT_METHODS)}"
        )
    return Team(name, tuple(spec.get("agents", ())), assignment)


def _escalation(number: int, rule: Mapping[str, Any], teams: Mapping[str, Team]) -> EscalationRule:
    """Escalation rule ``number`` (from 1); a ``reassign:TEAM`` action must name a defined team."""
    for action in rule["actions"]:
        verb, _, team = action.partition(":")
        if verb == "reassign" and team not in teams:
            known = ", ".join(sorted(teams)) or "none are defined"
            raise ConfigError(
                f"crmkit.toml [[plugins.service.escalation]] rule {number} actions: {action!r} "
                f"names no team; define [plugins.service.teams.{team}] or reassign to one of "
                f"{known}"
            )
    return EscalationRule(
        when=rule["when"],
        target=rule["target"],
        actions=tuple(rule["actions"]),
        priorities=tuple(rule.get("priorities", ())),
    )


def _tier(base: ServiceSettings, tier: str, spec: Mapping[str, Any]) -> dict[str, SlaPolicy]:
    where = f"crmkit.toml [plugins.service.sla.{tier}]"
    calendar_name = spec["calendar"]
    if calendar_name not in base.calendars:
        known = ", ".join(sorted(base.calendars))
        raise ConfigError(
            f"{where} calendar: no calendar {calendar_name!r}; use one of {known} "
            f"or define [plugins.service.calendars.{calendar_name}]"
        )
    calendar = base.calendars[calendar_name]
    policies = {}
    for priority in PRIORITIES:
        targets = spec.get(priority)
        if targets is None:
            continue
        try:
            first = parse_duration(targets["first_response"])
            resolution = parse_duration(targets["resolution"])
        except ValueError as exc:
            raise ConfigError(f"{where} {priority}: {exc}") from None
        policies[priority] = SlaPolicy(f"{tier}/{priority}", calendar, first, resolution)
    return policies
