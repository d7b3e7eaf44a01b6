"""The segment conditions sales offers: who has an open deal, who won one lately."""

from __future__ import annotations

import datetime as dt

import time_machine
from crmkit_sales.deals import Deals

from crmkit.crm import CRM
from crmkit.storage import Filter, Not


def names(crm: CRM, *filters: Filter) -> list[str]:
    return sorted(c.first_name or "" for c in crm.contacts.list(list(filters)))


def test_open_and_won_deal_conditions_select_the_primary_contacts(crm: CRM) -> None:
    conditions = crm.segment_conditions()
    assert {"sales.open_deal", "sales.won_deal"} <= set(conditions)
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    grace = crm.contacts.add(first_name="Grace", email="grace@example.com")
    mary = crm.contacts.add(first_name="Mary", email="mary@example.com")
    crm.contacts.add(first_name="Nobody")
    deals = Deals(crm)
    deals.add(title="Engine", amount="1000", contact=ada.id, stage="quote")
    deals.add(title="Compiler", amount="500", contact=grace.id)
    with time_machine.travel(dt.datetime(2026, 1, 10, tzinfo=dt.UTC)):
        old = deals.add(title="Loom", amount="300", contact=mary.id)
        deals.win(old.id)
    recent = deals.add(title="Loom service", amount="100", contact=grace.id)
    deals.win(recent.id)

    open_deal = conditions["sales.open_deal"]
    assert names(crm, open_deal.build({})) == ["Ada", "Grace"]
    assert names(crm, open_deal.build({"stages": ["quote", "negotiation"]})) == ["Ada"]
    assert names(crm, open_deal.build({"pipeline": "nowhere"})) == []
    won = conditions["sales.won_deal"]
    assert names(crm, won.build({})) == ["Grace", "Mary"]
    assert names(crm, won.build({"within_days": 30})) == ["Grace"]
    assert names(crm, Not(open_deal.build({}))) == ["Mary", "Nobody"]
