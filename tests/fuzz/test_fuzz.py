"""Every service's API fuzzed from its own OpenAPI document (tests/fuzz/fuzzing.py), with a fixed
(derandomised) seed and a bound on the examples: no server error, and every answer (status, body,
content type) is one the document describes. Without a token, every operation that documents 401
answers it. `make fuzz` runs the same with many more examples (docs/fuzzing.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from schemathesis import GenerationMode

from tests.fuzz.apps import SERVICES, fuzz_app
from tests.fuzz.fuzzing import Report, examples_per_operation, fuzz, seed_from_environment, serving
from tests.infra import Servers, create_service_database

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    # schemathesis' own strategies draw from `random`; hypothesis warns about it on every operation.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = 5
"""Per operation and generation mode (positive, negative): the five services in one to three minutes on
the 2-core development machine, as loaded as it is."""


async def _fuzzed(servers: Servers, make_settings: Callable[..., Any], service: str, **options: Any) -> Report:
    database_url = await create_service_database(servers, service, label="fuzz")
    app = fuzz_app(service, make_settings, database_url, servers.new_queue_prefix(f"fuzz{service}"))

    def run() -> Report:
        with serving(app) as schema:
            return fuzz(schema, service, **options)

    # schemathesis sends its requests from this thread and runs the app on an event loop of its own.
    return await asyncio.to_thread(run)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_answer_is_one_the_document_describes(
    service: str, servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    report = await _fuzzed(
        servers,
        make_settings,
        service,
        headers=auth("admin"),
        examples=examples_per_operation(EXAMPLES),
        seed=seed_from_environment(),
    )
    assert report.operations > 10 and report.requests >= report.operations, report.describe()
    assert report.findings == {}, report.describe()


@pytest.mark.parametrize("service", SERVICES)
async def test_without_a_token_every_operation_answers_its_documented_401(
    service: str, servers: Servers, make_settings: Callable[..., Any]
) -> None:
    report = await _fuzzed(
        servers,
        make_settings,
        service,
        headers={},
        examples=1,
        modes=[GenerationMode.POSITIVE],
        expect_status=401,
        documenting="401",
    )
    assert report.operations >= 10, report.describe()  # notify, the smallest API, has 10
    assert report.findings == {}, report.describe()
