"""crmkit-loyalty: loyalty points and tiers for crmkit contacts.

A complete small crmkit plugin. It stores one entity type (``loyalty.account``),
raises one event (``loyalty.points_awarded``), reacts to events after commit,
adds a "Loyalty" section to the single customer view and a ``crmkit loyalty``
command group, reads its settings from ``[plugins.loyalty]`` in crmkit.toml and
owns the ``loyalty`` migration branch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import click

import crmkit
from crmkit.entities import utcnow
from crmkit.errors import ValidationError

if TYPE_CHECKING:
    from crmkit import CRM, Event, EventType, MigrationBranch, ViewSection
    from crmkit.entities import Contact

__version__ = "0.1.0"
log = logging.getLogger("crmkit_loyalty")


# -- What the plugin stores -------------------------------------------------


@crmkit.entity("loyalty.account", description="A contact's loyalty points and tier.")
@attrs.define(kw_only=True)
class LoyaltyAccount(crmkit.Entity):
    """One contact's points balance and the tier it has reached."""

    contact_id: str = crmkit.field(ref="contact", unique=True, privacy="personal", erase="delete")
    points: int = crmkit.field(default=0, privacy="none", erase="delete")
    tier: str = crmkit.field(default="bronze", privacy="personal", erase="delete")


# -- Settings: the [plugins.loyalty] table of crmkit.toml ------------------

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "points_per_purchase": {"type": "integer", "minimum": 0},
        "tiers": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "minProperties": 1,
        },
    },
    "additionalProperties": False,
}
DEFAULTS: dict[str, Any] = {
    "points_per_purchase": 10,
    "tiers": {"bronze": 0, "silver": 100, "gold": 500},
}


def settings(crm: CRM) -> dict[str, Any]:
    """This plugin's settings in ``crm``, with defaults filled in."""
    return {**DEFAULTS, **crm.settings.plugin("loyalty")}


def tier_for(points: int, tiers: Mapping[str, int]) -> str:
    """The highest tier whose threshold ``points`` reaches (else the lowest tier)."""
    reached = [(at, name) for name, at in tiers.items() if points >= at]
    return max(reached)[1] if reached else min(tiers, key=lambda name: tiers[name])


# -- What the plugin does ---------------------------------------------------


def account_of(crm: CRM, contact: str) -> LoyaltyAccount | None:
    """The loyalty account of a contact (by id or email), or ``None``."""
    etype = crm.entity_type("loyalty.account")
    with crm.unit_of_work() as uow:
        person = uow.contacts.get(contact)
        row = uow.tx.get_by(etype, "contact_id", person.id)
    return LoyaltyAccount(**row) if row is not None else None


def award(
    crm: CRM, contact: str, points: int, *, reason: str = "manual", actor: str | None = None
) -> LoyaltyAccount:
    """Add ``points`` to a contact's account (opened on the first award).

    The account and the ``loyalty.points_awarded`` event are written in one
    unit of work, so subscribers hear of the award only once it is stored.
    """
    if points <= 0:
        raise ValidationError("loyalty.account", "points", f"award {points}: must be 1 or more")
    etype = crm.entity_type("loyalty.account")
    tiers = settings(crm)["tiers"]
    with crm.unit_of_work(actor) as uow:
        person = uow.contacts.get(contact)
        row = uow.tx.get_by(etype, "contact_id", person.id)
        if row is None:
            account = LoyaltyAccount(contact_id=person.id, tier=tier_for(0, tiers))
            uow.tx.add(etype, etype.to_row(account))
        else:
            account = LoyaltyAccount(**row)
        previous = account.tier
        account.points += points
        account.tier = tier_for(account.points, tiers)
        account.updated_at = utcnow()
        uow.tx.update(
            etype,
            account.id,
            {"points": account.points, "tier": account.tier, "updated_at": account.updated_at},
        )
        uow.raise_event(
            "loyalty.points_awarded",
            {
                "contact_id": person.id,
                "points": points,
                "balance": account.points,
                "tier": account.tier,
                "previous_tier": previous,
                "reason": reason,
            },
            subject_id=person.id,
        )
    return account


def announce_new_tier(event: Event) -> None:
    """Tell the team when a member moves up a tier (runs after the award commits)."""
    payload = event.payload
    if payload["tier"] != payload["previous_tier"]:
        log.info("contact %s reached the %s tier", payload["contact_id"], payload["tier"])


# -- Hook implementations: how crmkit finds all of the above --------------


@crmkit.hookimpl
def crmkit_settings_schema() -> Mapping[str, Any]:
    return SETTINGS_SCHEMA


@crmkit.hookimpl
def crmkit_register_entity_types() -> Sequence[type]:
    return [LoyaltyAccount]


@crmkit.hookimpl
def crmkit_register_event_types() -> Sequence[EventType]:
    return [
        crmkit.EventType(
            "loyalty.points_awarded",
            description="Points were added to a loyalty account; payload: contact_id, "
            "points, balance, tier, previous_tier, reason.",
        )
    ]


@crmkit.hookimpl
def crmkit_register_subscribers(crm: CRM) -> Sequence[tuple[str, Callable[[Event], Any]]]:
    # Called once per CRM with that CRM: a handler that writes closes over it.
    per_purchase = settings(crm)["points_per_purchase"]

    def award_for_purchase(event: Event) -> None:
        interaction = event.payload["interaction"]
        if interaction["kind"] == "purchase" and per_purchase > 0:
            award(crm, interaction["contact_id"], per_purchase, reason="purchase")

    return [
        ("loyalty.points_awarded", announce_new_tier),
        ("interaction.logged", award_for_purchase),
    ]


@crmkit.hookimpl
def crmkit_customer_view(crm: CRM, contact: Contact) -> ViewSection | None:
    account = account_of(crm, contact.id)
    if account is None:
        return None
    return crmkit.ViewSection("Loyalty", {"points": account.points, "tier": account.tier})


@crmkit.hookimpl
def crmkit_migrations() -> Sequence[MigrationBranch]:
    return [crmkit.MigrationBranch("loyalty", "crmkit_loyalty:migrations")]


@crmkit.hookimpl
def crmkit_register_commands() -> Sequence[click.Command]:
    return [loyalty_group]


# -- Command line: crmkit loyalty ... --------------------------------------


@click.group("loyalty")
def loyalty_group() -> None:
    """Loyalty points and tiers."""


@loyalty_group.command("award")
@click.argument("contact")
@click.argument("points", type=click.IntRange(min=1))
@click.option("--reason", default="manual", show_default=True, help="Why the points are given.")
def award_command(contact: str, points: int, reason: str) -> None:
    """Give CONTACT (id or email) POINTS loyalty points."""
    from crmkit.cli.context import get_crm

    account = award(get_crm(), contact, points, reason=reason)
    click.echo(f"{contact}: {account.points} points, tier {account.tier}")


@loyalty_group.command("show")
@click.argument("contact")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(contact: str, as_json: bool) -> None:
    """Show the loyalty account of CONTACT (id or email)."""
    from crmkit.cli.context import get_crm
    from crmkit.cli.output import echo_json, echo_record

    account = account_of(get_crm(), contact)
    if account is None:
        click.echo(f"{contact} has no loyalty account yet.")
    elif as_json:
        echo_json(account)
    else:
        echo_record({"points": account.points, "tier": account.tier})
