"""One message per person and step, even when the CRM holds a person twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crmkit_campaign import Marketing
from crmkit_campaign.sending import exclusions, send_due

from crmkit.crm import CRM
from crmkit.testing.crm_factory import CrmFactory

BASE = {"sender": "news@shop.example", "unsubscribe_url": "https://shop.example/unsubscribe"}
PHONE = "+14155552671"


def _sms_crm(database: str, crm_factory: CrmFactory, spool: Path) -> CRM:
    adapters = {"sms-file": {"kind": "file", "channel": "sms", "path": str(spool)}}
    return crm_factory(
        ["campaign"], url=database, plugin_settings={"campaign": {**BASE, "adapters": adapters}}
    )


def _subscriber(crm: CRM, first_name: str, phone: str, tag: str = "news") -> str:
    person = crm.contacts.add(first_name=first_name, phone=phone, tags=[tag])
    crm.privacy.consent.grant(
        person.id, purpose="marketing", channel="sms", evidence="text-in keyword SPRING"
    )
    return person.id


def _start(crm: CRM) -> None:
    marketing = Marketing(crm)
    marketing.segments.create("Texters", {"field": "tags", "op": "has", "value": "news"})
    marketing.campaigns.create("Spring", segment="Texters", channel="sms")
    marketing.campaigns.add_step("Spring", body="Hi {first_name}, spring sale today.")
    marketing.campaigns.start("Spring")


def _texts(spool: Path) -> list[dict[str, Any]]:
    if not spool.exists():
        return []
    return [json.loads(line) for line in spool.read_text(encoding="utf-8").splitlines()]


def test_two_records_with_one_phone_get_one_text(
    database: str, crm_factory: CrmFactory, tmp_path: Path
) -> None:
    spool = tmp_path / "sms.jsonl"
    crm = _sms_crm(database, crm_factory, spool)
    first = _subscriber(crm, "Ada", PHONE)
    second = _subscriber(crm, "Ada L.", PHONE)
    other = _subscriber(crm, "Bob", "+14155552672")
    _start(crm)

    report = send_due(crm, "Spring")

    texts = _texts(spool)
    assert sorted(t["to"] for t in texts) == [PHONE, "+14155552672"]
    assert {t["contact_id"] for t in texts} == {min(first, second), other}
    assert report.sent == 2
    assert report.excluded == {"duplicate_address": 1}
    assert exclusions(crm, "Spring") == {"duplicate_address": 1}

    again = send_due(crm, "Spring")

    assert again.sent == 0
    assert len(_texts(spool)) == 2


def test_a_record_added_after_the_step_went_to_its_phone_is_left_out(
    database: str, crm_factory: CrmFactory, tmp_path: Path
) -> None:
    spool = tmp_path / "sms.jsonl"
    crm = _sms_crm(database, crm_factory, spool)
    first = _subscriber(crm, "Ada", PHONE)
    _start(crm)
    assert send_due(crm, "Spring").sent == 1
    _subscriber(crm, "Ada L.", f" {PHONE} ")

    report = send_due(crm, "Spring")

    assert report.sent == 0
    assert report.excluded == {"duplicate_address": 1}
    assert [(t["to"], t["contact_id"]) for t in _texts(spool)] == [(PHONE, first)]
