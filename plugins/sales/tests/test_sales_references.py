"""Naming records the way people do: a deal by its title, a lead by its email.

A name that fits one record finds it; a name several records carry is refused
listing them (id and stage or status) and asking for the id; a name that fits
none is not found. The same holds on the Python API and the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.leads import Leads
from crmkit_sales.quotes import Quotes
from crmkit_sales.tasks import Tasks

from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from conftest import SalesProject


def stage_changes(crm: CRM) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type("sales.stage_change"))


# -- deals by title -------------------------------------------------------------


def test_a_deal_is_found_by_its_exact_title_in_any_case(crm: CRM) -> None:
    deals = Deals(crm)
    engine = deals.add(title="Analytical Engine", amount="12500")
    deals.add(title="Analytical Engine spares", amount="900")
    assert deals.get("analytical engine").id == engine.id
    assert deals.get("  ANALYTICAL ENGINE ").id == engine.id
    moved = deals.move("Analytical engine", "prospect")
    assert (moved.id, moved.stage) == (engine.id, "prospect")
    assert [c.to_stage for c in deals.history("analytical ENGINE")] == ["lead", "prospect"]
    assert deals.win("Analytical Engine").status == "won"
    assert deals.get(engine.id).status == "won"


def test_a_title_is_matched_whole_not_as_a_pattern(crm: CRM) -> None:
    deals = Deals(crm)
    plan = deals.add(title="100% uptime_plan", amount="10")
    deals.add(title="100x uptime plan", amount="20")
    assert deals.get("100% UPTIME_PLAN").id == plan.id
    for partial in ("Uptime", "100_ uptime%plan", "100% uptime"):
        with pytest.raises(NotFound):
            deals.get(partial)


def test_a_title_two_deals_share_is_refused_naming_both(crm: CRM) -> None:
    deals = Deals(crm)
    first = deals.add(title="Support plan", amount="900")
    second = deals.add(title="SUPPORT PLAN", amount="1200", stage="quote")
    before = stage_changes(crm)
    with pytest.raises(ValidationError) as refused:
        deals.move("support plan", "negotiation")
    message = str(refused.value)
    assert refused.value.field == "title"
    assert f"{first.id} (lead, open)" in message
    assert f"{second.id} (quote, open)" in message
    assert "give the id" in message
    assert [d.stage for d in (deals.get(first.id), deals.get(second.id))] == ["lead", "quote"]
    assert stage_changes(crm) == before
    assert deals.move(second.id, "negotiation").stage == "negotiation"


def test_quotes_and_tasks_take_a_deal_title_and_keep_its_id(crm: CRM) -> None:
    deal = Deals(crm).add(title="Difference Engine", amount="500")
    quote = Quotes(crm).add("difference engine")
    assert quote.deal_id == deal.id
    assert [q.id for q in Quotes(crm).list(deal="Difference Engine")] == [quote.id]
    task = Tasks(crm).add("Call Charles", due="2026-03-02", deal="DIFFERENCE ENGINE")
    assert task.deal_id == deal.id
    assert [t.id for t in Tasks(crm).list(deal="difference engine")] == [task.id]
    with pytest.raises(NotFound):
        Tasks(crm).add("Call nobody", due="2026-03-02", deal="Babbage Engine")


# -- leads by email -------------------------------------------------------------


def test_a_lead_is_found_by_its_email(crm: CRM) -> None:
    leads = Leads(crm)
    ada = leads.add(first_name="Ada", email="Ada@Example.com", company="Acme")
    leads.add(first_name="Grace", email="grace@example.com")
    assert leads.get("ada@example.com").id == ada.id
    assert leads.get(" ADA@example.COM ").id == ada.id
    assert leads.update("ada@example.com", owner="alice").owner == "alice"
    qualified = leads.qualify(
        "ada@example.com", budget=True, authority=True, need=True, timeline=True
    )
    assert (qualified.id, qualified.status) == (ada.id, "qualified")
    conversion = leads.convert("Ada@example.com", amount="800")
    assert conversion.lead.id == ada.id
    assert conversion.deal.lead_id == ada.id
    for missing in ("nobody@example.com", "not an email", ""):
        with pytest.raises(NotFound):
            leads.get(missing)


def test_an_email_two_leads_share_is_refused_naming_both(crm: CRM) -> None:
    leads = Leads(crm)
    first = leads.add(first_name="Ada", email="ada@example.com")
    second = leads.add(first_name="Ada", email="ADA@example.com", company="Acme")
    leads.disqualify(second.id, "duplicate")
    with pytest.raises(ValidationError) as refused:
        leads.qualify("ada@example.com", budget=True)
    message = str(refused.value)
    assert refused.value.field == "email"
    assert f"{first.id} (new)" in message
    assert f"{second.id} (unqualified)" in message
    assert "give the id" in message
    assert leads.get(first.id).budget is None


def test_tasks_take_a_lead_email_and_keep_its_id(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", email="ada@example.com")
    task = Tasks(crm).add("Send the brochure", due="2026-03-02", lead="ADA@example.com")
    assert task.lead_id == lead.id
    assert [t.id for t in Tasks(crm).list(lead="ada@example.com")] == [task.id]


# -- on the command line ------------------------------------------------------------


def ok(project: SalesProject, *args: str) -> Any:
    result = project.run(*args, "--json")
    assert result.exit_code == 0, str(result)
    return result.json()


def test_the_cli_names_a_deal_by_title(sales_project: SalesProject) -> None:
    deal = ok(sales_project, "sales", "deals", "add", "Analytical Engine", "--amount", "100")
    shown = ok(sales_project, "sales", "deals", "show", "analytical engine")
    assert shown["id"] == deal["id"]
    moved = ok(sales_project, "sales", "deals", "move", "ANALYTICAL ENGINE", "prospect")
    assert (moved["id"], moved["stage"]) == (deal["id"], "prospect")
    quote = ok(sales_project, "sales", "quotes", "add", "Analytical engine")
    assert quote["deal_id"] == deal["id"]
    missing = sales_project.run("sales", "deals", "show", "Difference Engine")
    assert missing.exit_code == 3
    other = ok(sales_project, "sales", "deals", "add", "analytical engine", "--amount", "5")
    twice = sales_project.run("sales", "deals", "win", "Analytical Engine")
    assert twice.exit_code == 4
    assert deal["id"] in twice.output
    assert other["id"] in twice.output
    assert ok(sales_project, "sales", "deals", "show", deal["id"])["status"] == "open"
    helped = sales_project.run("sales", "deals", "move", "--help")
    assert "DEAL: an id or the deal's title" in helped.output


def test_the_cli_names_a_lead_by_email(sales_project: SalesProject) -> None:
    lead = ok(
        sales_project, "sales", "leads", "add", "--first-name", "Ada", "--email", "ada@example.com"
    )
    shown = ok(sales_project, "sales", "leads", "show", "ADA@example.com")
    assert shown["id"] == lead["id"]
    qualified = ok(sales_project, "sales", "leads", "qualify", "ada@example.com", "--budget")
    assert (qualified["id"], qualified["budget"]) == (lead["id"], True)
    missing = sales_project.run("sales", "leads", "show", "grace@example.com")
    assert missing.exit_code == 3
    ok(sales_project, "sales", "leads", "add", "--company", "Acme", "--email", "ada@example.com")
    twice = sales_project.run("sales", "leads", "show", "ada@example.com")
    assert twice.exit_code == 4
    assert lead["id"] in twice.output
    helped = sales_project.run("sales", "leads", "show", "--help")
    assert "LEAD: an id or the lead's email" in helped.output
