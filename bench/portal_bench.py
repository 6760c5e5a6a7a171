"""Portal API latency over real HTTP with 10k accounts and 100k work orders (issue 5).

Not a test: ``python -m bench.portal_bench [--postgres-url URL | --local-postgres]`` populates a
fresh store through the index's own ``apply_changes`` (batches of 5 000 changes, as the
pipeline would hand them over), serves the portal with uvicorn on 127.0.0.1 and measures, for a
sample of users of each role, the list (first page, limit 100) and detail requests one at a time
with httpx. Prints markdown tables: population cost, incremental update cost, p50/p99 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bridge.portal import PortalServer, create_portal_app
from bridge.store.changes import RecordChange
from bridge.store.engine import create_engine
from bridge.tables import metadata
from bridge.visibility import apply_changes, install_rls, visible_work_orders

ACCOUNTS, WORK_ORDERS, CONTACTS, CONSUMERS = 10_000, 100_000, 20_000, 2_000
RELATIONSHIPS, CONTACT_LINKS, PARTNER_ACCOUNTS = 3_000, 1_000, 500
BATCH = 5_000
ROLE_MIX = [("customer", 0.55), ("customer_admin", 0.15), ("partner", 0.15), ("partner_admin", 0.05), ("", 0.10)]
TOKEN = "bench-token"


def ident(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128)).hex


def ref(sys_id: str | None) -> Any:
    return {"value": sys_id, "display_value": "x"} if sys_id else ""


class Landscape:
    """A deterministic population: hierarchy of depth ≤ 3, partners, contacts with roles."""

    def __init__(self, seed: int = 5) -> None:
        rng = self.rng = random.Random(seed)
        self.accounts = [ident(rng) for _ in range(ACCOUNTS)]
        self.partners = self.accounts[:PARTNER_ACCOUNTS]
        self.parent = {
            a: (rng.choice(self.accounts[: i // 4]) if i > 2_000 and rng.random() < 0.6 else None)
            for i, a in enumerate(self.accounts)
        }
        self.contacts = [(ident(rng), rng.choice(self.accounts), self._role()) for _ in range(CONTACTS)]
        self.consumers = [ident(rng) for _ in range(CONSUMERS)]

    def _role(self) -> str:
        pick, total = self.rng.random(), 0.0
        for role, share in ROLE_MIX:
            total += share
            if pick < total:
                return role
        return ""

    def changes(self):
        rng = self.rng
        yield from (
            RecordChange(
                "csm", "customer_account", a, "insert", None, {"name": f"Account {i}", "parent": ref(self.parent[a])}
            )
            for i, a in enumerate(self.accounts)
        )
        for _ in range(RELATIONSHIPS):
            yield RecordChange(
                "csm",
                "account_relationship",
                ident(rng),
                "insert",
                None,
                {"from_company": ref(rng.choice(self.partners)), "to_company": ref(rng.choice(self.accounts))},
            )
        for sys_id, account, role in self.contacts:
            yield RecordChange(
                "csm", "customer_contact", sys_id, "insert", None, {"account": ref(account), "roles": role}
            )
        yield from (RecordChange("csm", "csm_consumer", c, "insert", None, {"name": "c"}) for c in self.consumers)
        for _ in range(CONTACT_LINKS):
            contact = rng.choice(self.contacts)[0]
            yield RecordChange(
                "csm",
                "sn_customerservice_contact_relationship",
                ident(rng),
                "insert",
                None,
                {"contact": ref(contact), "company": ref(rng.choice(self.accounts))},
            )
        partner_contacts = [c for c, _, role in self.contacts if role == "partner"]
        for n in range(WORK_ORDERS):
            wo, case = ident(rng), ident(rng)
            record = {
                "number": f"WO{n:07d}",
                "state": "assigned",
                "priority": str(rng.randint(1, 4)),
                "short_description": "Printer jam",
                "initiated_from": ref(case),
                "account": ref(rng.choice(self.accounts)),
                "partner": ref(rng.choice(self.partners)),
                "contact": ref(rng.choice(self.contacts)[0]),
                "consumer": ref(rng.choice(self.consumers) if rng.random() < 0.1 else None),
                "partner_contact": ref(rng.choice(partner_contacts)),
            }
            yield RecordChange("fsm", "wm_order", wo, "insert", None, record)
            yield RecordChange("csm", "sn_customerservice_case", case, "insert", None, {"number": f"CS{n:07d}"})
            if n % 2 == 0:
                yield RecordChange(
                    "fsm",
                    "wm_task",
                    ident(rng),
                    "insert",
                    None,
                    {"number": f"WOT{n:07d}", "parent": ref(wo), "state": "assigned", "short_description": "t"},
                )


async def populate(engine, landscape: Landscape) -> dict[str, float]:
    started, count, batch = time.perf_counter(), 0, []
    for change in landscape.changes():
        batch.append(change)
        if len(batch) == BATCH:
            async with engine.begin() as conn:
                await apply_changes(conn, batch)
            count, batch = count + len(batch), []
    async with engine.begin() as conn:
        await apply_changes(conn, batch)
    seconds = time.perf_counter() - started
    return {"changes": count + len(batch), "seconds": seconds}


async def incremental_costs(engine, landscape: Landscape) -> dict[str, float]:
    """Milliseconds for one small batch of each kind of change that moves grants."""
    rng, costs = landscape.rng, {}
    admin, _, _ = next(c for c in landscape.contacts if c[2] == "partner_admin")
    root = next(a for a in landscape.accounts if landscape.parent[a] is None)
    kinds = {
        "contact moves account": RecordChange(
            "csm",
            "customer_contact",
            admin,
            "update",
            None,
            {"account": ref(rng.choice(landscape.accounts)), "roles": "partner_admin"},
        ),
        "new account relationship": RecordChange(
            "csm",
            "account_relationship",
            ident(rng),
            "insert",
            None,
            {"from_company": ref(root), "to_company": ref(rng.choice(landscape.accounts))},
        ),
        "account re-parented": RecordChange(
            "csm",
            "customer_account",
            rng.choice(landscape.accounts[2001:]),
            "update",
            None,
            {"name": "moved", "parent": ref(root)},
        ),
        "work order account changes": RecordChange(
            "fsm", "wm_order", ident(rng), "insert", None, {"number": "WO9999999", "account": ref(root)}
        ),
    }
    for name, change in kinds.items():
        started = time.perf_counter()
        async with engine.begin() as conn:
            await apply_changes(conn, [change])
        costs[name] = (time.perf_counter() - started) * 1000
    return costs


def sample_users(landscape: Landscape, per_role: int) -> dict[str, list[str]]:
    rng = random.Random(11)
    by_role: dict[str, list[str]] = {}
    for sys_id, _, role in landscape.contacts:
        by_role.setdefault(role or "no role", []).append(sys_id)
    by_role["consumer"] = landscape.consumers
    return {role: rng.sample(users, min(per_role, len(users))) for role, users in sorted(by_role.items())}


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def measure(engine, reader, users: dict[str, list[str]], repeats: int) -> list[dict[str, Any]]:
    rows = []
    async with (
        PortalServer(create_portal_app(reader, SecretStr(TOKEN))) as server,
        httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client,
    ):
        for role, sample in users.items():
            lists, details, sizes = [], [], []
            for user in sample:
                async with engine.connect() as conn:
                    page = await visible_work_orders(conn, user, limit=1)
                for _ in range(repeats):
                    started = time.perf_counter()
                    response = await client.get("/portal/v1/work-orders", params={"user": user})
                    lists.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                sizes.append(len(response.json()["result"]))
                if page.rows:
                    for _ in range(repeats):
                        started = time.perf_counter()
                        response = await client.get(
                            f"/portal/v1/work-orders/{page.rows[0]['sys_id']}", params={"user": user}
                        )
                        details.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200
            rows.append(
                {
                    "role": role,
                    "users": len(sample),
                    "avg rows (page ≤100)": statistics.mean(sizes),
                    "list p50": percentile(lists, 50),
                    "list p99": percentile(lists, 99),
                    "detail p50": percentile(details, 50) if details else float("nan"),
                    "detail p99": percentile(details, 99) if details else float("nan"),
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return "\n".join(lines)


async def run(url: str, backend: str, per_role: int, repeats: int) -> None:
    engine = create_engine(url)
    reader = create_engine(url, writer=False)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        if backend == "postgresql":
            await install_rls(conn)
    landscape = Landscape()
    population = await populate(engine, landscape)
    if backend == "sqlite":
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    costs = await incremental_costs(engine, landscape)
    users = sample_users(landscape, per_role)
    del landscape
    gc.collect()
    gc.freeze()  # the population's garbage is the benchmark's, not the portal's
    results = await measure(engine, reader, users, repeats)
    await engine.dispose()
    await reader.dispose()
    print(f"\n### Portal API on {backend}: {ACCOUNTS:,} accounts, {WORK_ORDERS:,} work orders, {CONTACTS:,} contacts\n")
    print(
        f"Population through `apply_changes` (batches of {BATCH}): {population['changes']:,} changes in "
        f"{population['seconds']:.1f} s ({population['changes'] / population['seconds']:,.0f} changes/s)\n"
    )
    print(table([{"one-change batch": k, "ms": v} for k, v in costs.items()]) + "\n")
    print("Latency in ms over HTTP (one client, sequential; list = first page, limit 100):\n")
    print(table(results))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", help="postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--local-postgres", action="store_true", help="start a throwaway local cluster")
    parser.add_argument("--users-per-role", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    async with AsyncExitStack() as stack:
        if args.local_postgres:
            from tests.fixtures.postgres import LocalPostgres, fresh_database

            server = stack.enter_context(LocalPostgres())
            args.postgres_url = await stack.enter_async_context(fresh_database(server.url))
        if args.postgres_url:
            await run(args.postgres_url, "postgresql", args.users_per_role, args.repeats)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portal-bench-")))
            await run(f"sqlite+aiosqlite:///{work / 'store.db'}", "sqlite", args.users_per_role, args.repeats)


if __name__ == "__main__":
    asyncio.run(main())
