"""The order workflow's activities: the only place its I/O happens."""
