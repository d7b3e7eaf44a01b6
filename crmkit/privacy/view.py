"""The core's section of the single customer view: consent and processing state.

Whoever looks at a customer should see at once whether they may be contacted
and whether processing is restricted, without asking the ledger separately.
Only purposes, channels, statuses and dates are shown (never evidence or IP
addresses), so the section is the same for every role allowed to read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.privacy.facts import consent_state
from crmkit.storage.query import Cond, Query
from crmkit.view import ViewSection

if TYPE_CHECKING:
    from crmkit.crm import CRM

TITLE = "Consent"


def consent_section(crm: CRM, contact_id: str) -> ViewSection | None:
    """The current consent per purpose and channel, titled with any restriction or erasure.

    ``None`` (no section) when nothing was ever recorded about the person.
    """
    consent_type = crm.entity_type("privacy.consent")
    with crm.backend.read() as reader:
        entries = reader.query(
            consent_type, Query(Cond("contact_id", "eq", contact_id), ("id",), None)
        )
        facts = crm.privacy.facts(reader, contact_id)
        erased_at, restricted, why = facts.erased_at, facts.restricted, facts.restricted_reason
    rows: list[dict[str, Any]] = [
        {
            "purpose": purpose,
            "channel": channel,
            "status": entry["status"],
            "since": entry["created_at"].date(),
            "lawful_basis": entry["lawful_basis"],
        }
        for (purpose, channel), entry in sorted(consent_state(entries).items())
    ]
    if not rows and erased_at is None and not restricted:
        return None
    title = TITLE
    if erased_at is not None:
        title = f"{TITLE} (erased on {erased_at:%Y-%m-%d})"
    elif restricted:
        title = f"{TITLE} (processing restricted: {why or 'no reason given'})"
    return ViewSection(title, rows, "crmkit")
