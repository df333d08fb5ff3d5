"""Reports computed by the database and shared by Jobs, job buttons and workflow steps."""
