"""The committed AsyncAPI document is the one FastStream generates from the application."""

from __future__ import annotations

import yaml

from bridge.observability.asyncapi import DOCUMENT, asyncapi_yaml
from bridge.settings import TopicNames


def test_committed_asyncapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == asyncapi_yaml(), (
        "docs/asyncapi.yaml is stale: run `python -m bridge.observability.asyncapi`")


def test_the_document_names_every_topic_of_the_bridge() -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(TopicNames().model_dump().values())
    assert document["info"]["title"] == "csm-fsm-bridge"
