"""Workflow execution: graph checks, templates, definition snapshots, advance(), completion and reconciliation."""
