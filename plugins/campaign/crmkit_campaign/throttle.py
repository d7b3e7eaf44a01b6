"""Throttling a channel: at most so many campaign messages a minute, spaced evenly.

The limit comes from ``[plugins.campaign.throttle]`` (per channel) or the
campaign's own ``throttle_per_minute``, whichever is stricter; the wait is
measured on a monotonic clock, so a change of the wall clock does not matter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmkit_campaign.entities import Campaign
    from crmkit_campaign.settings import CampaignSettings


class Throttle:
    """Spaces messages evenly: at most ``per_minute`` a minute, waiting between them.

    ``sleep`` and ``clock`` (a monotonic clock in seconds) can be replaced, so a
    test can see the waits without waiting.
    """

    def __init__(
        self,
        per_minute: int | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._sleep = sleep
        self._clock = clock
        self._next: float | None = None

    def wait(self) -> None:
        """Wait until the next message may go (the first goes at once)."""
        if not self.interval:
            return
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def per_minute_limit(settings: CampaignSettings, campaign: Campaign) -> int | None:
    """The stricter of the channel's throttle in the settings and the campaign's own."""
    limits = [
        n for n in (settings.throttle.get(campaign.channel), campaign.throttle_per_minute) if n
    ]
    return min(limits) if limits else None
