"""The records the privacy layer keeps, as core entity types.

They are stored through the same storage port as contacts, so every backend
(memory, SQLite, PostgreSQL, a plugin's) keeps them, and the same privacy
declarations describe them: ``crmkit privacy check`` holds the core to the
rule it sets for plugins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from crmkit.entities.base import Entity, entity, utcnow
from crmkit.entities.fields import field

CONSENT_PROOF = "proof of consent and of its withdrawal must outlive the person's profile"
AUDIT_TRAIL = "the audit trail must show what was done to whom, by id only"
ERASED_MARK = "marks the person as erased so nothing processes them again"


@entity("privacy.consent", description="One entry of the append-only consent ledger.")
@attrs.define(kw_only=True)
class ConsentRecord(Entity):
    """A grant, withdrawal or pending grant of consent for a purpose on a channel.

    Entries are only ever added; the current state of a (contact, purpose,
    channel) is the latest granted or withdrawn entry. A ``pending`` entry is a
    double opt-in waiting for confirmation; ``confirms`` on the granted entry
    names the pending one it confirmed, which makes each token single-use.
    """

    contact_id: str = field(ref="contact", privacy="personal", erase="keep", hold=CONSENT_PROOF)
    purpose: str = field(privacy="none", erase="keep")
    channel: str = field(privacy="none", erase="keep")
    status: str = field(privacy="none", erase="keep", doc="granted, withdrawn or pending")
    lawful_basis: str = field(default="consent", privacy="none", erase="keep")
    source: str | None = field(default=None, privacy="none", erase="keep")
    evidence: str | None = field(default=None, privacy="personal", erase="anonymise")
    ip_address: str | None = field(default=None, privacy="personal", erase="anonymise")
    form_version: str | None = field(default=None, privacy="none", erase="keep")
    actor: str | None = field(default=None, privacy="none", erase="keep")
    confirms: str | None = field(
        default=None,
        privacy="none",
        erase="keep",
        unique=True,
        doc="the pending entry this grant confirms; unique, so a token confirms once",
    )
    expires_at: dt.datetime | None = field(default=None, privacy="none", erase="keep")


@entity("privacy.subject", description="A person's processing state: restricted or erased.")
@attrs.define(kw_only=True)
class SubjectState(Entity):
    """Whether processing of a contact is restricted, and whether they were erased."""

    contact_id: str = field(
        ref="contact", unique=True, privacy="personal", erase="keep", hold=ERASED_MARK
    )
    restricted: bool = field(default=False, privacy="none", erase="keep")
    restricted_reason: str | None = field(default=None, privacy="none", erase="keep")
    erased_at: dt.datetime | None = field(default=None, privacy="none", erase="keep")


@entity("privacy.suppression", description="A keyed hash of an erased person's email or phone.")
@attrs.define(kw_only=True)
class Suppression(Entity):
    """Stops an erased person being imported or contacted again, without keeping their data.

    ``key`` is an HMAC of the normalised value under the CRM's secret, so the
    value itself is not stored and cannot be recovered from the table.
    """

    key: str = field(unique=True, privacy="none", erase="keep")
    kind: str = field(privacy="none", erase="keep", doc="email or phone")
    reason: str = field(default="erased", privacy="none", erase="keep")


@entity("privacy.audit", description="One entry of the hash-chained privacy audit log.")
@attrs.define(kw_only=True)
class AuditEntry(Entity):
    """A privacy-relevant action: who did what to whom, when, why, and was it allowed.

    ``hash`` covers this entry's content and the previous entry's hash, so
    changing or removing any entry breaks the chain from there on. ``details``
    holds ids and counts, never personal values.
    """

    seq: int = field(unique=True, privacy="none", erase="keep")
    at: dt.datetime = field(factory=utcnow, privacy="none", erase="keep")
    actor: str = field(privacy="none", erase="keep")
    action: str = field(privacy="none", erase="keep")
    subject_id: str | None = field(
        default=None, ref="contact", privacy="personal", erase="keep", hold=AUDIT_TRAIL
    )
    purpose: str | None = field(default=None, privacy="none", erase="keep")
    channel: str | None = field(default=None, privacy="none", erase="keep")
    outcome: str = field(default="done", privacy="none", erase="keep")
    reason: str = field(default="", privacy="none", erase="keep")
    details: dict[str, Any] = field(factory=dict, privacy="none", erase="keep")
    prev_hash: str = field(default="", privacy="none", erase="keep")
    hash: str = field(default="", privacy="none", erase="keep")


@entity("privacy.key", description="Secrets the privacy layer signs and hashes with.")
@attrs.define(kw_only=True)
class PrivacyKey(Entity):
    """A named random secret, made on first use when the project sets none."""

    name: str = field(unique=True, privacy="none", erase="keep")
    value: str = field(privacy="none", erase="keep")


PRIVACY_ENTITY_CLASSES: tuple[type, ...] = (
    ConsentRecord,
    SubjectState,
    Suppression,
    AuditEntry,
    PrivacyKey,
)
