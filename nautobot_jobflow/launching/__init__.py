"""The Job path: may-run checks, Job kwargs, the approval hold, the one enqueue, core's guard."""
