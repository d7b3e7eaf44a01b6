"""Plugin loading: hook specifications and the per-CRM plugin manager."""

ENTRY_POINT_GROUP = "crmkit.plugins"
"""The entry-point group plugins declare themselves in (kept here, import-light, for the CLI)."""
