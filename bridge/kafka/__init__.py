"""Kafka plumbing: the consumer, client options, topic admin (a local broker for development
and tests is in ``bridgedev.kafka``).

- ``consumer``: the bridge's consumer of the event topics.
- ``clients``: aiokafka keyword arguments and FastStream security built from ``KafkaSettings``.
- ``admin``: create the bridge's topics (idempotent) and describe them.
"""
