"""The crmkit plugin contract: hooks, migrations, privacy, events, commands, other plugins."""

from __future__ import annotations

from typing import Any

from crmkit.crm import CRM
from crmkit.testing.conformance import conformance_suite

test_conformance = conformance_suite("sales")

SALES_TYPES = {
    "sales.lead",
    "sales.deal",
    "sales.deal_contact",
    "sales.stage_change",
    "sales.quote",
    "sales.quote_line",
    "sales.task",
}
SALES_EVENTS = {
    f"sales.{name}"
    for name in [
        "lead.created",
        "lead.updated",
        "lead.qualified",
        "lead.scored",
        "lead.converted",
        "lead.imported",
        "deal.created",
        "deal.updated",
        "deal.stage_changed",
        "deal.won",
        "deal.lost",
        "deal.reopened",
        "deal.contact_added",
        "quote.created",
        "quote.revised",
        "quote.line_added",
        "quote.sent",
        "quote.accepted",
        "quote.rejected",
        "quote.expired",
        "task.created",
        "task.completed",
    ]
}


def test_the_plugin_loads_its_types_events_and_declarations(crm: CRM) -> None:
    (info,) = [p for p in crm.plugins if p.name == "sales"]
    assert info.status == "loaded"
    assert {n for n in crm.entity_types if n.startswith("sales.")} == SALES_TYPES
    assert {n for n in crm.events.types if n.startswith("sales.")} == SALES_EVENTS
    assert crm.privacy.check() == []
    assert crm.entity_type("sales.deal").table_name == "sales_deal"
    assert crm.entity_type("sales.lead").field("contact_id").spec.ref == "contact"


def test_the_sales_command_group_in_a_new_project(sales_project: Any) -> None:
    shown = sales_project.run("sales", "--help")
    assert shown.exit_code == 0, str(shown)
    for name in ("leads", "deals", "quotes", "tasks", "board", "forecast", "metrics"):
        assert f"  {name} " in shown.output
        helped = sales_project.run("sales", name, "--help")
        assert helped.exit_code == 0, str(helped)
        assert f"Usage: crmkit sales {name}" in helped.output
    unknown = sales_project.run("sales", "pipelines")
    assert unknown.exit_code == 2
    assert "No such command 'pipelines'" in unknown.output
    checked = sales_project.run("privacy", "check")
    assert checked.exit_code == 0, str(checked)


def test_the_facade_gives_each_service_once(sqlite_crm: CRM) -> None:
    from crmkit_sales import Sales, __version__

    sales = Sales(sqlite_crm)
    assert __version__ == "0.1.0"
    assert sales.deals is sales.deals
    assert type(sales.deals).__name__ == "Deals"
