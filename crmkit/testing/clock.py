"""A clock a test controls: the time crmkit stamps on records, events and audit entries.

Entity timestamps come from ``crmkit.entities.utcnow``, which a field default
captured when its class was defined, so replacing that function would miss
them. :class:`Clock` instead freezes ``datetime.now()`` and ``time.time()`` for
the whole process with ``time-machine``, which every crmkit timestamp reads.
"""

from __future__ import annotations

import datetime as dt
from types import TracebackType
from typing import Any

DEFAULT_START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
"""Where the ``crmkit_clock`` fixture starts: the reference time of the sample data."""


def _aware(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"the clock needs a timezone-aware time, not {when!r}; add tzinfo=UTC")
    return when.astimezone(dt.UTC)


class Clock:
    """Frozen time that moves only when told: :meth:`set`, :meth:`advance`.

    Use it as a context manager (the ``crmkit_clock`` fixture does): time is
    frozen inside the block and runs again after it.
    """

    def __init__(self, start: dt.datetime = DEFAULT_START) -> None:
        self._now = _aware(start)
        self._traveller: Any = None
        self._travel: Any = None

    @property
    def now(self) -> dt.datetime:
        """The frozen time, aware UTC."""
        return self._now

    def set(self, when: dt.datetime) -> dt.datetime:
        """Move the clock to ``when`` (timezone-aware; kept in UTC) and return it."""
        self._now = _aware(when)
        if self._traveller is not None:
            self._traveller.move_to(self._now, tick=False)
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        """Move the clock forward by ``datetime.timedelta(**delta)`` and return the new time."""
        return self.set(self._now + dt.timedelta(**delta))

    def __enter__(self) -> Clock:
        try:
            import time_machine
        except ImportError:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "the crmkit clock needs time-machine: pip install 'crmkit[test]'"
            ) from None
        self._travel = time_machine.travel(self._now, tick=False)
        self._traveller = self._travel.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._travel is not None:
            self._travel.stop()
        self._travel = self._traveller = None

    def __repr__(self) -> str:
        return f"Clock({self._now.isoformat()})"
