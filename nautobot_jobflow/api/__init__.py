"""REST API of nautobot-jobflow, under /api/plugins/jobflow/."""
