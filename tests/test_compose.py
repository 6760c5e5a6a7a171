"""docker-compose.yml and the settings agree: variable names, service names, ports."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from pydantic import BaseModel

from bridge.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _setting_exists(variable: str) -> bool:
    path = variable.removeprefix("BRIDGE_").lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(path):
        if part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        if i < len(path) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def _bridge_services() -> dict[str, dict]:
    return {name: s for name, s in SERVICES.items() if s.get("build") == "."}


def test_every_bridge_variable_is_a_real_setting() -> None:
    for name, service in _bridge_services().items():
        for variable in service.get("environment", {}):
            assert variable.startswith("BRIDGE_"), (name, variable)
            assert _setting_exists(variable), f"{name}: {variable} is not a setting"


def test_the_bridge_reaches_kafka_and_postgres_by_their_service_names() -> None:
    env = _bridge_services()["bridge"]["environment"]
    with pytest.MonkeyPatch.context() as mp:  # the compose values, read by the real env parser
        for key, value in env.items():
            mp.setenv(key, str(value))
        settings = Settings(_env_file=None)
    host, port = settings.kafka.bootstrap_servers.split(":")
    kafka_env = SERVICES[host]["environment"]
    assert f"PLAINTEXT://{host}:{port}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    store = urlparse(settings.store.url.replace("postgresql+asyncpg", "postgresql"))
    pg = SERVICES[store.hostname]["environment"]
    assert (store.username, store.password, store.path.lstrip("/")) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        pg["POSTGRES_DB"],
    )
    assert f"{settings.http.port}:{settings.http.port}" in SERVICES["bridge"]["ports"]
    assert settings.http.host == "0.0.0.0"  # reachable from outside the container


def test_env_example_lists_only_real_settings() -> None:
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if line.startswith("BRIDGE_") and "=" in line:
            assert _setting_exists(line.split("=", 1)[0]), line


def _every_setting(model: type[BaseModel] = Settings, prefix: str = "BRIDGE_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _every_setting(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_env_example_lists_every_setting() -> None:
    """The README promises every setting, with its default, in `.env.example`."""
    listed = {
        line.lstrip("# ").split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert [name for name in _every_setting() if name not in listed] == []
