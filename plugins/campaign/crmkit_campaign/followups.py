"""The follow-up schedule: who is due for a campaign step now, and who a response stopped.

Step 1 goes to the segment's members; each later step goes to the contacts
who were sent the step before at least ``wait_days`` days ago, unless they
answered in a way the step's ``stop_on`` names (a reply or an unsubscribe in
this campaign, or a conversion since the campaign started). Contacts who
already have a delivery or an exclusion for a step are never due for it again.

Who is due is worked out by the storage, as one filter on contacts
(:func:`due_filter`), never by loading people into Python. Consent is not part
of it: the sender asks the privacy policy for every recipient at send time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from crmkit.errors import NotFound
from crmkit.storage import AllOf, AnyOf, Cond, Filter, Not, Query, Related
from crmkit_campaign.entities import Campaign, Step
from crmkit_campaign.records import STEP, campaign_steps, find_segment
from crmkit_campaign.segment_rules import segment_filter

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage import StorageReader

DELIVERY = "campaign.delivery"
EXCLUSION = "campaign.exclusion"
RESPONSE = "campaign.response"
BATCH = 500
"""Contacts per batch handed to the sender by :func:`due_recipients`."""
STOP_KINDS: dict[str, str] = {
    "replied": "reply",
    "converted": "conversion",
    "unsubscribed": "unsubscribe",
}
"""A ``stop_on`` reason -> the kind of response that triggers it."""


def _not_yet(step: Step) -> tuple[Filter, ...]:
    """No delivery and no exclusion for this step yet."""
    here = Cond("step_id", "eq", step.id)
    return (Not(Related(DELIVERY, "contact_id", here)), Not(Related(EXCLUSION, "contact_id", here)))


def _sent_before(previous: Step, step: Step, now: dt.datetime) -> Filter:
    """Was sent the step before at least ``step.wait_days`` days before ``now``."""
    return Related(
        DELIVERY,
        "contact_id",
        AllOf(
            (
                Cond("step_id", "eq", previous.id),
                Cond("status", "eq", "sent"),
                Cond("sent_at", "le", now - dt.timedelta(days=step.wait_days)),
            )
        ),
    )


def stop_filter(campaign: Campaign, reason: str) -> Filter:
    """Contacts with a response that stops the campaign for ``reason``.

    A reply or an unsubscribe counts when it was to this campaign; a
    conversion (a won deal credited to any campaign message) counts when it
    came after this campaign started, since a customer who just bought is
    not sent the rest of a sales campaign.
    """
    kind = Cond("kind", "eq", STOP_KINDS[reason])
    if reason == "converted" and campaign.started_at is not None:
        when = Cond("at", "ge", campaign.started_at)
        return Related(RESPONSE, "contact_id", AllOf((kind, when)))
    return Related(RESPONSE, "contact_id", AllOf((kind, Cond("campaign_id", "eq", campaign.id))))


def _previous(reader: StorageReader, crm: CRM, step: Step) -> Step:
    for other in campaign_steps(reader, crm, step.campaign_id):
        if other.position == step.position - 1:
            return other
    raise NotFound(STEP, f"{step.campaign_id} #{step.position - 1}")


def due_filter(
    crm: CRM, reader: StorageReader, campaign: Campaign, step: Step, now: dt.datetime
) -> Filter:
    """The filter on contacts due for ``step`` at ``now`` (see :func:`due_recipients`)."""
    if step.position == 1:
        segment = find_segment(reader, crm, campaign.segment_id)
        return AllOf((segment_filter(crm, reader, segment), *_not_yet(step)))
    parts: list[Filter] = [_sent_before(_previous(reader, crm, step), step, now), *_not_yet(step)]
    stops = [stop_filter(campaign, reason) for reason in step.stop_on]
    if stops:
        parts.append(Not(stops[0] if len(stops) == 1 else AnyOf(tuple(stops))))
    return AllOf(tuple(parts))


def _pages(
    crm: CRM, reader: StorageReader, flt: Filter, batch: int
) -> Iterator[list[str]]:
    etype = crm.entity_type("contact")
    after: str | None = None
    while True:
        where = flt if after is None else AllOf((flt, Cond("id", "gt", after)))
        ids = [row["id"] for row in reader.query(etype, Query(where, ("id",), batch))]
        if not ids:
            return
        yield ids
        if len(ids) < batch:
            return
        after = ids[-1]


def due_recipients(
    crm: CRM,
    reader: StorageReader,
    campaign: Campaign,
    step: Step,
    now: dt.datetime,
    *,
    batch: int = BATCH,
) -> Iterator[list[str]]:
    """Batches of the ids of contacts due for ``step`` at ``now``, in id order.

    Step 1: the segment's members. A later step: the contacts whose delivery
    of the step before was sent at least ``wait_days`` days before ``now``,
    except those stopped by a response ``stop_on`` names. Contacts who already
    have a delivery or an exclusion for ``step`` are never due again. The
    storage works it out (one query per batch).
    """
    yield from _pages(crm, reader, due_filter(crm, reader, campaign, step, now), batch)


def stopped_recipients(
    crm: CRM,
    reader: StorageReader,
    campaign: Campaign,
    step: Step,
    now: dt.datetime,
    *,
    batch: int = BATCH,
) -> Iterator[tuple[str, list[str]]]:
    """``("stopped:<reason>", ids)`` batches: who would be due for ``step`` but for a response.

    For a sender that records why they were left out; each contact is given
    under the first of the step's ``stop_on`` reasons that applies.
    """
    if step.position == 1:
        return
    base: list[Filter] = [_sent_before(_previous(reader, crm, step), step, now), *_not_yet(step)]
    earlier: list[Filter] = []
    for reason in step.stop_on:
        stop = stop_filter(campaign, reason)
        flt = AllOf((*base, stop, *(Not(f) for f in earlier)))
        for ids in _pages(crm, reader, flt, batch):
            yield f"stopped:{reason}", ids
        earlier.append(stop)
