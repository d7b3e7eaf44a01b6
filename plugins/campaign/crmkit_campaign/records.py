"""Finding the plugin's own records: campaigns, their steps and segments by id or name.

People name campaigns and segments on the command line by either their id or
their name; every part of the plugin looks them up the same way, here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.contacts import looks_like_id
from crmkit.errors import NotFound
from crmkit.storage import Cond, Query
from crmkit_campaign.entities import Campaign, Segment, Step

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.storage import StorageReader

CAMPAIGN = "campaign.campaign"
STEP = "campaign.step"
SEGMENT = "campaign.segment"


def row_by_ref(reader: StorageReader, etype: EntityType, ref: str) -> dict[str, Any]:
    """The row of ``etype`` whose id (or else unique ``name``) is ``ref``; NotFound if none."""
    text = ref.strip()
    row = reader.get(etype, text) if looks_like_id(text) else None
    if row is None:
        row = reader.get_by(etype, "name", text)
    if row is None:
        raise NotFound(etype.name, ref)
    return row


def find_campaign(reader: StorageReader, crm: CRM, ref: str) -> Campaign:
    """The campaign with this id or name; :class:`NotFound` if none."""
    return Campaign(**row_by_ref(reader, crm.entity_type(CAMPAIGN), ref))


def find_segment(reader: StorageReader, crm: CRM, ref: str) -> Segment:
    """The segment with this id or name; :class:`NotFound` if none."""
    return Segment(**row_by_ref(reader, crm.entity_type(SEGMENT), ref))


def campaign_steps(reader: StorageReader, crm: CRM, campaign_id: str) -> list[Step]:
    """A campaign's steps in sending order."""
    rows = reader.query(
        crm.entity_type(STEP), Query(Cond("campaign_id", "eq", campaign_id), ("position",))
    )
    return [Step(**row) for row in rows]


def current_campaign(crm: CRM, campaign: Campaign | str) -> Campaign:
    """The campaign as stored now (its status may have changed since it was read)."""
    ref = campaign.id if isinstance(campaign, Campaign) else campaign
    with crm.backend.read() as reader:
        return find_campaign(reader, crm, ref)
