"""Property: whatever happens to people's consent, no message goes without a current opt-in."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit_campaign import Marketing
from crmkit_campaign.sending import send_due
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.testing.crm_factory import CrmFactory

if TYPE_CHECKING:
    from conftest import SmtpServer

PEOPLE = 3
CHANNELS = ("email", "sms")
OPS = st.one_of(
    st.tuples(st.sampled_from(["grant", "withdraw"]), st.integers(0, PEOPLE - 1),
              st.sampled_from(CHANNELS)),
    st.tuples(st.sampled_from(["erase", "restrict", "lift"]), st.integers(0, PEOPLE - 1),
              st.none()),
    st.tuples(st.just("send"), st.none(), st.none()),
)


def _apply(crm: CRM, op: str, contact_id: str, channel: str | None) -> None:
    privacy = crm.privacy
    if op == "grant":
        privacy.consent.grant(contact_id, purpose="marketing", channel=str(channel),
                              evidence="form")
    elif op == "withdraw":
        privacy.consent.withdraw(contact_id, purpose="marketing", channel=str(channel))
    elif op == "erase":
        privacy.erase(contact_id)
    elif op == "restrict":
        privacy.restrict(contact_id, reason="asked to")
    else:
        privacy.lift_restriction(contact_id)


def _may(model: dict[str, Any], channel: str) -> bool:
    return (
        model[channel] == "granted" and not model["erased"] and not model["restricted"]
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=8))
def test_every_message_goes_to_someone_with_a_current_opt_in(
    crm_factory: CrmFactory, smtp_server: SmtpServer, tmp_path: Path,
    campaign_settings: dict[str, Any], ops: list[tuple[str, int | None, str | None]],
) -> None:
    tag = "news"
    sms_file = tmp_path / f"sms-{uuid.uuid4().hex}.jsonl"
    adapters = {"sms-file": {"kind": "file", "channel": "sms", "path": str(sms_file)}}
    crm = crm_factory(
        ["campaign"], url="sqlite",
        plugin_settings={"campaign": {**campaign_settings, "adapters": adapters}},
    )
    ids = [
        crm.contacts.add(first_name=f"P{n}", email=f"p{n}.{tag}@example.com",
                         phone=f"+1415555{2671 + n}", tags=[tag]).id
        for n in range(PEOPLE)
    ]
    model = {cid: {"email": None, "sms": None, "erased": False, "restricted": False}
             for cid in ids}
    marketing = Marketing(crm)
    marketing.segments.create(f"{tag} list", {"field": "tags", "op": "has", "value": tag})
    sends = 0
    for op, who, channel in [*ops, ("send", None, None)]:
        if op != "send":
            cid = ids[who or 0]
            state = model[cid]
            if state["erased"]:
                continue  # nothing more is done with an erased person
            _apply(crm, op, cid, channel)
            if op in ("grant", "withdraw"):
                state[str(channel)] = "granted" if op == "grant" else "withdrawn"
            elif op == "erase":
                state["erased"] = True
            else:
                state["restricted"] = op == "restrict"
            continue
        sends += 1
        for chan in CHANNELS:
            name = f"{tag}-{chan}-{sends}"
            marketing.campaigns.create(name, segment=f"{tag} list", channel=chan)
            marketing.campaigns.add_step(name, subject="News", body="Hello {first_name}.")
            marketing.campaigns.start(name)
        mails_before = len(smtp_server.received)
        lines_before = len(sms_file.read_text().splitlines()) if sms_file.exists() else 0
        for chan in CHANNELS:
            send_due(crm, f"{tag}-{chan}-{sends}")
        emailed = [r for m in smtp_server.received[mails_before:] for r in m.rcpt_tos]
        texted = [json.loads(line)["contact_id"]
                  for line in sms_file.read_text().splitlines()[lines_before:]] \
            if sms_file.exists() else []
        expected_mail = sorted(f"p{ids.index(c)}.{tag}@example.com" for c in ids
                               if _may(model[c], "email"))
        assert sorted(emailed) == expected_mail
        assert sorted(texted) == sorted(c for c in ids if _may(model[c], "sms"))
        for cid in texted:
            assert crm.privacy.may_contact(cid, "marketing", "sms").allowed
