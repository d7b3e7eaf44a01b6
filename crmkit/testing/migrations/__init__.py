"""The contract suite's own migration branch (label ``crmkit_contract``).

It creates the one table the backend contract tests write to; a backend that
is not SQL receives the branch in ``prepare`` and may ignore it.
"""
