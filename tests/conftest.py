"""Shared fixtures: each area keeps its fixtures in ``tests/fixtures/<area>.py``."""

import pytest

from tests.fixtures.markers import mark_server_tests, remember_selected_marks

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.store",
    "tests.fixtures.events",
    "tests.fixtures.postgres",
    "tests.e2e.broker_harness",
    "tests.fixtures.scenarios",
]


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_server_tests(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    remember_selected_marks(session)
