"""``crm.privacy``: the policy, the registered purposes and channels, audit and secrets.

Everything that touches personal data asks :meth:`Privacy.decide` (or
:meth:`Privacy.require`, which raises and audits a denial). The consent
ledger, data subject rights and retention build on this object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from crmkit.entities.types import EntityType
from crmkit.errors import NotFound, PolicyDenied, ValidationError
from crmkit.privacy import audit, keys
from crmkit.privacy.config import ACTOR_ENV, DEFAULT_ACTOR, PrivacySettings
from crmkit.privacy.facts import SubjectFacts
from crmkit.privacy.model import (
    Actor,
    Channel,
    Decision,
    Masked,
    PolicyRequest,
    Purpose,
)
from crmkit.privacy.policy import Policy
from crmkit.storage.base import StorageReader, StorageTransaction

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.privacy.check import PrivacyProblem
    from crmkit.privacy.consent import ConsentLedger
    from crmkit.privacy.erasure import ErasurePlan
    from crmkit.privacy.processing import ReadPlan
    from crmkit.privacy.retention import SweepReport
    from crmkit.uow import UnitOfWork

SENSITIVE_KEY = "x-privacy"  # custom-field schema keyword: "personal" or "sensitive"


T = TypeVar("T")


def _registered(known: Mapping[str, T], kind: str, name: str) -> T:
    try:
        return known[name]
    except KeyError:
        names = ", ".join(sorted(known))
        raise ValidationError(
            "privacy.consent", kind, f"unknown {kind} {name!r}; use one of {names}"
        ) from None


class Privacy:
    """The privacy side of one CRM."""

    def __init__(
        self,
        crm: CRM,
        settings: PrivacySettings,
        purposes: Mapping[str, Purpose],
        channels: Mapping[str, Channel],
        policy: Policy,
    ) -> None:
        self._crm = crm
        self.settings = settings
        self.purposes = dict(purposes)
        self.channels = dict(channels)
        self.policy = policy
        self._secret: bytes | None = None
        # Settings and entity types are fixed once a CRM is open, so both are
        # worked out once per name (every read asks them).
        self._actors: dict[str, Actor] = {}
        self._levels: dict[str, list[tuple[str, str]]] = {}
        self._consent_type = crm.entity_type("privacy.consent")
        self._subject_type = crm.entity_type("privacy.subject")
        self.read_plans: dict[tuple[str, str], ReadPlan] = {}
        """How each entity type is shown to each actor (kept by the read path)."""

    # -- vocabulary -------------------------------------------------------
    def check_purpose(self, purpose: str) -> Purpose:
        """The registered purpose ``purpose``; unknown ones are refused with the known ones."""
        return _registered(self.purposes, "purpose", purpose)

    def check_channel(self, channel: str) -> Channel:
        """The registered channel ``channel``; unknown ones are refused with the known ones."""
        return _registered(self.channels, "channel", channel)

    # -- entity types -------------------------------------------------------
    def _etype(self, name: str) -> EntityType:
        return self._crm.entity_type(name)

    @property
    def audit_type(self) -> EntityType:
        return self._etype("privacy.audit")

    # -- actors and decisions -------------------------------------------------
    def actor(self, name: str | None = None) -> Actor:
        """The actor called ``name`` with their roles (default: the CRM's actor)."""
        chosen = name or self._crm.actor or os.environ.get(ACTOR_ENV) or DEFAULT_ACTOR
        actor = self._actors.get(chosen)
        if actor is None:
            actor = self._actors[chosen] = self.settings.actor(chosen)
        return actor

    def facts(self, reader: StorageReader | None, subject_id: str | None) -> SubjectFacts:
        """The consent and processing state of a contact, read lazily from ``reader``."""
        return SubjectFacts(reader, self._consent_type, self._subject_type, subject_id)

    def decide(
        self,
        action: str,
        *,
        actor: str | Actor | None = None,
        subject_id: str | None = None,
        purpose: str | None = None,
        channel: str | None = None,
        entity: str | None = None,
        fields: Sequence[tuple[str, str]] = (),
        reader: StorageReader | None = None,
    ) -> Decision:
        """Ask the policy; reads the person's state from ``reader`` (default: committed data)."""
        who = actor if isinstance(actor, Actor) else self.actor(actor)
        shown = fields if isinstance(fields, tuple) else tuple(fields)
        request = PolicyRequest(who, action, subject_id, purpose, channel, entity, shown)
        if reader is not None:
            return self.policy.decide(request, self.facts(reader, subject_id))
        with self._crm.backend.read() as committed:
            return self.policy.decide(request, self.facts(committed, subject_id))

    def require(
        self,
        action: str,
        *,
        actor: str | Actor | None = None,
        subject_id: str | None = None,
        purpose: str | None = None,
        channel: str | None = None,
        entity: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> Decision:
        """Like :meth:`decide`, but a denial is audited and raised as :class:`PolicyDenied`.

        Inside a unit of work the denial is audited when the unit of work ends,
        in its own transaction if the unit of work rolls back.
        """
        who = actor if isinstance(actor, Actor) else self.actor(actor)
        reader = uow.tx if uow is not None else None
        decision = self.decide(
            action,
            actor=who,
            subject_id=subject_id,
            purpose=purpose,
            channel=channel,
            entity=entity,
            reader=reader,
        )
        if decision.allowed:
            return decision
        self.refuse(
            decision,
            action,
            actor=who,
            subject_id=subject_id,
            purpose=purpose,
            channel=channel,
            entity=entity,
            uow=uow,
        )

    def refuse(
        self,
        decision: Decision,
        action: str,
        *,
        actor: Actor,
        subject_id: str | None = None,
        purpose: str | None = None,
        channel: str | None = None,
        entity: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> NoReturn:
        """Audit a denial the policy already gave and raise it as :class:`PolicyDenied`.

        For callers that decided earlier (a read decides inside its snapshot and
        refuses once the snapshot is closed), so the policy is not asked twice.
        """
        denial: dict[str, Any] = {
            "actor": actor.name,
            "action": action,
            "subject_id": subject_id,
            "purpose": purpose,
            "channel": channel,
            "outcome": "denied",
            "reason": decision.reason,
            "details": {"rule": decision.rule, **({"entity": entity} if entity else {})},
        }
        if uow is not None:
            uow.denials.append(denial)
        else:
            self.write_audit([denial])
        raise PolicyDenied(action, decision.reason, decision.rule, subject_id)

    def may_contact(
        self, contact: str, purpose: str, channel: str, *, actor: str | None = None
    ) -> Decision:
        """Whether ``contact`` (an id or email) may be reached on ``channel`` for ``purpose``."""
        from crmkit.contacts import contact_row

        self.check_purpose(purpose)
        self.check_channel(channel)
        with self._crm.backend.read() as reader:
            row = contact_row(reader, self._etype("contact"), contact)
            if row is None:
                raise NotFound("contact", contact)
            return self.decide(
                "contact",
                actor=actor,
                subject_id=row["id"],
                purpose=purpose,
                channel=channel,
                reader=reader,
            )

    # -- masking ----------------------------------------------------------------
    def field_levels(self, etype: EntityType) -> list[tuple[str, str]]:
        """``(field, privacy class)`` of an entity type, custom fields as ``custom.<key>``."""
        known = self._levels.get(etype.name)
        if known is None:
            known = self._levels[etype.name] = self._field_levels(etype)
        return list(known)

    @staticmethod
    def _field_levels(etype: EntityType) -> list[tuple[str, str]]:
        levels: list[tuple[str, str]] = [
            (f.name, f.spec.privacy or "personal") for f in etype.fields
        ]
        props = (etype.custom_schema or {}).get("properties", {})
        for key, schema in props.items():
            level = schema.get(SENSITIVE_KEY) if isinstance(schema, Mapping) else None
            if level in ("none", "personal", "sensitive"):
                levels.append((f"custom.{key}", level))
        return levels

    def mask(
        self, etype: EntityType, row: Mapping[str, Any], actor: str | Actor | None = None
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """``row`` with what ``actor`` may not see replaced by :class:`Masked` values.

        Returns the row and the names of the masked fields (``custom.<key>`` for
        custom fields). Empty values are left as they are: there is nothing to hide.
        """
        who = actor if isinstance(actor, Actor) else self.actor(actor)
        levels = dict(self.field_levels(etype))
        shown = dict(row)
        masked: list[str] = []
        for name, level in levels.items():
            if who.sees(level):
                continue
            if name.startswith("custom."):
                key = name[len("custom.") :]
                custom = shown.get("custom")
                # A custom mapping hidden as a whole already hides its keys.
                if isinstance(custom, Mapping) and custom.get(key) is not None:
                    shown["custom"] = {**custom, key: Masked(name, level)}
                    masked.append(name)
            elif shown.get(name) not in (None, "", [], {}) and name in shown:
                shown[name] = Masked(name, level)
                masked.append(name)
        return shown, tuple(masked)

    # -- audit and secrets ---------------------------------------------------------
    def audit_append(self, tx: StorageTransaction, **entry: Any) -> None:
        """Add an audit entry in ``tx`` (see :func:`crmkit.privacy.audit.append`)."""
        audit.append(tx, self.audit_type, **entry)

    def write_audit(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Add audit entries in a transaction of their own."""
        with self._crm.backend.begin() as tx:
            for entry in entries:
                audit.append(tx, self.audit_type, **entry)

    def secret(self, tx: StorageTransaction | None = None) -> bytes:
        """The key for suppression hashes and signed tokens (made on first use)."""
        if self.settings.secret is not None:
            return self.settings.secret.encode("utf-8")
        if self._secret is None:
            etype = self._etype("privacy.key")
            if tx is not None:
                found = keys.stored_secret(tx, etype)
                if found is None:
                    # Not cached: the transaction that makes it may still roll back.
                    return keys.ensure_secret(tx, etype)
                self._secret = found
            else:
                with self._crm.backend.read() as reader:
                    found = keys.stored_secret(reader, etype)
                if found is None:
                    with self._crm.backend.begin() as new_tx:
                        found = keys.ensure_secret(new_tx, etype)
                self._secret = found
        return self._secret

    # -- suppression ------------------------------------------------------------
    def suppression_keys(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        tx: StorageTransaction | None = None,
    ) -> list[str]:
        """The suppression keys of a normalised email and phone."""
        from crmkit.privacy.suppression import keys_for

        return keys_for(self.secret(tx), email=email, phone=phone)

    def is_suppressed(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        reader: StorageReader | None = None,
    ) -> bool:
        """Whether a normalised email or phone belongs to an erased person."""
        from crmkit.privacy.suppression import suppressed

        wanted = self.suppression_keys(email=email, phone=phone)
        if not wanted:
            return False
        etype = self._etype("privacy.suppression")
        if reader is not None:
            return bool(suppressed(reader, etype, wanted))
        with self._crm.backend.read() as committed:
            return bool(suppressed(committed, etype, wanted))

    # -- the ledger, data subject rights, retention ------------------------------
    @property
    def consent(self) -> ConsentLedger:
        """The consent ledger: grant, withdraw, confirm double opt-ins, state, history."""
        from crmkit.privacy.consent import ConsentLedger

        return ConsentLedger(self._crm)

    def export(self, contact: str, *, actor: str | None = None) -> dict[str, Any]:
        """Everything held on a person, across the core and every plugin, as one JSON bundle."""
        from crmkit.privacy.rights import export_bundle

        return export_bundle(self._crm, contact, actor=actor)

    def erasure_plan(self, contact: str) -> ErasurePlan:
        """What erasing ``contact`` would do, entity type by entity type."""
        from crmkit.privacy.erasure import plan_erasure

        return plan_erasure(self._crm, contact)

    def erase(
        self, contact: str, *, actor: str | None = None, dry_run: bool = False
    ) -> ErasurePlan:
        """Erase a person in one transaction, following each entity type's declarations."""
        from crmkit.privacy.erasure import erase

        return erase(self._crm, contact, actor=actor, dry_run=dry_run)

    def restrict(self, contact: str, *, reason: str, actor: str | None = None) -> None:
        """Restrict processing of a person: their data is stored and nothing else."""
        from crmkit.privacy.rights import restrict

        restrict(self._crm, contact, reason=reason, actor=actor)

    def lift_restriction(self, contact: str, *, actor: str | None = None) -> None:
        """End a restriction of processing."""
        from crmkit.privacy.rights import lift_restriction

        lift_restriction(self._crm, contact, actor=actor)

    def rectify(self, contact: str, *, actor: str | None = None, **changes: Any) -> Contact:
        """Correct a person's data (allowed while restricted), audited."""
        from crmkit.privacy.rights import rectify

        return rectify(self._crm, contact, actor=actor, **changes)

    def check(self) -> list[PrivacyProblem]:
        """Fields of loaded entity types lacking a privacy class, erasure rule or hold reason."""
        from crmkit.privacy.check import check_entity_types

        return check_entity_types(self._crm.entity_types.values())

    def sweep(self, *, dry_run: bool = False, actor: str | None = None) -> SweepReport:
        """Anonymise or delete what is past its retention period."""
        from crmkit.privacy.retention import sweep

        return sweep(self._crm, dry_run=dry_run, actor=actor)

    def verify_audit(self) -> audit.ChainReport:
        """Check the audit log's hash chain; the report names the first broken entry."""
        with self._crm.backend.read() as reader:
            return audit.verify(reader, self.audit_type)
