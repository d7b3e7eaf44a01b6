"""The crmkit plugin contract: hooks, migrations, privacy, events, commands, other plugins."""

from crmkit.testing.conformance import conformance_suite

test_conformance = conformance_suite("loyalty")
