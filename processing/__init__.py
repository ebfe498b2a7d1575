"""Processing an order: the Celery app, its task `process_order`, and the dispatch to it."""
