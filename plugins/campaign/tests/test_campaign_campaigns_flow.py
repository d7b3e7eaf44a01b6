"""A campaign from start to report through the real sender and a file channel.

Text messages go to a JSON-lines file: step 1 to the people who may get them,
an unsubscribe through the link in the message, a reply, then the follow-up
three days later, which goes only to the one person who neither replied nor
left, and a report that adds it all up.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from crmkit_campaign.campaigns import Campaigns
from crmkit_campaign.responses import record_reply
from crmkit_campaign.results import Results
from crmkit_campaign.segments import Segments
from crmkit_campaign.sending import send_due
from crmkit_campaign.unsubscribe import redeem

from crmkit.crm import CRM
from crmkit.testing.clock import Clock
from crmkit.testing.crm_factory import CrmFactory

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PEOPLE = [  # first name, phone, opted in to marketing by sms
    ("Ada", "+14155552671", True),
    ("Bob", "+14155552672", True),
    ("Cy", "+14155552673", True),
    ("Dee", "+14155552674", False),
    ("Eve", None, True),
]


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox" / "sms.jsonl"


@pytest.fixture
def shop(database: str, crm_factory: CrmFactory, crmkit_clock: Clock, outbox: Path) -> CRM:
    table = {
        "sender": "news@shop.example",
        "unsubscribe_url": "https://shop.example/unsubscribe",
        "adapters": {"sms-file": {"kind": "file", "channel": "sms", "path": str(outbox)}},
    }
    crm = crm_factory(["campaign"], url=database, plugin_settings={"campaign": table})
    crmkit_clock.set(T0 - dt.timedelta(days=1))
    for first, phone, opted_in in PEOPLE:
        person = crm.contacts.add(first_name=first, phone=phone, tags=["news"])
        if opted_in:
            crm.privacy.consent.grant(person.id, purpose="marketing", channel="sms",
                                      evidence="shop counter form")
    Segments(crm).create("Readers", {"field": "tags", "op": "has", "value": "news"})
    service = Campaigns(crm)
    service.create("Spring texts", segment="Readers", channel="sms")
    service.add_step("Spring texts", body="Hi {first_name}, spring sale today!")
    service.add_step("Spring texts", body="{first_name}, 2 days left of the sale.", wait_days=3)
    service.start("Spring texts")
    return crm


def lines(outbox: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]


def first_names(crm: CRM, messages: list[dict[str, Any]]) -> list[str]:
    return sorted(crm.contacts.get(m["contact_id"]).first_name or "" for m in messages)


def test_a_campaign_from_first_message_to_report(
    shop: CRM, crmkit_clock: Clock, outbox: Path
) -> None:
    crmkit_clock.set(T0)
    first = send_due(shop, "Spring texts")
    assert first.sent == 3
    assert first.excluded == {"consent": 1, "no_address": 1}
    sent = lines(outbox)
    assert first_names(shop, sent) == ["Ada", "Bob", "Cy"]
    by_name = {shop.contacts.get(m["contact_id"]).first_name: m for m in sent}
    assert by_name["Ada"]["body"].startswith("Hi Ada, spring sale today!")

    # Ada leaves through the link in her message; Bob answers.
    link = by_name["Ada"]["body"].split("Unsubscribe: ")[1].split()[0]
    assert redeem(shop, parse_qs(urlsplit(link).query)["token"][0]).already is False
    crmkit_clock.advance(days=1)
    record_reply(shop, by_name["Bob"]["message_id"], text="Is the blue one on sale?")

    crmkit_clock.set(T0 + dt.timedelta(days=3) - dt.timedelta(minutes=1))
    assert send_due(shop, "Spring texts").sent == 0
    crmkit_clock.set(T0 + dt.timedelta(days=3))
    follow_up = send_due(shop, "Spring texts")
    assert follow_up.sent == 1
    assert follow_up.excluded == {"stopped:replied": 1, "stopped:unsubscribed": 1}
    later = lines(outbox)[3:]
    assert first_names(shop, later) == ["Cy"]
    assert later[0]["body"].startswith("Cy, 2 days left of the sale.")
    assert send_due(shop, "Spring texts", now=T0 + dt.timedelta(days=30)).sent == 0

    report = Results(shop).report("Spring texts")
    rows = {(v.position, v.variant): v for v in report.variants}
    one, two = rows[(1, "A")], rows[(2, "A")]
    assert (one.sent, one.delivered, one.unsubscribed, one.replied) == (3, 3, 1, 1)
    assert (two.sent, two.replied, two.unsubscribed) == (1, 0, 0)
    assert report.excluded == {
        1: {"consent": 1, "no_address": 1},
        2: {"stopped:replied": 1, "stopped:unsubscribed": 1},
    }
