"""The consent ledger: grants, withdrawals and double opt-ins, per purpose and channel.

Entries are only ever added (``privacy.consent`` rows); the current state of a
contact is derived from them with the same functions the privacy policy uses
(:func:`~crmkit.privacy.facts.consent_state` and
:class:`~crmkit.privacy.facts.SubjectFacts`), so what ``crmkit consent show``
prints is what ``crm.privacy.may_contact`` decides on.

Every change asks the policy for the ``consent`` action, is audited in the
same transaction (ids, purpose, channel and status only; never evidence text
or IP addresses) and raises a ``consent.*`` event. A grant also lifts the
suppression markers of the contact's current email and phone: recording new
consent is how an erased person who came back may be processed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from crmkit.entities.base import utcnow
from crmkit.entities.types import EntityType
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy import suppression
from crmkit.privacy.entities import ConsentRecord
from crmkit.privacy.facts import GRANTED, PENDING, WITHDRAWN, consent_state
from crmkit.privacy.model import ANY_CHANNEL, Actor
from crmkit.privacy.tokens import make_token, read_token
from crmkit.storage.query import AllOf, Cond, Filter, Query

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

T = TypeVar("T")

LAWFUL_BASES: tuple[str, ...] = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)
"""The lawful bases for processing personal data (GDPR article 6)."""

EVENT_NAMES: dict[str, str] = {
    GRANTED: "consent.granted",
    WITHDRAWN: "consent.withdrawn",
    PENDING: "consent.requested",
}
"""The event each kind of ledger entry raises."""


@attrs.frozen
class ConsentState:
    """Where a contact stands for one purpose on one channel, as the policy sees it.

    ``status`` is ``granted`` or ``withdrawn``; ``since``, ``lawful_basis``,
    ``source`` and ``record_id`` come from the entry that decides it, which is
    the channel's own latest entry unless a withdrawal for the purpose on every
    channel outranks it (then ``decided_on`` is ``any``).
    """

    purpose: str
    channel: str
    status: str
    since: dt.datetime
    lawful_basis: str
    source: str | None
    record_id: str
    decided_on: str


def check_lawful_basis(basis: str) -> str:
    """``basis`` if it is a lawful basis; otherwise a :class:`ValidationError` listing them."""
    if basis not in LAWFUL_BASES:
        raise ValidationError(
            "privacy.consent",
            "lawful_basis",
            f"unknown lawful basis {basis!r}; use one of {', '.join(LAWFUL_BASES)}",
        )
    return basis


def _moment(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError(f"now={now.isoformat()} is naive; give a timezone-aware time")
    return now.astimezone(dt.UTC)


def raise_consent_event(uow: UnitOfWork, entry: ConsentRecord) -> None:
    """Raise the event of a new ledger entry (``consent.granted``, ...): ids and states only.

    Every writer of the ledger raises it the same way, so subscribers (a mailing
    list sync) see one payload shape whoever wrote the entry.
    """
    payload: dict[str, Any] = {
        "record_id": entry.id,
        "contact_id": entry.contact_id,
        "purpose": entry.purpose,
        "channel": entry.channel,
        "status": entry.status,
        "lawful_basis": entry.lawful_basis,
    }
    if entry.confirms is not None:
        payload["confirms"] = entry.confirms
    if entry.expires_at is not None:
        payload["expires_at"] = entry.expires_at
    uow.raise_event(EVENT_NAMES[entry.status], payload, subject_id=entry.contact_id)


class ConsentLedger:
    """``crm.privacy.consent``: record and read consent.

    ``contact`` is a contact id or email. Each write runs in a unit of work of
    its own, or in ``uow`` when given (so consent can be recorded in the same
    transaction as, say, the contact it is about). ``actor`` defaults to the
    unit of work's actor, which defaults to the CRM's.
    """

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @property
    def _etype(self) -> EntityType:
        return self._crm.entity_type("privacy.consent")

    # -- writes ----------------------------------------------------------------
    def grant(
        self,
        contact: str,
        *,
        purpose: str,
        channel: str,
        lawful_basis: str = "consent",
        source: str | None = None,
        evidence: str | None = None,
        ip_address: str | None = None,
        form_version: str | None = None,
        actor: str | None = None,
        now: dt.datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> ConsentRecord:
        """Record that ``contact`` agreed to ``purpose`` on ``channel`` (``any``: every channel).

        Lifts the suppression of the contact's current email and phone.
        """
        self._check_vocabulary(purpose, channel)
        check_lawful_basis(lawful_basis)
        at = _moment(now)

        def work(uow: UnitOfWork) -> ConsentRecord:
            who, person = self._allowed(uow, actor, contact, purpose, channel)
            entry = self._entry(
                person,
                who,
                at,
                purpose=purpose,
                channel=channel,
                status=GRANTED,
                lawful_basis=lawful_basis,
                source=source,
                evidence=evidence,
                ip_address=ip_address,
                form_version=form_version,
            )
            self._store(
                uow, who, person, entry, "consent.grant", f"granted; lawful basis {lawful_basis}"
            )
            return entry

        return self._work(uow, actor, work)

    def withdraw(
        self,
        contact: str,
        *,
        purpose: str,
        channel: str,
        source: str | None = None,
        evidence: str | None = None,
        actor: str | None = None,
        now: dt.datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> ConsentRecord:
        """Record that ``contact`` withdrew from (or objected to) ``purpose`` on ``channel``.

        A withdrawal needs no earlier grant: an opt-out is kept either way. On
        channel ``any`` it outranks every channel's grant for the purpose.
        """
        self._check_vocabulary(purpose, channel)
        at = _moment(now)

        def work(uow: UnitOfWork) -> ConsentRecord:
            who, person = self._allowed(uow, actor, contact, purpose, channel)
            current = consent_state(self._entries(uow.tx, person["id"])).get((purpose, channel))
            basis = str(current["lawful_basis"]) if current is not None else "consent"
            entry = self._entry(
                person,
                who,
                at,
                purpose=purpose,
                channel=channel,
                status=WITHDRAWN,
                lawful_basis=basis,
                source=source,
                evidence=evidence,
            )
            self._store(uow, who, person, entry, "consent.withdraw", "withdrawn")
            return entry

        return self._work(uow, actor, work)

    def request(
        self,
        contact: str,
        *,
        purpose: str,
        channel: str,
        source: str | None = None,
        evidence: str | None = None,
        ip_address: str | None = None,
        form_version: str | None = None,
        actor: str | None = None,
        now: dt.datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[ConsentRecord, str]:
        """Start a double opt-in: a ``pending`` entry and the token that confirms it.

        The token is signed with the CRM's secret and expires after
        ``[privacy] confirm_within_hours``; send it to the person (in a link),
        and call :meth:`confirm` with it when they come back.
        """
        self._check_vocabulary(purpose, channel)
        at = _moment(now)
        hours = self._crm.privacy.settings.confirm_within_hours
        # Kept to the second, as the token carries it, so row and token agree.
        expires_at = (at + dt.timedelta(hours=hours)).replace(microsecond=0)

        def work(uow: UnitOfWork) -> tuple[ConsentRecord, str]:
            who, person = self._allowed(uow, actor, contact, purpose, channel)
            entry = self._entry(
                person,
                who,
                at,
                purpose=purpose,
                channel=channel,
                status=PENDING,
                source=source,
                evidence=evidence,
                ip_address=ip_address,
                form_version=form_version,
                expires_at=expires_at,
            )
            reason = f"double opt-in requested; expires {expires_at:%Y-%m-%d %H:%M} UTC"
            self._store(uow, who, person, entry, "consent.request", reason)
            token = make_token(self._crm.privacy.secret(uow.tx), entry.id, expires_at)
            return entry, token

        return self._work(uow, actor, work)

    def confirm(
        self,
        token: str,
        *,
        ip_address: str | None = None,
        actor: str | None = None,
        now: dt.datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> ConsentRecord:
        """Confirm a double opt-in: a ``granted`` entry that ``confirms`` the pending one.

        A malformed, forged, expired or already used token is refused with a
        :class:`ValidationError` on field ``token`` and nothing is written.
        ``ip_address`` is where the confirmation came from (default: the request's).
        """
        at = _moment(now)

        def work(uow: UnitOfWork) -> ConsentRecord:
            claim = read_token(self._crm.privacy.secret(uow.tx), token, at)
            pending = uow.tx.get(self._etype, claim.pending_id)
            if pending is None or pending["status"] != PENDING:
                raise ValidationError(
                    "privacy.consent",
                    "token",
                    f"no pending consent request {claim.pending_id}; request a new one with "
                    "'crmkit consent request'",
                )
            used = uow.tx.get_by(self._etype, "confirms", claim.pending_id)
            if used is not None:
                raise ValidationError(
                    "privacy.consent",
                    "token",
                    f"the confirmation token was already used on {used['created_at']:%Y-%m-%d} "
                    f"(consent record {used['id']}); a token confirms once",
                )
            purpose, channel = pending["purpose"], pending["channel"]
            self._check_vocabulary(purpose, channel)
            who, person = self._allowed(uow, actor, pending["contact_id"], purpose, channel)
            entry = self._entry(
                person,
                who,
                at,
                purpose=purpose,
                channel=channel,
                status=GRANTED,
                lawful_basis=pending["lawful_basis"],
                source=pending["source"],
                evidence=pending["evidence"],
                ip_address=ip_address or pending["ip_address"],
                form_version=pending["form_version"],
                confirms=claim.pending_id,
            )
            self._store(uow, who, person, entry, "consent.confirm", "double opt-in confirmed")
            return entry

        return self._work(uow, actor, work)

    # -- reads -------------------------------------------------------------------
    def state(self, contact: str, *, actor: str | None = None) -> list[ConsentState]:
        """The current state per purpose and channel, by purpose, ``any`` first."""
        with self._crm.backend.read() as reader:
            person = self._contact(reader, contact)
            current = consent_state(self._entries(reader, person["id"]))
            facts = self._crm.privacy.facts(reader, person["id"])
            states = []
            for (purpose, channel), own in current.items():
                status = facts.consent(purpose, channel)
                entry = own if own["status"] == status else current[(purpose, ANY_CHANNEL)]
                states.append(
                    ConsentState(
                        purpose,
                        channel,
                        str(status),
                        entry["created_at"],
                        entry["lawful_basis"],
                        entry["source"],
                        entry["id"],
                        entry["channel"],
                    )
                )
        self._crm.privacy.require(
            "read", actor=actor, subject_id=person["id"], entity="privacy.consent"
        )
        return sorted(states, key=lambda s: (s.purpose, s.channel != ANY_CHANNEL, s.channel))

    def history(
        self,
        contact: str,
        purpose: str | None = None,
        channel: str | None = None,
        *,
        actor: str | None = None,
    ) -> list[ConsentRecord]:
        """Every entry for ``contact`` (optionally one purpose and/or channel), oldest first.

        Purposes and channels are not checked against the registered ones, so
        entries made for a plugin's purpose stay readable after it is removed.
        Personal values (evidence, IP address) are masked for actors whose
        roles may not see them.
        """
        with self._crm.backend.read() as reader:
            person = self._contact(reader, contact)
            rows = self._entries(reader, person["id"], purpose=purpose, channel=channel)
        who = self._crm.privacy.actor(actor)
        self._crm.privacy.require(
            "read", actor=who, subject_id=person["id"], entity="privacy.consent"
        )
        return [ConsentRecord(**self._crm.privacy.mask(self._etype, row, who)[0]) for row in rows]

    # -- the steps every write takes -------------------------------------------
    def _work(
        self, uow: UnitOfWork | None, actor: str | None, work: Callable[[UnitOfWork], T]
    ) -> T:
        if uow is not None:
            return work(uow)
        with self._crm.unit_of_work(actor) as own:
            return work(own)

    def _check_vocabulary(self, purpose: str, channel: str) -> None:
        self._crm.privacy.check_purpose(purpose)
        self._crm.privacy.check_channel(channel)

    def _contact(self, reader: StorageReader, ref: str) -> dict[str, Any]:
        from crmkit.contacts import contact_row

        row = contact_row(reader, self._crm.entity_type("contact"), ref)
        if row is None:
            raise NotFound("contact", ref)
        return row

    def _allowed(
        self, uow: UnitOfWork, actor: str | None, contact: str, purpose: str, channel: str
    ) -> tuple[Actor, dict[str, Any]]:
        """The acting actor and the contact's row, once the policy allows the change."""
        person = self._contact(uow.tx, contact)
        who = self._crm.privacy.actor(actor or uow.actor)
        self._crm.privacy.require(
            "consent",
            actor=who,
            subject_id=person["id"],
            purpose=purpose,
            channel=channel,
            entity="privacy.consent",
            uow=uow,
        )
        return who, person

    def _entries(
        self,
        reader: StorageReader,
        contact_id: str,
        *,
        purpose: str | None = None,
        channel: str | None = None,
    ) -> list[dict[str, Any]]:
        conds = [Cond("contact_id", "eq", contact_id)]
        conds += [
            Cond(name, "eq", value)
            for name, value in (("purpose", purpose), ("channel", channel))
            if value is not None
        ]
        where: Filter = conds[0] if len(conds) == 1 else AllOf(tuple(conds))
        return reader.query(self._etype, Query(where, ("id",), None))

    @staticmethod
    def _entry(
        person: Mapping[str, Any], who: Actor, at: dt.datetime, **values: Any
    ) -> ConsentRecord:
        return ConsentRecord(
            contact_id=person["id"], actor=who.name, created_at=at, updated_at=at, **values
        )

    def _store(
        self,
        uow: UnitOfWork,
        who: Actor,
        person: Mapping[str, Any],
        entry: ConsentRecord,
        action: str,
        reason: str,
    ) -> None:
        """Add the entry, lift suppression on a grant, audit it and raise its event."""
        uow.tx.add(self._etype, self._etype.to_row(entry))
        details: dict[str, Any] = {
            "record_id": entry.id,
            "status": entry.status,
            "lawful_basis": entry.lawful_basis,
        }
        if entry.confirms is not None:
            details["confirms"] = entry.confirms
        if entry.status == GRANTED:
            details["suppressions_lifted"] = self._lift_suppression(uow, person)
        self._crm.privacy.audit_append(
            uow.tx,
            actor=who.name,
            action=action,
            subject_id=entry.contact_id,
            purpose=entry.purpose,
            channel=entry.channel,
            reason=reason,
            details=details,
        )
        raise_consent_event(uow, entry)

    def _lift_suppression(self, uow: UnitOfWork, person: Mapping[str, Any]) -> int:
        keys = self._crm.privacy.suppression_keys(
            email=person.get("email"), phone=person.get("phone"), tx=uow.tx
        )
        return suppression.lift(uow.tx, self._crm.entity_type("privacy.suppression"), keys)
