"""The pure core of Orders: lifecycle rules, money and event shapes.

Nothing here imports asyncpg, aiohttp, aio-pika, redis, celery or temporalio, so the
API, the Temporal workflow, the Celery task and the tests all share the same rules.
"""
