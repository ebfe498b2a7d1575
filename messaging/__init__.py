"""RabbitMQ: the topology, the confirmed publisher the activities use, and the consumer."""
