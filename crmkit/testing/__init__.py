"""Test kit for people who extend crmkit.

``BackendContract`` is the suite every storage backend runs, built-in or
third party: subclass it in a test module, give it a ``backend_url`` fixture,
and pytest runs every contract test against your backend. Importing this
package needs pytest.
"""

from __future__ import annotations

import pytest

# Plain ``assert`` in the contract should explain itself like a test's own asserts.
pytest.register_assert_rewrite("crmkit.testing.contract")

from crmkit.testing.contract import (  # noqa: E402 - after the assert-rewrite registration
    CONTRACT_PLUGIN,
    BackendContract,
    ContractPlugin,
    ContractRecord,
)

__all__ = ["CONTRACT_PLUGIN", "BackendContract", "ContractPlugin", "ContractRecord"]
