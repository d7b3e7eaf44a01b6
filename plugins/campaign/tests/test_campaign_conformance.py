"""The crmkit plugin contract: hooks, migrations, privacy, events, commands, other plugins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crmkit.crm import CRM
from crmkit.errors import DuplicateError
from crmkit.storage import Cond, Query
from crmkit.testing.conformance import conformance_suite

test_conformance = conformance_suite("campaign")

CAMPAIGN_TYPES = {
    "campaign.segment",
    "campaign.segment_member",
    "campaign.campaign",
    "campaign.step",
    "campaign.delivery",
    "campaign.exclusion",
    "campaign.response",
    "campaign.blocked_address",
}
CAMPAIGN_EVENTS = {
    "campaign.segment.created",
    "campaign.segment.snapshot",
    "campaign.created",
    "campaign.step.added",
    "campaign.started",
    "campaign.message.sent",
    "campaign.message.failed",
    "campaign.recipient.excluded",
    "campaign.message.bounced",
    "campaign.complaint.received",
    "campaign.reply.received",
    "campaign.unsubscribed",
    "campaign.conversion.attributed",
    "campaign.address.blocked",
}
COMMANDS = (
    "segment",
    "create",
    "step",
    "start",
    "pause",
    "list",
    "show",
    "send",
    "status",
    "reconcile",
    "preview",
    "unsubscribe",
    "reply",
    "bounce",
    "complaint",
    "report",
)


def test_the_plugin_loads_its_types_events_and_declarations(crm: CRM) -> None:
    (info,) = [p for p in crm.plugins if p.name == "campaign"]
    assert info.status == "loaded"
    assert {n for n in crm.entity_types if n.startswith("campaign.")} == CAMPAIGN_TYPES
    assert {n for n in crm.events.types if n.startswith("campaign.")} == CAMPAIGN_EVENTS
    assert crm.privacy.check() == []
    assert crm.entity_type("campaign.delivery").table_name == "campaign_delivery"
    for name in ("segment_member", "delivery", "exclusion", "response", "blocked_address"):
        link = crm.entity_type(f"campaign.{name}").field("contact_id").spec
        assert (link.ref, link.erase) == ("contact", "delete"), name


def _delivery(contact_id: str, step_id: str = "step-1") -> dict[str, Any]:
    return {
        "key": f"{step_id}:{contact_id}",
        "campaign_id": "campaign-1",
        "step_id": step_id,
        "contact_id": contact_id,
        "message_id": f"<{step_id}-{contact_id}@crmkit>",
        "address": "ada@example.com",
    }


def test_a_delivery_key_is_taken_once_per_step_and_contact(crm: CRM) -> None:
    from crmkit_campaign.entities import Delivery

    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    etype = crm.entity_type("campaign.delivery")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(Delivery(**_delivery(ada.id))))
    with pytest.raises(DuplicateError), crm.unit_of_work() as uow:
        second = _delivery(ada.id) | {"message_id": "<another@crmkit>"}
        uow.tx.add(etype, etype.to_row(Delivery(**second)))
    with crm.unit_of_work() as uow:
        (row,) = uow.tx.query(etype, Query(where=Cond("contact_id", "eq", ada.id)))
    assert (row["status"], row["variant"], row["message_id"]) == (
        "intended",
        "A",
        f"<step-1-{ada.id}@crmkit>",
    )
    assert row["intended_at"].tzinfo is not None and row["sent_at"] is None


def test_erasing_a_person_deletes_their_campaign_records_and_keeps_the_campaign(
    crm: CRM,
) -> None:
    from crmkit_campaign.entities import BlockedAddress, Campaign, Delivery, Response, Segment

    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    grace = crm.contacts.add(first_name="Grace", email="grace@example.com")
    types = {
        name: crm.entity_type(f"campaign.{name}")
        for name in ("segment", "campaign", "delivery", "response", "blocked_address")
    }
    segment = Segment(name="Everyone", rules={"all": []})
    campaign = Campaign(name="Launch", segment_id=segment.id)
    with crm.unit_of_work() as uow:
        uow.tx.add(types["segment"], types["segment"].to_row(segment))
        uow.tx.add(types["campaign"], types["campaign"].to_row(campaign))
        for person in (ada, grace):
            delivery = Delivery(**_delivery(person.id) | {"campaign_id": campaign.id})
            uow.tx.add(types["delivery"], types["delivery"].to_row(delivery))
            response = Response(
                delivery_id=delivery.id,
                campaign_id=campaign.id,
                contact_id=person.id,
                kind="reply",
                detail="Thanks!",
            )
            uow.tx.add(types["response"], types["response"].to_row(response))
        blocked = BlockedAddress(
            address="ada@example.com",
            contact_id=ada.id,
            channel="email",
            reason="complaint",
            at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        uow.tx.add(types["blocked_address"], types["blocked_address"].to_row(blocked))

    crm.privacy.erase(ada.id)

    with crm.unit_of_work() as uow:
        for name in ("delivery", "response"):
            rows = uow.tx.query(types[name], Query())
            assert [r["contact_id"] for r in rows] == [grace.id], name
        assert uow.tx.count(types["blocked_address"]) == 0
        assert uow.tx.count(types["campaign"]) == uow.tx.count(types["segment"]) == 1
    assert crm.privacy.is_suppressed(email="ada@example.com")


def test_the_campaign_command_group_in_a_new_project(campaign_project: Any) -> None:
    shown = campaign_project.run("campaign", "--help")
    assert shown.exit_code == 0, str(shown)
    for name in COMMANDS:
        assert f"  {name} " in shown.output, name
    unknown = campaign_project.run("campaign", "launch")
    assert unknown.exit_code == 2
    assert "No such command 'launch'" in unknown.output
    checked = campaign_project.run("privacy", "check")
    assert checked.exit_code == 0, str(checked)


def test_the_command_table_names_click_commands_in_the_cli_modules() -> None:
    from crmkit_campaign.cli import CAMPAIGN_COMMANDS

    assert tuple(CAMPAIGN_COMMANDS) == COMMANDS
    for name, (spec, help_) in CAMPAIGN_COMMANDS.items():
        module, _, attr = spec.partition(":")
        assert module.startswith("crmkit_campaign.cli."), name
        assert attr.endswith("_group" if name == "segment" else "_command"), name
        assert help_.endswith("."), name


def test_deal_attribution_is_subscribed_only_when_sales_is_loaded(
    crm: CRM, crm_with_sales: CRM
) -> None:
    def owners(opened: CRM) -> list[str]:
        return [s.owner for s in opened.events.bus.subscriptions_for("sales.deal.won")]

    assert owners(crm) == []
    assert owners(crm_with_sales) == ["campaign"]


def test_the_facade_gives_each_service_once(sqlite_crm: CRM) -> None:
    from crmkit_campaign import Marketing, __version__

    marketing = Marketing(sqlite_crm)
    assert __version__ == "0.1.0"
    assert marketing.crm is sqlite_crm
    assert marketing.segments is marketing.segments
    assert type(marketing.segments).__name__ == "Segments"
