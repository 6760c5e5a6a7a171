"""The delivery core: one Kafka batch → one store transaction → outbox publish → offset commit."""
