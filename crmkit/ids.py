"""Globally unique, time-sortable record ids (UUID version 7, RFC 9562).

Ids are never database sequences, so records can move between backends and
machines. The canonical text form sorts in creation order, which the outbox
relies on as a cursor.
"""

from __future__ import annotations

import os
import random
import threading
import time

_VARIANT = 0b10 << 62


class _Uuid7Source:
    """Makes UUIDv7 strings that are strictly increasing within this process.

    Within one millisecond a 12-bit counter (seeded randomly) keeps order;
    if it overflows the timestamp is nudged forward by one millisecond. The
    text of the timestamp is made once per millisecond, since bulk imports
    make thousands of ids in each.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0
        self._prefix = ""
        self._rng = random.Random(os.urandom(16))
        # A forked child must not repeat its parent's random sequence.
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._rng = random.Random(os.urandom(16))
        self._last_ms = 0

    def _set_ms(self, ms: int) -> None:
        """Start millisecond ``ms``: its text ``tttttttt-tttt-7`` is shared by its ids."""
        self._last_ms = ms
        t = f"{ms:012x}"
        self._prefix = f"{t[:8]}-{t[8:]}-7"

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms > self._last_ms:
                self._set_ms(ms)
                self._counter = self._rng.getrandbits(11)
            else:
                self._counter += 1
                if self._counter > 0xFFF:
                    self._set_ms(self._last_ms + 1)
                    self._counter = 0
            prefix, counter = self._prefix, self._counter
            rand = self._rng.getrandbits(62)
        r = f"{_VARIANT | rand:016x}"
        return f"{prefix}{counter:03x}-{r[:4]}-{r[4:]}"


new_id = _Uuid7Source()
"""Return a new UUIDv7 as its 36-character canonical string."""
