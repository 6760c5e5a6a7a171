"""Kafka plumbing: a local broker for development and tests, client options, topic admin.

- ``local_broker.LocalKafka``: a real single-node KRaft broker from Maven Central jars.
- ``clients``: aiokafka keyword arguments and FastStream security built from ``KafkaSettings``.
- ``admin``: create the bridge's topics (idempotent) and describe them.
"""
