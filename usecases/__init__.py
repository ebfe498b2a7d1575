"""Use cases: the one function each handler, activity or task calls to do its work."""
