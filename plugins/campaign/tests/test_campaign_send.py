"""Sending a campaign to a real SMTP server: only to people who may be written to, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from crmkit_campaign import Marketing
from crmkit_campaign.entities import Delivery
from crmkit_campaign.sending import send_due, status
from crmkit_campaign.templates import MissingField
from crmkit_campaign.unsubscribe import redeem

from crmkit.crm import CRM
from crmkit.entities import utcnow
from crmkit.errors import DuplicateError, ValidationError
from crmkit.storage import Query
from crmkit.testing.crm_factory import CrmFactory

if TYPE_CHECKING:
    from conftest import SmtpServer

BASE = {"sender": "news@shop.example", "unsubscribe_url": "https://shop.example/unsubscribe"}


def _people(crm: CRM, names: list[str], tag: str = "news") -> dict[str, str]:
    return {
        name: crm.contacts.add(
            first_name=name.capitalize(), email=f"{name}@example.com", tags=[tag]
        ).id
        for name in names
    }


def _grant(crm: CRM, contact_id: str, channel: str = "email") -> None:
    crm.privacy.consent.grant(
        contact_id, purpose="marketing", channel=channel, evidence="newsletter form v2"
    )


def _subscribers(crm: CRM, names: list[str]) -> dict[str, str]:
    """People who all opted in to marketing by email."""
    ids = _people(crm, names)
    for contact_id in ids.values():
        _grant(crm, contact_id)
    return ids


def _campaign(crm: CRM, name: str = "Spring", *, tag: str = "news", **options: Any) -> Marketing:
    marketing = Marketing(crm)
    marketing.segments.create(f"{name} list", {"field": "tags", "op": "has", "value": tag})
    marketing.campaigns.create(name, segment=f"{name} list", **options)
    marketing.campaigns.add_step(
        name, subject="Spring news for {first_name}", body="Hello {first_name}, spring is here."
    )
    marketing.campaigns.start(name)
    return marketing


def _to(server: SmtpServer) -> list[str]:
    return sorted(r for mail in server.received for r in mail.rcpt_tos)


def _deliveries(crm: CRM) -> list[Delivery]:
    with crm.backend.read() as reader:
        rows = reader.query(crm.entity_type("campaign.delivery"), Query())
    return [Delivery(**row) for row in rows]


def _token(link_header: str) -> str:
    url = link_header.strip("<>")
    [token] = parse_qs(urlsplit(url).query)["token"]
    return token


def test_only_people_who_may_be_written_to_now_get_the_message(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    crm = smtp_crm
    ids = _people(crm, ["ada", "bob", "cy", "dee", "eve", "fay"])
    for name in ("ada", "bob", "cy", "dee", "fay"):
        _grant(crm, ids[name])
    crm.privacy.consent.withdraw(ids["bob"], purpose="marketing", channel="email")
    crm.privacy.erase(ids["cy"])
    crm.privacy.restrict(ids["dee"], reason="disputes the data")
    _campaign(crm)

    report = send_due(crm, "Spring")

    assert _to(smtp_server) == ["ada@example.com", "fay@example.com"]
    assert report.sent == 2
    assert report.excluded == {"consent": 2, "restriction": 1}  # bob withdrew, eve never agreed
    for mail in smtp_server.received:
        name = mail.rcpt_tos[0].split("@")[0].capitalize()
        assert mail.message["Subject"] == f"Spring news for {name}"
        assert f"Hello {name}, spring is here." in mail.message.get_content()
    sent = {d.contact_id: d for d in _deliveries(crm)}
    assert set(sent) == {ids["ada"], ids["fay"]}
    assert {d.status for d in sent.values()} == {"sent"}
    received_ids = {mail.message["Message-ID"] for mail in smtp_server.received}
    assert received_ids == {d.message_id for d in sent.values()}
    timeline = crm.interactions.timeline(ids["ada"])
    assert [(i.kind, i.channel, i.direction) for i in timeline[:1]] == [
        ("message.sent", "email", "outbound")
    ]


def test_the_unsubscribe_link_in_a_message_withdraws_consent_and_later_steps_respect_it(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    crm = smtp_crm
    ids = _subscribers(crm, ["ada", "fay"])
    marketing = _campaign(crm)
    send_due(crm, "Spring")
    ada_mail = next(m for m in smtp_server.received if m.rcpt_tos == ["ada@example.com"])
    token = _token(ada_mail.message["List-Unsubscribe"])
    assert token in ada_mail.message.get_content().replace("=\r\n", "").replace("\r\n", "")

    done = redeem(crm, token)

    assert done.contact_id == ids["ada"] and not done.already
    assert not crm.privacy.may_contact(ids["ada"], "marketing", "email").allowed
    marketing.campaigns.add_step(
        "Spring", subject="Last call, {first_name}", body="Only days left.", wait_days=1,
        stop_on=["replied"],
    )
    later = send_due(crm, "Spring", now=utcnow() + dt.timedelta(days=2))

    assert later.sent == 1
    assert later.excluded == {"consent": 1}
    assert _to(smtp_server) == ["ada@example.com", "fay@example.com", "fay@example.com"]


def test_a_temporary_smtp_failure_is_sent_by_the_next_run(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    crm = smtp_crm
    ids = _people(crm, ["ada"])
    _grant(crm, ids["ada"])
    _campaign(crm)
    smtp_server.refuse("451 4.3.0 mailbox busy, try later")

    first = send_due(crm, "Spring")

    assert (first.sent, first.deferred, first.failed) == (0, 1, 0)
    assert smtp_server.received == []
    [waiting] = _deliveries(crm)
    assert waiting.status == "intended" and "451" in (waiting.error or "")

    second = send_due(crm, "Spring")

    assert (second.sent, second.deferred) == (1, 0)
    assert _to(smtp_server) == ["ada@example.com"]
    [delivered] = _deliveries(crm)
    assert delivered.status == "sent" and delivered.id == waiting.id


def test_a_permanent_smtp_failure_is_marked_failed_and_not_tried_again(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    crm = smtp_crm
    _subscribers(crm, ["ada", "fay"])
    _campaign(crm)
    smtp_server.refuse("550 5.1.1 mailbox unknown")

    first = send_due(crm, "Spring")
    again = send_due(crm, "Spring")

    assert (first.sent, first.failed) == (1, 1)
    assert (again.sent, again.failed) == (0, 0)
    assert len(smtp_server.received) == 1
    counts = status(crm, "Spring")
    assert (counts["sent"], counts["failed"]) == (1, 1)
    [failed] = [d for d in _deliveries(crm) if d.status == "failed"]
    assert "550" in (failed.error or "")


def test_a_recipient_missing_a_placeholder_value_stops_the_batch_before_anything_is_sent(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    crm = smtp_crm
    ids = _people(crm, ["ada"])
    nameless = crm.contacts.add(email="nameless@example.com", tags=["news"]).id
    for contact_id in (ids["ada"], nameless):
        _grant(crm, contact_id)
    _campaign(crm)

    with pytest.raises(MissingField) as missing:
        send_due(crm, "Spring")

    assert missing.value.contact_id == nameless and missing.value.field == "first_name"
    assert smtp_server.received == []
    assert _deliveries(crm) == []


def test_a_campaign_that_is_not_started_sends_nothing(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    crm = smtp_crm
    _grant(crm, _people(crm, ["ada"])["ada"])
    marketing = _campaign(crm)
    marketing.campaigns.pause("Spring")

    with pytest.raises(ValidationError) as refused:
        send_due(crm, "Spring")

    assert refused.value.field == "status"
    assert "crmkit campaign start Spring" in str(refused.value)
    assert smtp_server.received == []


def test_dry_run_and_limit(smtp_crm: CRM, smtp_server: SmtpServer) -> None:
    crm = smtp_crm
    ids = _people(crm, ["ada", "bob", "fay"])
    for name in ("ada", "fay"):
        _grant(crm, ids[name])
    _campaign(crm)

    dry = send_due(crm, "Spring", dry_run=True)
    assert (dry.sent, dry.excluded, dry.dry_run) == (2, {"consent": 1}, True)
    assert smtp_server.received == [] and _deliveries(crm) == []

    one = send_due(crm, "Spring", limit=1)
    rest = send_due(crm, "Spring")
    assert (one.sent, rest.sent) == (1, 1)
    assert _to(smtp_server) == ["ada@example.com", "fay@example.com"]


def test_an_intent_held_by_another_sender_is_skipped_not_sent_twice(
    smtp_crm: CRM, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = smtp_crm
    ids = _subscribers(crm, ["ada", "fay"])
    marketing = _campaign(crm)
    [step] = marketing.campaigns.steps("Spring")
    campaign = marketing.campaigns.get("Spring")
    etype = crm.entity_type("campaign.delivery")

    def other_senders_intent() -> dict[str, Any]:
        return etype.to_row(
            Delivery(
                key=f"{step.id}:{ids['ada']}",
                campaign_id=campaign.id,
                step_id=step.id,
                contact_id=ids["ada"],
                status="sending",
                address="ada@example.com",
                message_id="<other@crmkit>",
            )
        )

    import crmkit_campaign.sending as sending

    real = sending.due_recipients

    def due_then_raced(*args: Any, **kwargs: Any) -> Any:
        for batch in real(*args, **kwargs):
            # Another sender intends Ada's message after this one found her due.
            with crm.unit_of_work() as uow:
                uow.tx.add(etype, other_senders_intent())
            yield batch

    monkeypatch.setattr(sending, "due_recipients", due_then_raced)
    report = send_due(crm, "Spring")

    assert report.sent == 1 and report.skipped_existing == 1
    assert _to(smtp_server) == ["fay@example.com"]
    with crm.unit_of_work() as uow, pytest.raises(DuplicateError):
        uow.tx.add(etype, {**other_senders_intent(), "message_id": "<third@crmkit>"})


def _sms_crm(crm_factory: CrmFactory, tmp_path: Path, **settings: Any) -> CRM:
    table = {
        **BASE,
        "adapters": {
            "sms-file": {"kind": "file", "channel": "sms", "path": str(tmp_path / "sms.jsonl")}
        },
        **settings,
    }
    return crm_factory(["campaign"], url="sqlite", plugin_settings={"campaign": table})


def _sms_campaign(crm: CRM, count: int, **options: Any) -> None:
    for n in range(count):
        person = crm.contacts.add(
            first_name=f"P{n}", phone=f"+1415555{2671 + n}", tags=["news"]
        )
        _grant(crm, person.id, "sms")
    _campaign(crm, channel="sms", **options)


class FakeTime:
    """A monotonic clock that moves only when slept on (or when told)."""

    def __init__(self, per_call: float = 0.0) -> None:
        self.now = 100.0
        self.per_call = per_call
        self.sleeps: list[float] = []

    def clock(self) -> float:
        self.now += self.per_call
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_throttle_spaces_messages_by_the_stricter_limit(
    crm_factory: CrmFactory, tmp_path: Path
) -> None:
    crm = _sms_crm(crm_factory, tmp_path, throttle={"sms": 120})
    _sms_campaign(crm, 4, throttle_per_minute=60)
    time = FakeTime()

    report = send_due(crm, "Spring", sleep=time.sleep, clock=time.clock)

    assert report.sent == 4
    assert time.sleeps == [1.0, 1.0, 1.0]  # 60 a minute: one a second, the first at once
    assert len((tmp_path / "sms.jsonl").read_text().splitlines()) == 4


def test_throttle_waits_only_for_what_sending_did_not_take(
    crm_factory: CrmFactory, tmp_path: Path
) -> None:
    crm = _sms_crm(crm_factory, tmp_path, throttle={"sms": 120})
    _sms_campaign(crm, 3)
    time = FakeTime(per_call=0.2)  # each send takes 0.2 s of the 0.5 s interval

    send_due(crm, "Spring", sleep=time.sleep, clock=time.clock)

    assert time.sleeps == [0.3, 0.3]


def test_without_a_throttle_nothing_waits(crm_factory: CrmFactory, tmp_path: Path) -> None:
    crm = _sms_crm(crm_factory, tmp_path)
    _sms_campaign(crm, 3)
    time = FakeTime()

    assert send_due(crm, "Spring", sleep=time.sleep, clock=time.clock).sent == 3
    assert time.sleeps == []


def test_sms_goes_to_the_phone_and_people_without_one_are_excluded(
    crm_factory: CrmFactory, tmp_path: Path
) -> None:
    crm = _sms_crm(crm_factory, tmp_path)
    no_phone = crm.contacts.add(first_name="Nora", email="nora@example.com", tags=["news"])
    _grant(crm, no_phone.id, "sms")
    _sms_campaign(crm, 1)

    report = send_due(crm, "Spring")

    assert report.excluded == {"no_address": 1}
    [line] = (tmp_path / "sms.jsonl").read_text().splitlines()
    assert '"to": "+14155552671"' in line and "Hello P0" in line and "unsubscribe" in line
