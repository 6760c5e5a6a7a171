"""Configuration an operator can trust, and failures in one line, through the real CLI.

Each command runs as a user runs it: ``python cli.py …`` in a subprocess, in an empty working
folder (the default SQLite store would land there), with no ``BRIDGE_*`` variable but those a
test sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.postgres import fresh_database

CLI = Path(__file__).resolve().parents[2] / "cli.py"
MAPPINGS = CLI.parent / "mappings"
SECRET = "SuperSecret-7d1f"
PG_WITH_PASSWORD = f"postgresql+asyncpg://bridge:{SECRET}@127.0.0.1:1/bridge"


def bridge(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("BRIDGE_")}
    return subprocess.run(
        [sys.executable, str(CLI), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**base, **env, "COLUMNS": "100"},
        timeout=120,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (and no traceback anywhere)."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


def test_an_invalid_value_is_refused_with_its_variable_and_what_is_allowed(tmp_path: Path) -> None:
    done = bridge(tmp_path, "config", "show", BRIDGE_STORE__URL="nonsense")
    assert done.returncode == 2 and done.stdout == ""
    line = one_line(done)
    assert line.startswith("error: BRIDGE_STORE__URL: ") and "sqlite+aiosqlite:///" in line

    several = bridge(
        tmp_path,
        "config",
        "check",
        BRIDGE_KAFKA__SECURITY_PROTOCOL="TLS",
        BRIDGE_LOG_LEVEL="loud",
        BRIDGE_HTTP__PORT="http",
    )
    assert several.returncode == 2
    lines = several.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "BRIDGE_KAFKA__SECURITY_PROTOCOL",
        "BRIDGE_HTTP__PORT",
        "BRIDGE_LOG_LEVEL",
    ]
    assert "'PLAINTEXT', 'SSL', 'SASL_SSL' or 'SASL_PLAINTEXT'" in lines[0]
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in lines[2]
    # What would only fail later, deep in a start-up, is refused at once too.
    later = bridge(
        tmp_path,
        "config",
        "check",
        BRIDGE_STORE__PORTAL_ROLE="portal; DROP TABLE x",
        BRIDGE_TOPICS__CSM_EVENTS="csm events",
    )
    assert [line.split(":")[1].strip() for line in later.stderr.splitlines()] == [
        "BRIDGE_TOPICS__CSM_EVENTS",
        "BRIDGE_STORE__PORTAL_ROLE",
    ]
    # The mappings folder is part of the configuration too.
    missing = bridge(tmp_path, "config", "check", BRIDGE_MAPPINGS_DIR=str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert one_line(missing).startswith(
        f"error: BRIDGE_MAPPINGS_DIR: the mappings in {tmp_path / 'nowhere'} are invalid: 1 mapping error(s)"
    )
    valid = bridge(tmp_path, "config", "check", "--json", BRIDGE_MAPPINGS_DIR=str(MAPPINGS))
    assert valid.returncode == 0 and json.loads(valid.stdout) == {"valid": True, "problems": []}


def test_config_show_masks_every_secret_passwords_in_urls_too(tmp_path: Path) -> None:
    env = {
        "BRIDGE_STORE__URL": PG_WITH_PASSWORD,
        "BRIDGE_HTTP__PORTAL_TOKEN": "token-" + SECRET,
        "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": f"SASL_SSL://svc:{SECRET}@broker-1:9093,broker-2:9093",
        "BRIDGE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "BRIDGE_KAFKA__SASL_MECHANISM": "PLAIN",
        "BRIDGE_KAFKA__SASL_USERNAME": "svc",
        "BRIDGE_KAFKA__SASL_PASSWORD": "sasl-" + SECRET,
    }
    shown = bridge(tmp_path, "config", "show", "--json", **env)
    assert shown.returncode == 0, shown.stderr
    assert SECRET not in shown.stdout
    data = json.loads(shown.stdout)
    # What tells an operator which server is meant stays readable.
    assert data["store"]["url"] == "postgresql+asyncpg://bridge:***@127.0.0.1:1/bridge"
    assert data["kafka"]["bootstrap_servers"] == "SASL_SSL://svc:***@broker-1:9093,broker-2:9093"
    assert data["kafka"]["sasl_username"] == "svc"
    text = bridge(tmp_path, "config", "show", **env)
    assert text.returncode == 0 and SECRET not in text.stdout
    assert "BRIDGE_STORE__URL = postgresql+asyncpg://bridge:***@127.0.0.1:1/bridge" in text.stdout


def test_a_store_that_cannot_be_reached_is_one_line_without_its_password(tmp_path: Path) -> None:
    for args in (("dlq", "list"), ("db", "upgrade")):
        done = bridge(tmp_path, *args, BRIDGE_STORE__URL=PG_WITH_PASSWORD)
        assert done.returncode == 1
        line = one_line(done)
        assert "BRIDGE_STORE__URL" in line and "bridge:***@127.0.0.1:1" in line and SECRET not in line
        assert "ConnectionRefusedError" in line


def test_the_issues_tracebacks_are_one_line_each_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    upgrade = bridge(tmp_path, "db", "upgrade", BRIDGE_STORE__URL="nonsense")
    assert upgrade.returncode == 2 and "BRIDGE_STORE__URL" in one_line(upgrade)

    ca = tmp_path / "missing-ca.pem"
    topics = bridge(tmp_path, "topics", "list", BRIDGE_KAFKA__SECURITY_PROTOCOL="SSL", BRIDGE_KAFKA__SSL_CAFILE=str(ca))
    assert topics.returncode == 2
    assert one_line(topics) == f"error: BRIDGE_KAFKA__SSL_CAFILE: no such file: {ca}"

    debug = bridge(tmp_path, "--debug", "db", "upgrade", BRIDGE_STORE__URL="nonsense")
    assert debug.returncode != 0 and "Traceback" in debug.stderr + debug.stdout
    assert len(debug.stderr.splitlines()) > 10


def test_an_unreachable_broker_names_the_setting(tmp_path: Path) -> None:
    done = bridge(tmp_path, "topics", "list", BRIDGE_KAFKA__BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert done.returncode == 1
    line = one_line(done)
    assert line == (
        "error: nothing accepts connections at 127.0.0.1:1: check BRIDGE_KAFKA__BOOTSTRAP_SERVERS "
        "and that the broker is running"
    )


READ_ONLY_COMMANDS = [
    ("dlq", "list"),
    ("dlq", "show", "dl-1"),
    ("dlq", "purge", "--before", "30d"),
    ("dlq", "retry", "--all"),
    ("inspect", "case", "CS0001"),
    ("explain", "case", "CS0001"),
    ("visibility", "check"),
    ("visibility", "rebuild"),
    ("visibility", "who", "WO0001"),
    ("replay", "--topic", "csm.events", "--from-offset", "0"),
]


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=" ".join)
def test_read_only_commands_never_create_a_store(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = bridge(tmp_path, *args, BRIDGE_KAFKA__BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert done.returncode == 1
    assert one_line(done) == (
        "error: no store at bridge.db (BRIDGE_STORE__URL=sqlite+aiosqlite:///bridge.db): "
        "run `bridge db upgrade` or start the bridge to create it"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_was_never_migrated_is_named_and_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "bridge.db").touch()
    done = bridge(tmp_path, "dlq", "list")
    assert done.returncode == 1
    assert "was never migrated: run `bridge db upgrade`" in one_line(done)
    assert [p.name for p in tmp_path.iterdir()] == ["bridge.db"]
    assert (tmp_path / "bridge.db").stat().st_size == 0


async def test_a_never_migrated_postgresql_database_stays_empty(postgres_url: str, tmp_path: Path) -> None:
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    async with fresh_database(postgres_url) as url:
        done = await asyncio.to_thread(bridge, tmp_path, "dlq", "list", "--json", BRIDGE_STORE__URL=url)
        assert done.returncode == 1 and done.stdout == ""
        assert "was never migrated" in one_line(done)
        db = make_url(url)
        conn = await asyncpg.connect(host=db.host, port=db.port, user=db.username, database=db.database)
        try:
            assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        finally:
            await conn.close()


def test_a_migrated_store_is_read_without_being_written(tmp_path: Path) -> None:
    assert bridge(tmp_path, "db", "upgrade").returncode == 0
    store = tmp_path / "bridge.db"
    before = store.stat().st_mtime_ns, store.stat().st_size
    store.chmod(0o444)  # a write would fail: the reads must not need one
    try:
        listed = bridge(tmp_path, "dlq", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        purge = bridge(tmp_path, "dlq", "purge", "--before", "1d", "--json")
        assert purge.returncode == 0, purge.stderr
        assert json.loads(purge.stdout)["executed"] is False
    finally:
        store.chmod(0o644)
    assert (store.stat().st_mtime_ns, store.stat().st_size) == before


def test_mistyped_variables_are_named_with_the_setting_they_meant(tmp_path: Path) -> None:
    for typo, meant in (("BRIDGE_STORE_URL", "BRIDGE_STORE__URL"), ("BRIDGE_MAPPING_DIR", "BRIDGE_MAPPINGS_DIR")):
        for args in (("dlq", "list"), ("run",), ("config", "show")):
            done = bridge(tmp_path, *args, **{typo: "x"})
            assert done.returncode == 2, (args, done.stderr)
            assert f"{typo} (from environment) is not a setting and is ignored; did you mean {meant}?" in one_line(done)
    # A variable that resembles no setting is only a warning (the command goes on)...
    other = bridge(tmp_path, "mappings", "schema", BRIDGE_DEPLOYED_BY="ci")
    assert other.returncode == 0
    assert other.stderr == "warning: BRIDGE_DEPLOYED_BY (from environment) is not a setting and is ignored\n"
    # ...but `config check`, the gate before a deploy, fails on it, and so on one in .env.
    (tmp_path / ".env").write_text("BRIDGE_LOG_LEVL=DEBUG\n")
    check = bridge(tmp_path, "config", "check", BRIDGE_DEPLOYED_BY="ci", BRIDGE_MAPPINGS_DIR=str(MAPPINGS))
    assert check.returncode == 2
    assert check.stderr.splitlines() == [
        "error: BRIDGE_DEPLOYED_BY (from environment) is not a setting and is ignored",
        "error: BRIDGE_LOG_LEVL (from .env) is not a setting and is ignored; did you mean BRIDGE_LOG_LEVEL?",
    ]
    # The variables the bridge and its tests read outside the settings are not reported.
    (tmp_path / ".env").unlink()
    assert (
        bridge(
            tmp_path,
            "config",
            "check",
            BRIDGE_KAFKA_CACHE="/tmp/k",
            BRIDGE_TEST_POSTGRES_URL="x",
            BRIDGE_MAPPINGS_DIR=str(MAPPINGS),
        ).returncode
        == 0
    )


def test_option_values_are_validated_and_the_version_is_shown(tmp_path: Path) -> None:
    bogus = bridge(tmp_path, "dlq", "list", "--status", "bogus")
    assert bogus.returncode == 2
    assert one_line(bogus) == "error: --status: 'bogus' is not a status; expected one of new, retried, quarantined"
    version = bridge(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("bridge ")
    assert version.stdout.split()[1][0].isdigit()


def test_logs_mask_passwords_inside_urls_and_dsns() -> None:
    """Through the real logging set-up (in a process of its own: it is global), our loggers
    and a library's (stdlib) alike."""
    program = f"""
import logging, structlog
from bridge.logs import configure_logging
configure_logging("json", "INFO")
structlog.get_logger("bridge.test").warning(
    "store.unreachable", url={PG_WITH_PASSWORD!r}, dsn="host=db user=bridge password={SECRET}")
logging.getLogger("asyncpg.test").warning("cannot connect to %s", {PG_WITH_PASSWORD!r})
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines[0]["url"] == "postgresql+asyncpg://bridge:***@127.0.0.1:1/bridge"
    assert lines[0]["dsn"] == "host=db user=bridge password=***"
    assert lines[1]["event"] == "cannot connect to postgresql+asyncpg://bridge:***@127.0.0.1:1/bridge"


def test_bridge_run_logs_a_variable_that_resembles_no_setting(tmp_path: Path) -> None:
    """`bridge run` starts all the same (a shared environment may hold it); its first log line
    names it. The broker is unreachable here: only the start matters."""
    import signal

    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("BRIDGE_")}
    env = {
        **base,
        "BRIDGE_DEPLOYED_BY": "ci",
        "BRIDGE_HTTP__PORT": "0",
        "BRIDGE_LOG_FORMAT": "json",
        "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "BRIDGE_MAPPINGS_DIR": str(MAPPINGS),
    }
    process = subprocess.Popen(
        [sys.executable, str(CLI), "run"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        first = json.loads(process.stderr.readline())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert first["event"] == "config.unknown_variable" and first["level"] == "warning"
    assert (first["variable"], first["did_you_mean"]) == ("BRIDGE_DEPLOYED_BY", None)


def test_bridge_run_refuses_an_invalid_value_before_starting_anything(tmp_path: Path) -> None:
    done = bridge(tmp_path, "run", BRIDGE_HTTP__PORT="99999", BRIDGE_CONSUMER__MAX_RECORDS="0")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: BRIDGE_CONSUMER__MAX_RECORDS: Input should be greater than or equal to 1",
        "error: BRIDGE_HTTP__PORT: Input should be less than or equal to 65535",
    ]
    assert list(tmp_path.iterdir()) == []  # no store created


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+asyncpg://bridge:p@ss/word@db:5432/x", "postgresql+asyncpg://bridge:***@db:5432/x"),
        ("postgresql+asyncpg://bridge:pa/ss@db/x", "postgresql+asyncpg://bridge:***@db/x"),
        (
            "postgresql+asyncpg://db/x?user=a&password=s3&ssl=require",
            "postgresql+asyncpg://db/x?user=a&password=***&ssl=require",
        ),
        ("host=db user=a password=s3 dbname=x", "host=db user=a password=*** dbname=x"),
        ("SASL_SSL://u:s3@b1:9093,u:s3@b2:9093", "SASL_SSL://u:***@b1:9093,u:***@b2:9093"),
        ("sqlite+aiosqlite:///data/bridge.db", "sqlite+aiosqlite:///data/bridge.db"),
        ("b1:9092,b2:9092", "b1:9092,b2:9092"),
    ],
)
def test_the_masking_rule(text: str, shown: str) -> None:
    from bridge.redaction import mask_secrets

    assert mask_secrets(text) == shown
