"""The policy: built-in rules plus every plugin's, any deny wins.

Rules see a :class:`~crmkit.privacy.model.PolicyRequest` and the person's
:class:`~crmkit.privacy.facts.SubjectFacts` and return a decision or abstain.
All rules run (so masks from several rules add up) unless one denies; the
first deny is the answer and names the rule that gave it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crmkit.privacy.facts import GRANTED, WITHDRAWN, SubjectFacts
from crmkit.privacy.model import Decision, PolicyRequest, Purpose, Rule

# Actions still allowed on a person whose processing is restricted or who was erased:
# storage, reading, handing their data to them, correcting it and the privacy work itself.
ALLOWED_WHILE_RESTRICTED = frozenset(
    {"read", "export", "consent", "rectify", "restrict", "erase", "audit"}
)
ALLOWED_AFTER_ERASURE = frozenset({"read", "export", "erase", "audit"})


def role_rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
    """The actor's roles must allow the action."""
    actor = request.actor
    if actor.allows(request.action):
        return None
    roles = ", ".join(actor.role_names) or "none"
    return Decision.deny(
        f"actor {actor.name!r} (roles: {roles}) may not {request.action}; "
        "grant a role that allows it under [privacy] in crmkit.toml"
    )


def erased_rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
    """Nothing but reading what is left, and the privacy work itself, after erasure."""
    if request.subject_id is None or request.action in ALLOWED_AFTER_ERASURE:
        return None
    erased_at = facts.erased_at
    if erased_at is None:
        return None
    return Decision.deny(f"contact {request.subject_id} was erased on {erased_at:%Y-%m-%d}")


def restriction_rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
    """Restriction of processing: the data is stored, and nothing else is done with it."""
    if request.subject_id is None or request.action in ALLOWED_WHILE_RESTRICTED:
        return None
    if not facts.restricted:
        return None
    why = f" ({facts.restricted_reason})" if facts.restricted_reason else ""
    return Decision.deny(
        f"processing of contact {request.subject_id} is restricted{why}; "
        f"lift it with 'crmkit privacy restrict {request.subject_id} --lift'"
    )


def consent_rule(purposes: Mapping[str, Purpose]) -> Rule:
    """Outbound contact and analytics respect the consent ledger.

    An objection (a withdrawal) for the purpose and channel always denies;
    purposes that need an opt-in (marketing) also need a current grant.
    """

    def rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
        if request.subject_id is None or request.purpose is None:
            return None
        if request.action == "analytics":
            if facts.withdrawn_anywhere(request.purpose):
                return Decision.deny(f"contact {request.subject_id} objected to {request.purpose}")
            return None
        if request.action != "contact":
            return None
        channel = request.channel or ""
        state = facts.consent(request.purpose, channel)
        where = f"{request.purpose} on {channel}"
        if state == WITHDRAWN:
            return Decision.deny(f"contact {request.subject_id} withdrew consent for {where}")
        purpose = purposes.get(request.purpose)
        if purpose is not None and purpose.needs_opt_in and state != GRANTED:
            return Decision.deny(
                f"contact {request.subject_id} has no opt-in for {where}; record one with "
                f"'crmkit consent grant {request.subject_id} --purpose {request.purpose} "
                f"--channel {channel}'"
            )
        return None

    return rule


def masking_rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
    """Reads show only the privacy classes the actor's roles may see."""
    if request.action not in ("read", "export") or not request.fields:
        return None
    if request.actor.sees_everything:
        return None
    hidden = tuple(name for name, level in request.fields if not request.actor.sees(level))
    if not hidden:
        return None
    return Decision(True, f"actor {request.actor.name!r} may not see them", masked=hidden)


class Policy:
    """Rules in order: the core's, then plugins'. ``decide`` asks all of them."""

    def __init__(self, rules: Sequence[tuple[str, Rule]]) -> None:
        self.rules = list(rules)

    def decide(self, request: PolicyRequest, facts: SubjectFacts) -> Decision:
        masked: list[str] = []
        for owner, rule in self.rules:
            decision = rule(request, facts)
            if decision is None:
                continue
            if not decision.allowed:
                rule_name = decision.rule if decision.rule != "crmkit" else owner
                return Decision(False, decision.reason, rule_name)
            masked.extend(m for m in decision.masked if m not in masked)
        if masked:
            return Decision(True, "allowed with fields masked", masked=tuple(masked))
        return Decision.allow()


def core_rules(purposes: Mapping[str, Purpose]) -> list[tuple[str, Rule]]:
    """The built-in rules, in the order they are asked."""
    return [
        ("crmkit.roles", role_rule),
        ("crmkit.erasure", erased_rule),
        ("crmkit.restriction", restriction_rule),
        ("crmkit.consent", consent_rule(purposes)),
        ("crmkit.masking", masking_rule),
    ]
