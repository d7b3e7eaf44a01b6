"""crmkit's conformance suite: hooks, migrations, privacy, events and commands."""

from crmkit.testing.conformance import conformance_suite

test_conformance = conformance_suite("stamps")
