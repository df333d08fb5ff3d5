"""Approval policies: matching launches, the gate in launch(), decisions, expiry and the dry-run preview."""
