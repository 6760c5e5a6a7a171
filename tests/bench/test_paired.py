"""The paired rules measurement compares like with like: the same batches through both mapping
sets, each on its own copy of the store, and it refuses rules that change what is emitted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bench.paired import MIN_BATCHES, WARMUP_BATCHES, OutputsDiffer, paired_rules_run
from bench.rules import MAPPINGS, mappings_with_extra_rules
from bench.store_seed import SqliteTemplates
from bench.workload import build_stream

LINKS = 100


@pytest.fixture(scope="module")
def stream() -> list:
    return build_stream(7, "tiny", 300)


async def test_irrelevant_rules_are_timed_batch_by_batch(stream: list, tmp_path: Path) -> None:
    extra = mappings_with_extra_rules(tmp_path / "extra", 50)
    run = await paired_rules_run(stream, SqliteTemplates(tmp_path), LINKS, MAPPINGS, extra)

    size = len(stream) // MIN_BATCHES  # a short workload: smaller batches than the bridge's
    batches = -(-len(stream) // size)
    assert run.batches == batches - WARMUP_BATCHES
    assert run.events == len(stream) - WARMUP_BATCHES * size
    assert run.base_cpu_us_per_event > 0 and run.variant_cpu_us_per_event > 0
    assert run.ratio == pytest.approx(run.base_cpu_us_per_event / run.variant_cpu_us_per_event)
    assert run.batch_ratio_p25 <= run.batch_ratio_p50 <= run.batch_ratio_p75


async def test_rules_that_change_the_outputs_are_refused(stream: list, tmp_path: Path) -> None:
    relevant = tmp_path / "relevant"
    shutil.copytree(MAPPINGS, relevant)
    (relevant / "zz_relevant.yaml").write_text(
        yaml.safe_dump(
            {
                "table_maps": [
                    {
                        "name": "wins_every_case",
                        "source_table": "sn_customerservice_case",
                        "target": {"system": "fsm", "table": "wm_order"},
                        "order": 1000,
                        "fields": [{"field": "short_description", "set": "not what the shipped map says"}],
                    }
                ]
            }
        )
    )

    with pytest.raises(OutputsDiffer, match="not irrelevant"):
        await paired_rules_run(stream, SqliteTemplates(tmp_path), LINKS, MAPPINGS, relevant)
