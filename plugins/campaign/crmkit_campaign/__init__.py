"""crmkit-campaign: marketing campaigns for crmkit, with consent enforced at send time.

Segments pick contacts by rules (or freeze them in a static list); campaigns
send a sequence of steps (follow-ups after a number of days, optional A/B
variants) to a segment on one channel for one purpose. Every recipient is
checked against crmkit's privacy policy when a message is about to go, not
when the segment was drawn; every message carries an unsubscribe link that
withdraws consent through the consent ledger. Sending is at most once per
step and person (an intent is stored before the message leaves), bounces and
complaints block addresses, replies and unsubscribes stop follow-ups, and won
deals are attributed to the campaigns that touched the buyer when crmkit-sales
is installed.

``Marketing(crm)`` gathers the services of one CRM::

    marketing = Marketing(crm)
    rules = {"field": "tags", "op": "has", "value": "newsletter"}
    readers = marketing.segments.create("Newsletter", rules, actor="ada")
    launch = marketing.campaigns.create("Launch", segment=readers.id, actor="ada")
    report = marketing.send_due(launch)

The hook implementations are in :mod:`crmkit_campaign.plugin`; nothing happens
when this package is imported.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmkit import CRM
    from crmkit_campaign.campaigns import Campaigns
    from crmkit_campaign.entities import Campaign
    from crmkit_campaign.results import Results
    from crmkit_campaign.segments import Segments
    from crmkit_campaign.sending import SendReport

__version__ = "0.1.0"
__all__ = ["Marketing", "__version__"]


class Marketing:
    """The campaign services of one CRM, each made on first use."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    @cached_property
    def segments(self) -> Segments:
        """Segments: define, preview, snapshot, list members."""
        from crmkit_campaign.segments import Segments

        return Segments(self.crm)

    @cached_property
    def campaigns(self) -> Campaigns:
        """Campaigns and their steps: create, add steps, start, pause."""
        from crmkit_campaign.campaigns import Campaigns

        return Campaigns(self.crm)

    @cached_property
    def results(self) -> Results:
        """Results per step and variant, and A/B winners."""
        from crmkit_campaign.results import Results

        return Results(self.crm)

    def send_due(self, campaign: Campaign, **options: Any) -> SendReport:
        """Send what is due now for ``campaign``; ``options`` as :func:`sending.send_due`."""
        from crmkit_campaign.sending import send_due

        return send_due(self.crm, campaign, **options)
