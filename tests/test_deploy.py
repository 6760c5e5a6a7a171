"""The deployment files agree with the bridge: the image (Dockerfile), Compose and the Kubernetes
manifests under deploy/kubernetes name real settings, probe the real endpoints, and mount a
mapping set that loads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from bridge.mapping import load_mapping_set
from tests.test_compose import SERVICES, _setting_exists

ROOT = Path(__file__).resolve().parents[1]
KUBE = ROOT / "deploy" / "kubernetes"
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_the_image_is_built_in_two_stages_from_the_lockfiles() -> None:
    instructions = _instructions()
    assert [op for op, _ in instructions].count("FROM") == 2
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "--require-hashes -r requirements.lock" in runs
    assert "--require-hashes -r requirements-build.lock" in runs
    final = _final_stage()
    assert [args for op, args in final if op == "COPY"] == ["--from=build /opt/bridge /opt/bridge"]


def test_the_image_runs_as_a_user_with_its_store_under_the_data_volume() -> None:
    final = dict(_final_stage())
    user = final["USER"].split(":")[0]
    assert user not in {"root", "0"}
    env = dict(pair.split("=", 1) for pair in shlex.split(final["ENV"]))
    assert all(_setting_exists(name) for name in env if name.startswith("BRIDGE_"))
    assert env["BRIDGE_STORE__URL"] == "sqlite+aiosqlite:////data/bridge.db"
    assert final["VOLUME"] == '["/data"]' and final["WORKDIR"] == "/data"
    assert "/health" in final["HEALTHCHECK"] and "BRIDGE_HTTP__PORT" in final["HEALTHCHECK"]


def test_the_build_context_leaves_secrets_and_stores_out() -> None:
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"  # an allow-list: .env, .git, .venv, tests never reach the image
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {
        word.rstrip("/")
        for op, args in _instructions()
        if op == "COPY" and "--from" not in args
        for word in args.split()[:-1]
    }
    assert copied <= allowed, copied - allowed
    assert {"**/*.db", "**/__pycache__"} <= set(rules)


def test_compose_starts_each_service_once_what_it_needs_is_healthy() -> None:
    assert "healthcheck" in SERVICES["kafka"] and "healthcheck" in SERVICES["bridge"]
    for name, service in SERVICES.items():
        for needed, condition in (service.get("depends_on") or {}).items():
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}, name
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[needed], needed
    probe = " ".join(SERVICES["bridge"]["healthcheck"]["test"])
    assert f":{SERVICES['bridge']['environment']['BRIDGE_HTTP__PORT']}/health" in probe


def _manifests() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    found = {}
    for name in kustomization["resources"]:
        document = yaml.safe_load((KUBE / name).read_text())
        found[document["kind"]] = document
    return found


def test_the_kubernetes_manifests_run_several_probed_instances_on_postgresql() -> None:
    m = _manifests()
    assert {"Deployment", "Service", "PodDisruptionBudget", "Secret", "ConfigMap"} <= m.keys()
    deployment = m["Deployment"]["spec"]
    pod = deployment["template"]
    [container] = pod["spec"]["containers"]
    assert deployment["replicas"] > 1
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    settings = yaml.safe_load((KUBE / "settings.yaml").read_text())["data"]
    secrets = m["Secret"]["stringData"]
    for name in [*settings, *secrets]:
        assert _setting_exists(name), f"{name} is not a setting"
    assert secrets["BRIDGE_STORE__URL"].startswith("postgresql+asyncpg://")
    [port] = container["ports"]
    assert port["containerPort"] == int(settings["BRIDGE_HTTP__PORT"])
    assert {container["livenessProbe"]["httpGet"]["port"], m["Service"]["spec"]["ports"][0]["targetPort"]} == {
        port["name"]
    }
    labels = pod["metadata"]["labels"]
    for selector in (
        deployment["selector"]["matchLabels"],
        m["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        m["Service"]["spec"]["selector"],
    ):
        assert selector.items() <= labels.items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_mappings_configmap_is_the_repositorys_set_and_loads_where_it_is_mounted(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("render", KUBE / "render_mappings_configmap.py")
    assert spec and spec.loader
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    assert (KUBE / "mappings-configmap.yaml").read_text() == render.render(ROOT / "mappings"), (
        "stale: python deploy/kubernetes/render_mappings_configmap.py > deploy/kubernetes/mappings-configmap.yaml"
    )

    # lay the volume out as the kubelet does (key → path, by the Deployment's items)
    data = yaml.safe_load((KUBE / "mappings-configmap.yaml").read_text())["data"]
    pod = _manifests()["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "mappings")
    volume = next(v for v in pod["volumes"] if v["name"] == "mappings")
    items = {item["key"]: item["path"] for item in volume["configMap"]["items"]}
    assert items.keys() == data.keys(), "every key of the ConfigMap is mounted, and only those"
    for key, path in items.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(data[key])
    settings = yaml.safe_load((KUBE / "settings.yaml").read_text())["data"]
    assert settings["BRIDGE_MAPPINGS_DIR"] == mount["mountPath"]
    assert load_mapping_set(tmp_path).content_hash == load_mapping_set(ROOT / "mappings").content_hash


def healthcheck_command() -> list[str]:
    """The image's HEALTHCHECK command (exec form)."""
    import json

    final = dict(_final_stage())
    return json.loads(final["HEALTHCHECK"].split(" CMD ", 1)[1])
