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


class _Uuid7Source:
    """Makes UUIDv7 strings that are strictly increasing within this process.

    Within one millisecond a 12-bit counter (seeded randomly) keeps order;
    if it overflows the timestamp is nudged forward by one millisecond.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0
        self._rng = random.Random(os.urandom(16))
        # A forked child must not repeat its parent's random sequence.
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._rng = random.Random(os.urandom(16))
        self._last_ms = 0

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms > self._last_ms:
                self._last_ms = ms
                self._counter = self._rng.getrandbits(11)
            else:
                self._counter += 1
                if self._counter > 0xFFF:
                    self._last_ms += 1
                    self._counter = 0
            ms, counter = self._last_ms, self._counter
            rand = self._rng.getrandbits(62)
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_id = _Uuid7Source()
"""Return a new UUIDv7 as its 36-character canonical string."""
