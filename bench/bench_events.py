"""Event dispatch after commit: ``EventBus.dispatch`` against a plain dict-of-lists dispatch.

Measures the per-event cost of ``crm.events.bus.dispatch(events)`` for a batch of committed
events (the outbox write is not included) with three subscribers on a mix of patterns
(``contact.*``, ``interaction.logged`` and ``*``), against a dict mapping each event name
to the list of the same subscriber functions, looped over in plain Python. For information
it also times one pluggy hook call per event with three implementations, the other way a
framework could fan events out.

Each timed sample is one dispatch of a batch of ``--rows`` events (default 1,000), divided
by the batch size. Target: crmkit within 3x of the dict-of-lists dispatch.

Run: ``python bench/bench_events.py [--rows N] [--repeat N]``.
"""

from __future__ import annotations

import fnmatch
import random
import sys
from collections.abc import Callable, Sequence

import _benchkit as kit
import pluggy

from crmkit.events.bus import EventBus
from crmkit.events.model import CORE_EVENT_TYPES, Event

TARGET = 3.0
NAMES = (
    "contact.created",
    "contact.updated",
    "interaction.logged",
    "organization.created",
    "contact.linked",
)
PATTERNS = ("contact.*", "interaction.logged", "*")

hookspec = pluggy.HookspecMarker("benchevents")
hookimpl = pluggy.HookimplMarker("benchevents")


class Spec:
    @hookspec
    def on_event(self, event: Event) -> None:
        """An event happened."""


def make_events(count: int) -> list[Event]:
    rng = random.Random(kit.SEED)
    return [
        Event(name=rng.choice(NAMES), payload={"n": i}, subject_id=f"c{i % 97}")
        for i in range(count)
    ]


def main() -> int:
    args = kit.parse_args(__doc__, rows=1_000, repeat=2_000)
    events = make_events(args.rows)
    seen = [0, 0, 0]

    def on_contact(event: Event) -> None:
        seen[0] += 1

    def on_interaction(event: Event) -> None:
        seen[1] += 1

    def on_anything(event: Event) -> None:
        seen[2] += 1

    handlers: Sequence[Callable[[Event], None]] = (on_contact, on_interaction, on_anything)

    bus = EventBus()
    for etype in CORE_EVENT_TYPES:
        bus.register_type(etype)
    for pattern, handler in zip(PATTERNS, handlers, strict=True):
        bus.subscribe(pattern, handler)

    table: dict[str, list[Callable[[Event], None]]] = {
        name: [h for p, h in zip(PATTERNS, handlers, strict=True) if _matches(name, p)]
        for name in NAMES
    }

    def plain_dispatch(batch: list[Event]) -> None:
        for event in batch:
            for handler in table.get(event.name, ()):
                handler(event)

    class Impl:
        def __init__(self, handler: Callable[[Event], None]) -> None:
            self.handler = handler

        @hookimpl
        def on_event(self, event: Event) -> None:
            self.handler(event)

    pm = pluggy.PluginManager("benchevents")
    pm.add_hookspecs(Spec)
    for handler in handlers:
        pm.register(Impl(handler))
    hook = pm.hook.on_event

    def pluggy_dispatch(batch: list[Event]) -> None:
        for event in batch:
            hook(event=event)

    # Same deliveries on both sides (the pluggy side calls every implementation).
    bus.dispatch(events)
    expected = list(seen)
    seen[:] = [0, 0, 0]
    plain_dispatch(events)
    assert seen == expected, (seen, expected)

    samples = kit.interleave(
        {
            "dict-of-lists dispatch": plain_dispatch,
            "crm.events.bus.dispatch": bus.dispatch,
            "pluggy hook, 3 impls (info)": pluggy_dispatch,
        },
        [events],
        repeat=args.repeat,
        warmup=20,
    )
    print(kit.machine())
    print(f"{len(events):,} events per batch, names {', '.join(NAMES)}")
    print(f"subscribers on {', '.join(PATTERNS)}; figures are ns per event")
    ok = kit.report(
        "per-event dispatch cost",
        "dict-of-lists dispatch",
        samples,
        target=TARGET,
        informational=["pluggy hook, 3 impls (info)"],
        unit="ns",
        ns_per_unit=len(events),
    )
    return 0 if ok else 1


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


if __name__ == "__main__":
    sys.exit(main())
