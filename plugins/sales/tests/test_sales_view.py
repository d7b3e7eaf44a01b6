"""The Sales section of the single customer view: its figures, its absence, and the actor."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from crmkit_sales import Sales
from crmkit_sales.money import Money
from crmkit_sales.view import won_total

import crmkit
from crmkit.crm import CRM
from crmkit.privacy.facts import SubjectFacts
from crmkit.privacy.model import Decision, PolicyRequest
from crmkit.serialize import to_jsonable
from crmkit.testing.crm_factory import CrmFactory


def sales_section(crm: CRM, contact: str, actor: str | None = None) -> dict[str, Any] | None:
    """The data of the Sales section of ``contact``'s view as JSON would show it, or None."""
    view = crm.view(contact, actor=actor)
    found = [s for s in view.sections if s.title == "Sales"]
    assert len(found) <= 1
    if not found:
        return None
    assert found[0].plugin == "sales"
    data: dict[str, Any] = to_jsonable(found[0].data)
    return data


@pytest.fixture
def ada_sales(crm: CRM) -> dict[str, str]:
    """Ada came in as a lead; she has an open deal with a sent quote, a won and a lost deal.

    She is also on Bob's deal, and has two open tasks and a done one.
    """
    sales = Sales(crm)
    ada = crm.contacts.add(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    bob = crm.contacts.add(first_name="Bob", last_name="Babbage", email="bob@example.com")
    lead = sales.leads.add(first_name="Ada", email="ada@example.com", company="Engines Ltd")
    sales.leads.qualify(lead.id, budget=True, authority=True, need=True, timeline=True)
    converted = sales.leads.convert(lead.id, deal_title="Analytical engine", amount="12000")
    engine = converted.deal
    sales.deals.update(engine.id, expected_close="2031-03-31")
    sales.deals.move(engine.id, "quote")
    quote = sales.quotes.add(engine.id)
    sales.quotes.add_line(quote.id, product="Engine", quantity=2, unit_price="5000", tax_pct=20)
    sales.quotes.send(quote.id)

    won = sales.deals.add(title="Difference engine", amount="2500.50", contact=ada.id)
    sales.deals.win(won.id)
    lost = sales.deals.add(title="Punch cards", amount="300", contact=ada.id)
    sales.deals.lose(lost.id, reason="price")
    other_won = sales.deals.add(title="Bob's won deal", amount="999", contact=bob.id)
    sales.deals.win(other_won.id)

    bobs = sales.deals.add(
        title="Mill upgrade", amount="800", contact=bob.id, expected_close="2031-01-15"
    )
    sales.deals.add_contact(bobs.id, ada.id, role="engineer")

    sales.tasks.add("Send the plans", due="2031-02-01", deal=engine.id)
    sales.tasks.add("Call about the mill", due="2031-01-10", deal=bobs.id)
    done = sales.tasks.add("Say thanks", due="2030-12-01", deal=won.id)
    sales.tasks.complete(done.id)
    sales.tasks.add("Unrelated", due="2030-01-01")
    return {"ada": ada.id, "bob": bob.id, "lead": lead.id, "engine": engine.id, "mill": bobs.id}


def test_the_section_sums_up_a_contacts_sales(crm: CRM, ada_sales: dict[str, str]) -> None:
    score = Sales(crm).leads.get(ada_sales["lead"]).score
    assert sales_section(crm, "ada@example.com") == {
        "open_deals": [
            {
                "title": "Mill upgrade",
                "stage": "lead",
                "amount": "800.00 EUR",
                "expected_close": "2031-01-15",
            },
            {
                "title": "Analytical engine",
                "stage": "quote",
                "amount": "12,000.00 EUR",
                "expected_close": "2031-03-31",
            },
        ],
        "won": 1,
        "lost": 1,
        "won_total": "2,500.50 EUR",
        "last_quote": {"quote": "Q-00001v1", "status": "sent", "total": "12,000.00 EUR"},
        "lead_score": score,
        "open_tasks": 2,
        "next_task": {"title": "Call about the mill", "due": "2031-01-10"},
    }


def test_the_last_quote_is_the_newest_version(crm: CRM, ada_sales: dict[str, str]) -> None:
    quotes = Sales(crm).quotes
    quotes.reject("Q-00001")
    revised = quotes.revise("Q-00001")
    quotes.add_line(revised.id, product="Spare gear", quantity=1, unit_price="100")
    section = sales_section(crm, ada_sales["ada"])
    assert section is not None
    assert section["last_quote"] == {
        "quote": "Q-00001v2",
        "status": "draft",
        "total": "12,100.00 EUR",
    }


def test_another_contact_sees_only_their_own_deals(crm: CRM, ada_sales: dict[str, str]) -> None:
    section = sales_section(crm, "bob@example.com")
    assert section is not None
    assert [d["title"] for d in section["open_deals"]] == ["Mill upgrade"]
    assert (section["won"], section["lost"], section["won_total"]) == (1, 0, "999.00 EUR")
    assert section["last_quote"] is None
    assert section["lead_score"] is None
    assert (section["open_tasks"], section["next_task"]["title"]) == (1, "Call about the mill")


def test_a_contact_without_sales_data_has_no_section(crm: CRM, ada_sales: dict[str, str]) -> None:
    crm.contacts.add(first_name="Charles", email="charles@example.com")
    assert sales_section(crm, "charles@example.com") is None


def test_the_section_shows_in_the_view_command(
    crm: CRM, ada_sales: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from crmkit.cli.timeline import echo_view

    echo_view(crm.view(ada_sales["ada"]))
    out = capsys.readouterr().out
    assert "Sales [sales]" in out
    assert re.search(r"^won_total +2,500\.50 EUR$", out, re.MULTILINE)
    assert "Analytical engine" in out


def test_no_personal_value_of_the_section_is_hidden_from_a_reader_who_sees_none(
    crm_factory: CrmFactory,
) -> None:
    """A role that sees no personal data still gets the section: it holds none."""
    crm = crm_factory(
        ["sales"],
        url="sqlite",
        privacy={
            "roles": {"viewer": {"actions": ["read"], "see": []}},
            "actors": {"vic": ["viewer"]},
        },
    )
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    deal = Sales(crm).deals.add(title="Engine", amount="10", contact=ada.id)
    Sales(crm).deals.add_contact(deal.id, ada.id, role="buyer")
    view = crm.view(ada.id, actor="vic")
    assert "email" in view.masked
    [section] = [s for s in view.sections if s.title == "Sales"]
    assert to_jsonable(section.data)["open_deals"] == [
        {"title": "Engine", "stage": "lead", "amount": "10.00 EUR", "expected_close": None}
    ]
    assert "buyer" not in repr(section.data)


class NoSalesForInterns:
    """A plugin whose privacy rule keeps interns away from sales deals."""

    @crmkit.hookimpl
    def crmkit_privacy_rules(self) -> Sequence[Any]:
        def rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
            if request.actor.name == "intern" and request.entity == "sales.deal":
                return Decision.deny("interns do not see deals", rule="no-sales-for-interns")
            return None

        return [rule]


def test_an_actor_the_policy_keeps_from_deals_gets_no_section(
    crm_factory: CrmFactory,
) -> None:
    crm = crm_factory(
        ["sales"], url="sqlite", extra_plugins=[("no_sales_for_interns", NoSalesForInterns())]
    )
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    Sales(crm).deals.add(title="Engine", amount="10", contact=ada.id)
    assert sales_section(crm, ada.id) is not None
    view = crm.view(ada.id, actor="intern")
    assert view.contact.id == ada.id
    assert [s.title for s in view.sections if s.title == "Sales"] == []


def test_won_totals_in_several_currencies(sqlite_crm: CRM) -> None:
    eur, usd = Money(Decimal("1000.00"), "EUR"), Money(Decimal("200.00"), "USD")
    assert won_total(sqlite_crm, [eur, usd, eur]) == "2,000.00 EUR + 200.00 USD"
    assert won_total(sqlite_crm, [usd]) == "200.00 USD"


def test_won_totals_are_converted_when_rates_are_set(crm_factory: CrmFactory) -> None:
    crm = crm_factory(
        ["sales"],
        url="sqlite",
        plugin_settings={"sales": {"rates": {"base": "EUR", "USD": "0.5"}}},
    )
    eur, usd = Money(Decimal("1000.00"), "EUR"), Money(Decimal("200.00"), "USD")
    assert won_total(crm, [eur, usd]) == "1,100.00 EUR"
    assert won_total(crm, [eur, Money(Decimal(5), "JPY")]) == "1,000.00 EUR + 5 JPY"


def test_dates_in_the_section_are_days(crm: CRM, ada_sales: dict[str, str]) -> None:
    view = crm.view(ada_sales["ada"])
    [section] = [s for s in view.sections if s.title == "Sales"]
    assert section.data["next_task"]["due"] == dt.date(2031, 1, 10)
