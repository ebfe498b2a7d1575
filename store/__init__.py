"""Adapters to PostgreSQL and Redis: SQL grouped per aggregate, the order cache, migrations."""
