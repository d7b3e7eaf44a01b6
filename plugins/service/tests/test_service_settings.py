"""The [plugins.service] settings: what they mean, their defaults, and the errors a project
with wrong settings gets when it opens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from crmkit_service.settings import (
    DEFAULT_SLA,
    parse_duration,
    parse_settings,
    service_settings,
)

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ConfigError, ValidationError

H = dt.timedelta(hours=1)


def test_the_settings_of_a_crm(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    assert settings.key_prefix == "T"
    assert settings.near_breach == H
    assert sorted(settings.calendars) == ["24x7", "office"]
    office = settings.calendar("office")
    assert (str(office.tz), office.holidays) == (
        "Europe/London",
        frozenset({dt.date(2026, 12, 25), dt.date(2026, 12, 26)}),
    )
    assert office.week[4] == ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(17)))
    assert 5 not in office.week and 6 not in office.week
    urgent = settings.policy("gold", "urgent")
    assert urgent is not None
    assert (urgent.name, urgent.calendar.name) == ("gold/urgent", "24x7")
    assert (urgent.first_response, urgent.resolution) == (dt.timedelta(minutes=30), 4 * H)


def test_an_unknown_tier_falls_back_to_standard_and_a_missing_priority_has_no_sla(
    sqlite_crm: CRM,
) -> None:
    settings = service_settings(sqlite_crm)
    fallback = settings.policy("platinum", "normal")
    assert fallback is not None and fallback.name == "standard/normal"
    assert settings.policy("gold", "low") is None


def test_teams_and_an_unknown_team(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    support = settings.team("support")
    assert (support.agents, support.assignment) == (("ana", "ben", "cy"), "round_robin")
    assert settings.team("billing").assignment == "least_open"
    with pytest.raises(ValidationError, match="no team 'sales'; use one of billing, support"):
        settings.team("sales")


def test_escalation_rules(sqlite_crm: CRM) -> None:
    on_breach, near = service_settings(sqlite_crm).escalations
    assert (on_breach.when, on_breach.target) == ("breach", "resolution")
    assert on_breach.actions == ("raise_priority", "reassign:team-leads", "notify:duty-manager")
    assert on_breach.applies_to("urgent") and not on_breach.applies_to("low")
    assert near.applies_to("low") and near.when == "near_breach"


def test_defaults_without_a_service_table(crm_factory: Any) -> None:
    settings = service_settings(crm_factory(["service"]))
    assert settings.key_prefix == "T"
    assert settings.near_breach == H
    assert list(settings.calendars) == ["24x7"]
    assert settings.teams == {} and settings.escalations == ()
    for priority, targets in DEFAULT_SLA.items():
        policy = settings.policy("standard", priority)
        assert policy is not None and policy.calendar.name == "24x7"
        assert policy.resolution == parse_duration(targets["resolution"])


def test_an_unknown_calendar_name(sqlite_crm: CRM) -> None:
    with pytest.raises(ConfigError, match=r"no calendar 'night'.*use one of 24x7, office"):
        service_settings(sqlite_crm).calendar("night")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", 90), ("4h", 240), ("1h30m", 90), ("0h5m", 5), ("100h", 6000)],
)
def test_durations_are_hours_and_minutes(text: str, expected: int) -> None:
    assert parse_duration(text) == dt.timedelta(minutes=expected)


@pytest.mark.parametrize("text", ["2d", "", "h", "1.5h", "30", "0m", "5m1h"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|no time at all"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t["sla"]["standard"].update(
                high={"first_response": "1d", "resolution": "9h"}
            ),
            r"\[plugins.service\] sla.standard.high.first_response",
        ),
        (lambda t: t["sla"]["gold"].update(critical={}), r"sla.gold.*critical"),
        (lambda t: t["teams"]["support"].update(assignment="random"), "assignment"),
        (lambda t: t["escalation"][0].update(actions=["page:everyone"]), "actions"),
        (lambda t: t["escalation"][0].update(when="soon"), "when"),
        (lambda t: t.update(key_prefix="t-"), "key_prefix"),
        (lambda t: t["calendars"]["office"]["hours"].update(sat="9-5"), "hours.sat"),
        (lambda t: t["calendars"].update({"24x7": t["calendars"]["office"]}), "calendars"),
    ],
)
def test_settings_breaking_the_schema_stop_the_crm_opening(
    service_crm_factory: Any, service_table: dict[str, Any], change: Any, message: str
) -> None:
    change(service_table)
    with pytest.raises(ConfigError, match=message):
        service_crm_factory(None, settings=service_table)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t["calendars"]["office"].update(timezone="Europe/Lodnon"),
            r"calendars.office\] timezone: 'Europe/Lodnon' is not a known time zone",
        ),
        (
            lambda t: t["sla"]["gold"].update(calendar="night"),
            r"sla.gold\] calendar: no calendar 'night'; use one of 24x7, office",
        ),
        (
            lambda t: t["calendars"]["office"]["hours"].update(mon="09:00-12:00,11:00-17:00"),
            r"calendars.office\] hours.mon: .*overlap",
        ),
        (
            lambda t: t["calendars"]["office"]["hours"].update(mon="17:00-09:00"),
            r"hours.mon: .*ends before it starts",
        ),
        (
            lambda t: t["calendars"]["office"].update(holidays=["2026-13-01"]),
            r"holidays: '2026-13-01' is not a date",
        ),
        (
            lambda t: t["escalation"][0].update(actions=["reassign:night-shift"]),
            r"\[\[plugins.service.escalation\]\] rule 1 actions: 'reassign:night-shift' names no "
            r"team; define \[plugins.service.teams.night-shift\] or reassign to one of billing, "
            r"support, team-leads",
        ),
        (
            lambda t: t["teams"].pop("team-leads"),
            r"rule 1 actions: 'reassign:team-leads' names no team",
        ),
    ],
)
def test_settings_that_cannot_work_stop_the_crm_opening(
    service_crm_factory: Any, service_table: dict[str, Any], change: Any, message: str
) -> None:
    change(service_table)
    with pytest.raises(ConfigError, match=message):
        service_crm_factory(None, settings=service_table)


def test_a_team_with_an_unknown_way_of_sharing_tickets_is_refused_naming_it(
    service_table: dict[str, Any],
) -> None:
    service_table["teams"]["billing"]["assignment"] = "random"
    with pytest.raises(
        ConfigError,
        match=r"\[plugins.service.teams.billing\] assignment: 'random' is not a way to share "
        r"tickets; use one of round_robin, least_open",
    ):
        parse_settings(service_table)


def test_the_settings_are_read_per_crm(
    service_crm_factory: Any, service_table: dict[str, Any]
) -> None:
    other = {**service_table, "key_prefix": "HELP"}
    first = service_crm_factory(None)
    second = service_crm_factory(None, settings=other)
    assert service_settings(first).key_prefix == "T"
    assert service_settings(second).key_prefix == "HELP"


def test_a_project_reads_its_settings_from_crmkit_toml(service_project: Any) -> None:
    with crmkit.open(service_project.path) as crm:
        assert service_settings(crm).team("support").agents == ("ana", "ben", "cy")


def test_a_project_with_a_wrong_time_zone_says_what_to_fix(
    service_project: Any,
) -> None:
    config = service_project.path / "crmkit.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("Europe/London", "Europe/Lodnon"),
        encoding="utf-8",
    )
    result = service_project.run("contacts", "list")
    assert result.exit_code == 5, str(result)
    assert "'Europe/Lodnon' is not a known time zone" in result.output
