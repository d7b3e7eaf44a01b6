"""``crmkit campaign``: the campaigns plugin's command group.

Every subcommand is named in :data:`CAMPAIGN_COMMANDS` with the module that
defines it; the module is imported only when its command is run or asked for
(``crmkit campaign send --help``), so loading the plugin stays cheap and
``crmkit campaign --help`` lists every command without importing any.
"""

from __future__ import annotations

import click

from crmkit.cli.lazy import LazyGroup

# name -> (module:attribute, one-line help), in the order ``crmkit campaign --help`` lists them.
CAMPAIGN_COMMANDS: dict[str, tuple[str, str]] = {
    "segment": (
        "crmkit_campaign.cli.segments:segment_group",
        "Define, preview and snapshot segments of contacts.",
    ),
    "create": (
        "crmkit_campaign.cli.campaigns:create_command",
        "Create a campaign for a segment, purpose and channel.",
    ),
    "step": (
        "crmkit_campaign.cli.campaigns:step_command",
        "Add a message (with an optional A/B variant) to a campaign.",
    ),
    "start": ("crmkit_campaign.cli.campaigns:start_command", "Start or resume a campaign."),
    "pause": ("crmkit_campaign.cli.campaigns:pause_command", "Pause a campaign."),
    "list": ("crmkit_campaign.cli.campaigns:list_command", "List campaigns and their status."),
    "show": ("crmkit_campaign.cli.campaigns:show_command", "Show a campaign and its steps."),
    "send": (
        "crmkit_campaign.cli.send:send_command",
        "Send the messages that are due now, checking consent for each person.",
    ),
    "status": (
        "crmkit_campaign.cli.send:status_command",
        "Count a campaign's deliveries by status.",
    ),
    "reconcile": (
        "crmkit_campaign.cli.send:reconcile_command",
        "Settle deliveries an interrupted send left behind.",
    ),
    "preview": (
        "crmkit_campaign.cli.campaigns:preview_command",
        "Show a step as one person would get it; nothing is sent.",
    ),
    "unsubscribe": (
        "crmkit_campaign.cli.campaigns:unsubscribe_command",
        "Redeem an unsubscribe token: withdraw the person's consent.",
    ),
    "reply": ("crmkit_campaign.cli.campaigns:reply_command", "Record a reply to a message."),
    "bounce": ("crmkit_campaign.cli.campaigns:bounce_command", "Record a bounced message."),
    "complaint": (
        "crmkit_campaign.cli.campaigns:complaint_command",
        "Record a spam complaint about a message.",
    ),
    "report": (
        "crmkit_campaign.cli.campaigns:report_command",
        "Results per step and variant: sent, bounced, replied, converted, excluded.",
    ),
}


@click.group("campaign", cls=LazyGroup, commands=CAMPAIGN_COMMANDS)
def campaign_group() -> None:
    """Marketing campaigns: segments, consent-checked sends, follow-ups and results."""


__all__ = ["CAMPAIGN_COMMANDS", "campaign_group"]
