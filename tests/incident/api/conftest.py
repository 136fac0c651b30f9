"""Each module of incident API tests consumes from queues of its own.

The incident service consumes its own `incident.created.v1` (problem analysis) and config's CI
events; on the run's shared queue an app would also take the events other modules left behind
and write problems and links for them into its database (and outbox), which the tests here
count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infra import Servers


@pytest.fixture(scope="module")
def make_settings(
    request: pytest.FixtureRequest, servers: Servers, make_settings: Callable[..., Any]
) -> Callable[..., Any]:
    prefix = servers.new_queue_prefix(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20])

    def build(settings_cls: type[Any], database_url: str, **overrides: Any) -> Any:
        return make_settings(settings_cls, database_url, **{"queue_prefix": prefix, **overrides})

    return build
