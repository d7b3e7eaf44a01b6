"""``crmkit privacy``: data subject rights, the privacy check, retention sweeps."""

from __future__ import annotations

import click

from crmkit.cli.privacy_rights import (
    check_command,
    erase_command,
    export_command,
    rectify_command,
    restrict_command,
)
from crmkit.cli.privacy_sweep import sweep_command


@click.group("privacy")
def privacy_group() -> None:
    """Export or erase everything held on a person, restrict or correct it,
    check plugins' privacy declarations and sweep data past its retention."""


for _command in (
    export_command,
    erase_command,
    restrict_command,
    rectify_command,
    check_command,
    sweep_command,
):
    privacy_group.add_command(_command)
