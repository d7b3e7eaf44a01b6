"""What the policy lets an actor do with people's data in the data path.

Three things every service needs, each costing nothing when nothing is
hidden or no one was erased:

* :class:`ReadCheck` is one read call by one actor (``crm.contacts.list``,
  ``crm.view``, an export): it asks the policy once whether the actor may
  read, masks each returned row to what they may see, and audits once, at the
  end, if sensitive values were shown.
* :class:`SuppressionCheck` refuses new contacts whose email or phone belongs
  to an erased person, a batch at a time, hashing nothing when no one was
  ever erased.
* :func:`decisions_for` asks the policy about an action such as ``analytics``
  or ``contact`` for many people, reading their consent and processing state
  in a few queries instead of one per person; :func:`allowed_for` keeps those
  it allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.entities.types import EntityType
from crmkit.errors import ValidationError
from crmkit.privacy.facts import SubjectFacts
from crmkit.privacy.keys import suppression_key
from crmkit.privacy.model import Actor, Decision, Masked, PolicyRequest
from crmkit.privacy.policy import role_rule
from crmkit.privacy.suppression import suppressed
from crmkit.storage.query import Cond, Query

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader, StorageTransaction
    from crmkit.uow import UnitOfWork

CHUNK = 500  # ids per "in" filter
EMPTY: tuple[Any, ...] = (None, "", [], {})
READ_SENSITIVE = "read.sensitive"
ROLES_RULE = "crmkit.roles"


class ReadPlan:
    """How rows of one entity type are shown to one actor.

    Worked out once per entity type and actor for the life of the CRM (kept in
    ``crm.privacy.read_plans``): roles and field declarations do not change
    while it is open.
    """

    def __init__(self, etype: EntityType, levels: list[tuple[str, str]], actor: Actor) -> None:
        self.etype = etype
        self.levels = tuple(levels)
        self.level_of = dict(levels)
        self.hides = any(not actor.sees(level) for _, level in levels)
        self.sensitive = (
            [name for name, level in levels if level == "sensitive"]
            if actor.sees("sensitive")
            else []
        )


def _value(row: Mapping[str, Any], name: str) -> Any:
    if name.startswith("custom."):
        custom = row.get("custom")
        return custom.get(name[len("custom.") :]) if isinstance(custom, Mapping) else None
    return row.get(name)


class ReadCheck:
    """One read call by one actor: decide once, mask each row, audit sensitive values once.

    Use it as: :meth:`decide` inside the read (on its reader), :meth:`enforce`
    after the read (a denial is audited and raised), :meth:`show` per row,
    then :meth:`audit`. For an actor who sees every privacy class (the
    default ``admin``) :meth:`show` returns rows as they are, and only rows
    with a non-empty sensitive value cost an audit entry.
    """

    def __init__(self, crm: CRM, actor: str | Actor | None) -> None:
        self._privacy = crm.privacy
        self.actor = actor if isinstance(actor, Actor) else crm.privacy.actor(actor)
        self._plans: dict[str, ReadPlan] = {}
        self._extra: dict[str, tuple[str, ...]] = {}  # fields plugin rules asked to mask
        self._decision: Decision | None = None
        self._asked: tuple[str | None, str | None] = (None, None)
        self.masked: dict[str, None] = {}
        """Names of the fields masked in this call, in the order met (an ordered set)."""
        self.sensitive_fields: dict[str, None] = {}
        self.sensitive_rows = 0

    def plan(self, etype: EntityType) -> ReadPlan:
        found = self._plans.get(etype.name)
        if found is None:
            cache = self._privacy.read_plans
            key = (etype.name, self.actor.name)
            found = cache.get(key)
            if found is None:
                levels = self._privacy.field_levels(etype)
                found = cache[key] = ReadPlan(etype, levels, self.actor)
            self._plans[etype.name] = found
        return found

    # -- the decision ---------------------------------------------------------
    def decide(
        self, reader: StorageReader, etype: EntityType, subject_id: str | None = None
    ) -> Decision:
        """Ask whether the actor may read ``etype`` (about ``subject_id``), on ``reader``."""
        plan = self.plan(etype)
        decision = self._privacy.decide(
            "read",
            actor=self.actor,
            subject_id=subject_id,
            entity=etype.name,
            fields=plan.levels,
            reader=reader,
        )
        self._decision = decision
        self._asked = (subject_id, etype.name)
        if decision.allowed and decision.masked:
            # What the roles hide is masked anyway; the rest was asked for by plugin rules.
            self._extra[etype.name] = tuple(
                name
                for name in decision.masked
                if name not in plan.level_of or self.actor.sees(plan.level_of[name])
            )
        return decision

    def enforce(self, uow: UnitOfWork | None = None) -> None:
        """Raise :class:`~crmkit.errors.PolicyDenied` (audited) if :meth:`decide` said no.

        Called after the read's block has ended, so the denial's audit entry is
        not written while a read holds the database.
        """
        decision = self._decision
        if decision is None or decision.allowed:
            return
        subject_id, entity = self._asked
        self._privacy.refuse(
            decision, "read", actor=self.actor, subject_id=subject_id, entity=entity, uow=uow
        )

    # -- rows ---------------------------------------------------------------------
    def needs_rows(self, etype: EntityType) -> bool:
        """Whether :meth:`show` can change or audit rows of ``etype`` (else they may skip it)."""
        plan = self.plan(etype)
        return plan.hides or bool(self._extra.get(etype.name)) or bool(plan.sensitive)

    def show(self, etype: EntityType, row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        """``row`` as the actor may see it; masked names are collected in :attr:`masked`.

        ``row`` itself is returned when nothing in it is hidden from the actor.
        A custom-field mapping hidden as a whole keeps its keys, each masked, so
        the record keeps its shape. ``prefix`` goes before the masked names
        (``"interactions."`` in the customer view).
        """
        plan = self.plan(etype)
        shown = row
        if plan.hides:
            shown, names = self._privacy.mask(etype, row, self.actor)
            if "custom" in names:
                names = self._keep_custom_shape(plan, row, shown, names)
            for name in names:
                self.masked[prefix + name] = None
        extra = self._extra.get(etype.name)
        if extra:
            shown = dict(shown) if shown is row else shown
            for name in self._mask_named(plan, shown, extra):
                self.masked[prefix + name] = None
        if plan.sensitive:
            self._note_sensitive(plan, shown, prefix)
        return shown

    def _keep_custom_shape(
        self,
        plan: ReadPlan,
        row: Mapping[str, Any],
        shown: dict[str, Any],
        names: tuple[str, ...],
    ) -> tuple[str, ...]:
        original = row.get("custom")
        if not isinstance(original, Mapping):
            return names
        whole = plan.level_of.get("custom", "personal")
        custom: dict[str, Any] = {}
        keys: list[str] = []
        for key, value in original.items():
            level = plan.level_of.get(f"custom.{key}", whole)
            if value in EMPTY or self.actor.sees(level):
                custom[key] = value
            else:
                custom[key] = Masked(f"custom.{key}", level)
                keys.append(f"custom.{key}")
        shown["custom"] = custom
        return (*(n for n in names if n != "custom"), *keys)

    def _mask_named(self, plan: ReadPlan, shown: dict[str, Any], names: Sequence[str]) -> list[str]:
        """Mask the fields a plugin rule named, beyond what the actor's roles hide."""
        done = []
        for name in names:
            value = _value(shown, name)
            if value in EMPTY or isinstance(value, Masked):
                continue
            stand_in = Masked(name, plan.level_of.get(name, "personal"))
            if name.startswith("custom."):
                shown["custom"] = {**shown["custom"], name[len("custom.") :]: stand_in}
            else:
                shown[name] = stand_in
            done.append(name)
        return done

    def _note_sensitive(self, plan: ReadPlan, shown: Mapping[str, Any], prefix: str) -> None:
        found = False
        for name in plan.sensitive:
            value = _value(shown, name)
            if value not in EMPTY and not isinstance(value, Masked):
                self.sensitive_fields[prefix + name] = None
                found = True
        if found:
            self.sensitive_rows += 1

    # -- audit ----------------------------------------------------------------------
    def audit(
        self,
        uow: UnitOfWork | None = None,
        *,
        subject_id: str | None = None,
        contacts: int | None = None,
        counted: str = "contacts",
    ) -> None:
        """One ``read.sensitive`` audit entry if sensitive values were shown in this call.

        ``contacts`` is how many people they were about (default: the rows that
        had some), recorded under the key ``counted`` (``"records"`` for an
        export of organizations). Inside a unit of work the entry is kept
        even if the unit of work rolls back: the values were shown either way.
        """
        if not self.sensitive_rows:
            return
        entry: dict[str, Any] = {
            "actor": self.actor.name,
            "action": READ_SENSITIVE,
            "subject_id": subject_id,
            "details": {
                "fields": list(self.sensitive_fields),
                counted: self.sensitive_rows if contacts is None else contacts,
            },
        }
        self.sensitive_rows = 0
        self.sensitive_fields = {}
        if uow is not None:
            # Audited when the unit of work ends, in its transaction or, after a
            # rollback, in one of its own (see UnitOfWork.denials).
            uow.denials.append(entry)
        else:
            self._privacy.write_audit([entry])


# -- erased people stay gone --------------------------------------------------------------

SUPPRESSED_KINDS = ("email", "phone")


class SuppressionCheck:
    """The suppression markers as one call that adds contacts sees them.

    Whether there are any is asked once (one row at most is read); when there
    are none, which is the common case, nothing is hashed or looked up again.
    """

    def __init__(self, crm: CRM, tx: StorageTransaction) -> None:
        self._tx = tx
        self._etype = crm.entity_type("privacy.suppression")
        self.active = bool(tx.query(self._etype, Query(limit=1)))
        # Markers exist, so the secret they were made with does too.
        self._secret = crm.privacy.secret(tx) if self.active else b""

    def matches(self, rows: Sequence[Mapping[str, Any]]) -> dict[int, str]:
        """``{index: "email" or "phone"}`` for the rows whose normalised value is suppressed.

        One query for the whole batch.
        """
        if not self.active:
            return {}
        keys: list[tuple[int, str, str]] = []
        for index, row in enumerate(rows):
            for kind in SUPPRESSED_KINDS:
                value = row.get(kind)
                if value:
                    keys.append((index, kind, suppression_key(self._secret, kind, value)))
        if not keys:
            return {}
        found = suppressed(self._tx, self._etype, [key for _, _, key in keys])
        hits: dict[int, str] = {}
        for index, kind, key in keys:
            if key in found:
                hits.setdefault(index, kind)
        return hits

    @staticmethod
    def reason(value: str) -> str:
        """Why a suppressed value is refused, and how to add the person again."""
        return (
            f"{value} belongs to a person who was erased; to add them again, record their new "
            "consent with the contact (consent={'purpose': ..., 'channel': ..., 'evidence': "
            "...} in Python, or 'crmkit contacts add ... --consent PURPOSE:CHANNEL "
            "--evidence TEXT')"
        )

    def refuse(self, row: Mapping[str, Any]) -> None:
        """Raise :class:`ValidationError` on the email or phone if ``row`` is suppressed."""
        hits = self.matches([row])
        if hits:
            kind = hits[0]
            raise ValidationError("contact", kind, self.reason(row[kind]))


# -- many people at once ----------------------------------------------------------------


def allowed_for(
    crm: CRM,
    action: str,
    contact_ids: Iterable[str],
    *,
    purpose: str | None = None,
    channel: str | None = None,
    actor: str | Actor | None = None,
    reader: StorageReader | None = None,
) -> set[str]:
    """The ids among ``contact_ids`` that the policy allows ``action`` on.

    For ``analytics`` (whose ``purpose`` defaults to ``analytics``) that leaves
    out people who objected to it, are restricted or were erased; for
    ``contact`` give ``purpose`` and ``channel``. An actor whose roles do not
    allow ``action`` gets an empty set; ``crm.privacy.require(action)`` says why.
    :func:`decisions_for` gives each person's decision instead.
    """
    decisions = decisions_for(
        crm, action, contact_ids, purpose=purpose, channel=channel, actor=actor, reader=reader
    )
    return {contact_id for contact_id, decision in decisions.items() if decision.allowed}


def decisions_for(
    crm: CRM,
    action: str,
    contact_ids: Iterable[str],
    *,
    purpose: str | None = None,
    channel: str | None = None,
    actor: str | Actor | None = None,
    reader: StorageReader | None = None,
) -> dict[str, Decision]:
    """The policy's decision on ``action`` for each of ``contact_ids``, by id.

    What a sender needs to say how many people were left out and why:
    ``decision.rule`` names the rule that refused (``crmkit.consent``,
    ``crmkit.erasure``, ``crmkit.restriction``, ``crmkit.roles`` or a plugin's)
    and ``decision.reason`` says why in words. Consent entries and processing
    states are read for all the ids in a few ``in`` queries (on ``reader``,
    default: committed data), then every rule, plugins' included, decides per
    person. ``purpose`` defaults to ``analytics`` for the ``analytics`` action;
    for ``contact`` give ``purpose`` and ``channel``. An actor whose roles do
    not allow ``action`` gets the same refusal for everyone, and nothing is read.
    """
    who = actor if isinstance(actor, Actor) else crm.privacy.actor(actor)
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        return {}
    if purpose is None and action == "analytics":
        purpose = "analytics"
    if not who.allows(action):
        # The roles rule reads no facts about the person: ask it once for everyone.
        nobody = SubjectFacts.preloaded(
            crm.entity_type("privacy.consent"), crm.entity_type("privacy.subject"), ids[0], (), None
        )
        request = PolicyRequest(who, action, None, purpose, channel, "contact")
        refused = role_rule(request, nobody)
        assert refused is not None  # who.allows(action) is false
        denial = Decision(False, refused.reason, ROLES_RULE)
        return dict.fromkeys(ids, denial)
    if reader is not None:
        return _decisions(crm, who, action, ids, purpose, channel, reader)
    with crm.backend.read() as committed:
        return _decisions(crm, who, action, ids, purpose, channel, committed)


def _decisions(
    crm: CRM,
    who: Actor,
    action: str,
    ids: list[str],
    purpose: str | None,
    channel: str | None,
    reader: StorageReader,
) -> dict[str, Decision]:
    consent_type = crm.entity_type("privacy.consent")
    subject_type = crm.entity_type("privacy.subject")
    policy = crm.privacy.policy
    decisions: dict[str, Decision] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        within = Cond("contact_id", "in", chunk)
        states = {row["contact_id"]: row for row in reader.query(subject_type, Query(within))}
        entries: dict[str, list[Mapping[str, Any]]] = {}
        # Oldest first (ids are time-ordered), as consent_state() needs.
        for row in reader.query(consent_type, Query(within, ("id",), None)):
            entries.setdefault(row["contact_id"], []).append(row)
        for contact_id in chunk:
            facts = SubjectFacts.preloaded(
                consent_type,
                subject_type,
                contact_id,
                entries.get(contact_id, ()),
                states.get(contact_id),
            )
            request = PolicyRequest(who, action, contact_id, purpose, channel, "contact")
            decisions[contact_id] = policy.decide(request, facts)
    return decisions
