"""The AsyncAPI document of the bridge: FastStream's, generated from the real application, with
its messages described.

FastStream writes the servers, and the channels and operations of the topics it publishes to;
the event topics, which the bridge's own consumer reads, are added here. FastStream cannot know
the messages either: the bridge
reads and publishes raw bytes (the connectors decode and encode them), and FastStream writes no
headers. `describe_messages` gives each message its payload schema (generated from the Structs
the connectors decode and encode with, `connectors.common.schemas`), its headers, its Kafka key
and a correlation id the bridge really carries.

``docs/asyncapi.yaml`` is this module's output for the default settings, written by
``bridge.commands.asyncapi`` (``python -m bridge.commands.asyncapi``); a test regenerates it and
fails when the committed file is stale.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import unquote

from faststream.specification import AsyncAPI

from bridge.pipeline.outbox import HEADER_PREFIX
from bridge.settings import TopicNames
from connectors.common.schemas import (
    COMPONENTS,
    command_schema_name,
    event_schema_name,
    wire_schemas,
)

DESCRIPTION = (
    "Consumes CSM, FSM and ITSM record events (the contract envelope), keeps cases, work orders "
    "and incidents in step, and publishes commands to the systems' command topics. Input that "
    "cannot be processed goes to the dead-letter topic, unchanged, with `x-bridge-*` headers "
    "(original topic, partition, offset, stage, error class, reason code, mapping version, "
    "replay count). Every command carries `x-bridge-message-id` (its `command_id`: a re-publish "
    "is recognisable), `x-bridge-mapping-version`, `x-bridge-mapping-hash`, "
    "`x-bridge-cause-event` and `x-bridge-rule`. Payload schemas are generated from the Structs "
    "the bridge decodes and encodes with."
)
_KAFKA_BINDING: Final = "0.4.0"  # the version FastStream writes for the channels' bindings


def _text(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


def _headers(
    described: dict[str, str | dict[str, Any]], *, required: bool, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A Kafka headers schema: every header is text (a description, or a schema); `required`
    closes the set (the bridge's own messages carry exactly these), `optional` ones apart."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _text(text) if isinstance(text, str) else text for name, text in described.items()},
    }
    if required:
        schema.update(required=[name for name in described if name not in optional], additionalProperties=False)
    return schema


# What `bridge dlq retry` adds to an event it re-injects; the systems' events need none.
EVENT_HEADERS: Final = _headers(
    {
        HEADER_PREFIX + "replay-count": "re-injections by `bridge dlq retry` (a count quarantines a loop)",
        HEADER_PREFIX + "dead-letter-id": "the dead letter a re-injected event comes from",
        "traceparent": "W3C trace context of the producer: the bridge's spans continue its trace",
    },
    required=False,
)
#: FastStream writes it on every message it publishes (the bridge gives it the message's id);
#: not required: the outbox does not write it itself
CORRELATION: Final = "correlation_id"
CORRELATION_HEADER: Final = {CORRELATION: "the message's id again (`x-bridge-message-id`)"}
#: W3C trace context: with tracing on, the span of the event that caused the message
#: (`BRIDGE_TRACING__ENABLED`); an event's own is followed when it has one
TRACE_HEADERS: Final = {
    "traceparent": "W3C trace context (tracing on): the message's producer span, a child of "
    "the bridge's span of the causing event",
    "tracestate": "W3C vendor trace state, when the causing event's trace has one",
}
TRACE_OPTIONAL: Final = (CORRELATION, *TRACE_HEADERS)
COMMAND_HEADERS: Final = _headers(
    {
        **CORRELATION_HEADER,
        HEADER_PREFIX + "message-id": "the `command_id`: a re-published command carries the same",
        HEADER_PREFIX + "mapping-version": "version of the mapping set that decided the command",
        HEADER_PREFIX + "mapping-hash": "content hash of that mapping set",
        HEADER_PREFIX + "cause-event": "`event_id` of the event that caused the command",
        HEADER_PREFIX + "rule": "the flow rule that decided the command",
        "content-type": {"type": "string", "const": "application/json"},
        **TRACE_HEADERS,
    },
    required=True,
    optional=TRACE_OPTIONAL,
)
DEAD_LETTER_HEADERS: Final = _headers(
    {
        **CORRELATION_HEADER,
        "content-type": {"type": "string", "const": "application/octet-stream"},
        HEADER_PREFIX + "message-id": "`dlq-` and the dead letter's id",
        HEADER_PREFIX + "dead-letter-id": "the dead letter's id in the store (`bridge dlq show`)",
        HEADER_PREFIX + "original-topic": "where the message was read",
        HEADER_PREFIX + "original-partition": "its partition there",
        HEADER_PREFIX + "original-offset": "its offset there",
        HEADER_PREFIX + "stage": "where it failed: decode, map, flow or batch",
        HEADER_PREFIX + "error-class": "the class of the error (never its message: no input values)",
        HEADER_PREFIX + "reason": "the reason code (`invalid_json`, `duplicate_key`, `key_mismatch`, "
        "`source_mismatch`, …: the README lists them)",
        HEADER_PREFIX + "mapping-version": "the active mapping version (empty before any applied)",
        HEADER_PREFIX + "replay-count": "how many times `bridge dlq retry` re-injected it",
        HEADER_PREFIX + "truncated": "`true` when the payload is the input cut down: the input was "
        "larger than the topic takes (whole in the store: `bridge dlq "
        "show`)",
        HEADER_PREFIX + "original-size": "when cut down: the input's size in bytes",
        HEADER_PREFIX + "original-sha256": "when cut down: the SHA-256 of the whole input (hex)",
        **TRACE_HEADERS,
    },
    required=True,
    optional=(*TRACE_OPTIONAL, *(HEADER_PREFIX + name for name in ("truncated", "original-size", "original-sha256"))),
)


def _key(description: str) -> dict[str, Any]:
    return {"kafka": {"key": _text(description), "bindingVersion": _KAFKA_BINDING}}


def _event_message(system: str) -> dict[str, Any]:
    return {
        "description": f"A {system.upper()} record event: one change of one record.",
        "payload": {"$ref": COMPONENTS.format(name=event_schema_name(system))},
        "headers": EVENT_HEADERS,
        "bindings": _key("the record's sys_id"),
        "correlationId": {
            "location": "$message.payload#/caused_by_command",
            "description": "the `command_id` of the bridge command that made the change (null "
            "when a person or another integration did): the command's echo",
        },
    }


def _command_message(system: str) -> dict[str, Any]:
    return {
        "description": f"A command to {system.upper()}.",
        "payload": {"$ref": COMPONENTS.format(name=command_schema_name(system))},
        "headers": COMMAND_HEADERS,
        "bindings": _key("the target record's sys_id; an insert's `correlation_id`"),
        "correlationId": {
            "location": "$message.payload#/command_id",
            "description": "the change the command makes comes back as an event whose `caused_by_command` is this id",
        },
    }


_DEAD_LETTER_MESSAGE: Final = {
    "description": "Input the bridge could not process: the message as it was read, byte for "
    "byte (invalid JSON or UTF-8 included; empty for a tombstone).",
    "contentType": "application/octet-stream",
    "payload": {"type": "string", "format": "binary", "description": "the original message's bytes, unchanged"},
    "headers": DEAD_LETTER_HEADERS,
    "bindings": _key(
        "the original message's key (when no record's key could be, the record's sys_id or the dead letter's id)"
    ),
    "correlationId": {
        "location": f"$message.header#/{HEADER_PREFIX}dead-letter-id",
        "description": "the dead letter's id in the store",
    },
}


def add_event_channels(document: dict[str, Any], topics: TopicNames) -> None:
    """The event topics the bridge receives from (in place): its own consumer polls them
    (``bridge.kafka.consumer``), not a FastStream subscriber, so FastStream does not list them."""
    servers = [{"$ref": f"#/servers/{name}"} for name in document.get("servers", {})]
    channels = document.setdefault("channels", {})
    operations = document.setdefault("operations", {})
    messages = document.setdefault("components", {}).setdefault("messages", {})
    for system, topic in topics.events().items():
        name = f"events:{topic}"
        messages[f"{name}:Message"] = {"title": f"{name}:Message"}
        channels[name] = {
            "address": topic,
            "description": f"{system.upper()}'s record events (the contract envelope), read in "
            "batches by the bridge's consumer group",
            "servers": servers,
            "messages": {"Message": {"$ref": f"#/components/messages/{name}:Message"}},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": _KAFKA_BINDING}},
        }
        operations[f"{name}:receive"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/Message"}],
        }


def describe_messages(document: dict[str, Any], topics: TopicNames) -> None:
    """Give every message of a FastStream-generated document (in place) its payload schema,
    headers, key and correlation id, by the topic of its channel."""
    by_topic: dict[str, dict[str, Any]] = {
        **{topic: _event_message(system) for system, topic in topics.events().items()},
        **{topic: _command_message(system) for system, topic in topics.commands().items()},
        topics.dead_letters: _DEAD_LETTER_MESSAGE,
    }
    components = document.setdefault("components", {})
    messages, schemas = components.setdefault("messages", {}), components.setdefault("schemas", {})
    for channel in document["channels"].values():
        for reference in channel["messages"].values():
            message = messages[_component(reference["$ref"])]
            # FastStream's own payload schema (`{}`, or an array of bytes for the batch) goes.
            schemas.pop(_component(message.get("payload", {}).get("$ref", "")), None)
            message.update(by_topic[channel["address"]])
    schemas.update(wire_schemas(COMPONENTS))


def _component(reference: str) -> str:
    """`#/components/<kind>/<name>` → `name` (FastStream escapes it as a URI fragment)."""
    return unquote(reference.rsplit("/", 1)[-1])


def specification(broker: Any) -> AsyncAPI:
    """The ``specification=`` argument for the bridge's ``AsgiFastStream``."""
    return AsyncAPI(broker, title="csm-fsm-bridge", version="1.0.0", description=DESCRIPTION, schema_version="3.0.0")
