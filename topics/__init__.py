"""The bridge's topic definitions, kept as data in ``topics.yaml``.

This package must not import ``bridge`` (imports flow cli → bridge → topics).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

TOPICS_FILE = Path(__file__).with_name("topics.yaml")

# Kafka's own rule for topic names (max 249 chars of [a-zA-Z0-9._-]).
TopicName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
ConfigValue = str | int | float | bool


class TopicSpecError(ValueError):
    """``topics.yaml`` is unreadable or invalid; the message lists every problem with its path."""


class TopicSpec(BaseModel):
    """One topic the bridge needs; ``name`` is the default, a deployment may rename it."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    logical_name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    name: TopicName
    partitions: int = Field(ge=1, le=10_000)
    replication_factor: int = Field(ge=1, le=32)
    key: str
    description: str
    configs: Mapping[str, str] = Field(default_factory=dict)

    @field_validator("configs", mode="before")
    @classmethod
    def _configs_as_strings(cls, value: Any) -> Any:
        # YAML turns 604800000 into an int and true into a bool; Kafka wants strings.
        if isinstance(value, dict):
            return {key: _config_text(item) for key, item in value.items()}
        return value


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    partitions: int = 3
    replication_factor: int = 3
    configs: dict[str, ConfigValue] = Field(default_factory=dict)


class _TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    defaults: _Defaults = Field(default_factory=_Defaults)
    topics: list[dict[str, Any]] = Field(min_length=1)


def load_topic_specs(path: Path = TOPICS_FILE) -> list[TopicSpec]:
    """Read and validate the topic definitions (defaults merged into each topic)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TopicSpecError(f"{path}: cannot read: {error}") from None
    try:
        document = _TopicsFile.model_validate(raw)
    except ValidationError as error:
        raise TopicSpecError(f"{path}: invalid topic definitions:\n{_describe(error)}") from None
    specs, problems = [], []
    for index, entry in enumerate(document.topics):
        try:
            specs.append(TopicSpec.model_validate(_with_defaults(document.defaults, entry)))
        except ValidationError as error:
            problems.append(_describe(error, prefix=f"topics.{index}."))
    if problems:
        raise TopicSpecError(f"{path}: invalid topic definitions:\n" + "\n".join(problems))
    _reject_duplicates(path, specs)
    return specs


def _with_defaults(defaults: _Defaults, entry: dict[str, Any]) -> dict[str, Any]:
    merged = {"partitions": defaults.partitions, "replication_factor": defaults.replication_factor, **entry}
    own_configs = entry.get("configs") or {}
    merged["configs"] = {**defaults.configs, **own_configs} if isinstance(own_configs, dict) else own_configs
    return merged


def _reject_duplicates(path: Path, specs: list[TopicSpec]) -> None:
    for field in ("logical_name", "name"):
        values = [getattr(spec, field) for spec in specs]
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise TopicSpecError(f"{path}: duplicate {field}: {', '.join(duplicates)}")


def _describe(error: ValidationError, prefix: str = "") -> str:
    return "\n".join(
        f"  {prefix}{'.'.join(map(str, item['loc'])) or '(root)'}: {item['msg']}" for item in error.errors()
    )


def _config_text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value
