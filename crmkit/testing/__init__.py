"""Test kit for people who extend crmkit.

``BackendContract`` is the suite every storage backend runs, built-in or
third party: subclass it in a test module, give it a ``backend_url`` fixture,
and pytest runs every contract test against your backend.

``conformance_suite`` is the suite every plugin runs: one line in its tests,
``test_conformance = conformance_suite("loyalty")``. The fixtures of
:mod:`crmkit.testing.fixtures` (``crm_factory``, ``crmkit_project``,
``crmkit_cli``, ``crmkit_clock``, ``crmkit_samples``) are a pytest plugin
registered with crmkit, so every test suite has them. Importing this package
needs pytest.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

# Plain ``assert`` in the contract should explain itself like a test's own asserts.
pytest.register_assert_rewrite("crmkit.testing.contract")

# Loaded on first use: pytest imports crmkit.testing.fixtures (and so this package)
# in every test run, which must not pay for SQLAlchemy and the core up front.
_EXPORTS = {
    "CONTRACT_PLUGIN": "crmkit.testing.contract",
    "BackendContract": "crmkit.testing.contract",
    "ContractPlugin": "crmkit.testing.contract",
    "ContractRecord": "crmkit.testing.contract",
    "Problem": "crmkit.testing.conformance",
    "check_plugin": "crmkit.testing.conformance",
    "conformance_suite": "crmkit.testing.conformance",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crmkit.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
