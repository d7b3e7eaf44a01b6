"""Plugin loading: hook specifications and the per-CRM plugin manager."""
