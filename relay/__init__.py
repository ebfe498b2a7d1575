"""The event pipeline around the workflow: the outbox relay, RabbitMQ, the consumer, Celery."""
