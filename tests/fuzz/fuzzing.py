"""Fuzz one service's HTTP API from its own OpenAPI document, in process, with schemathesis.

For each operation of the document, schemathesis generates requests (hypothesis strategies:
positive data that fits the document and negative data that does not), sends them to the app
over ASGI and checks every answer: no server error, a status the operation documents, a body,
a content type and headers that its description of that status gives. A failing check does not stop the
run: each distinct failure (operation, check, status) is kept with a request that reproduces it.

The test suite runs it with few examples per operation (tests/fuzz/test_fuzz.py); `make fuzz`
with many more (tests/fuzz/run.py).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import hypothesis
import hypothesis.errors
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
BOTH_MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def examples_per_operation(default: int) -> int:
    """FUZZ_EXAMPLES (a longer run) or the caller's bound."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


def seed_from_environment() -> int | None:
    """FUZZ_SEED: another fixed seed for a longer run; unset, the run is derandomised (the same every time)."""
    raw = os.environ.get("FUZZ_SEED")
    return int(raw) if raw else None


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    status: int
    message: str
    reproduce: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.check} (status {self.status})\n  {self.message}\n  {self.reproduce}"


@dataclass
class Report:
    service: str
    operations: int = 0
    requests: int = 0
    seconds: float = 0.0
    findings: dict[tuple[str, str, int], Finding] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        self.findings.setdefault((finding.operation, finding.check, finding.status), finding)

    def describe(self) -> str:
        head = (
            f"{self.service}: {len(self.findings)} failure(s) in {self.requests} requests"
            f" to {self.operations} operations, {self.seconds:.1f} s"
        )
        return "\n".join([head, *(str(f) for f in self.findings.values())])


@contextmanager
def serving(app: FastAPI) -> Iterator[schemathesis.BaseSchema]:
    """The app's OpenAPI document, loaded by schemathesis from the app. The app's lifespan (its
    runtime: database, broker, relay) runs on schemathesis' ASGI event loop, where the requests are
    handled, from the first request until the end of the block."""
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        _wait_until_ready(app)
        yield schema
    finally:
        asgi.shutdown_lifespans()


def _wait_until_ready(app: FastAPI, within_s: float = 30.0) -> None:
    """Fuzz a ready app: /readyz answers 503 until the broker connection and the consumer are up."""
    deadline = time.monotonic() + within_s
    with asgi.get_client(app) as client:
        while (answer := client.get("/readyz")).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {within_s} s: {answer.text}")
            time.sleep(0.05)


def fuzz(
    schema: schemathesis.BaseSchema,
    service: str,
    *,
    headers: Mapping[str, str],
    examples: int,
    seed: int | None = None,
    modes: Sequence[GenerationMode] = BOTH_MODES,
    expect_status: int | None = None,
    documenting: str | None = None,
) -> Report:
    """Send up to `examples` generated requests per operation and generation mode: derandomised
    (the same requests every run) unless a `seed` is given. With `expect_status`, an answer with
    another status is a failure too; with `documenting`, only the operations that document that status run."""
    report = Report(service)
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if documenting is not None and documenting not in operation.responses.status_codes:
            continue
        report.operations += 1
        for mode in modes:
            _fuzz_operation(operation, mode, report, dict(headers), examples, seed, expect_status)
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    report: Report,
    headers: dict[str, str],
    examples: int,
    seed: int | None,
    expect_status: int | None,
) -> None:
    @hypothesis.settings(
        max_examples=examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: a failure is recorded, not raised, so the run goes on to the other operations.
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        report.requests += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:
            # The app answered 500 and re-raised (the framework's server error middleware does both).
            report.add(_finding(case, 500, AssertionError(f"unhandled {type(exc).__name__}: {exc}")))
            return
        failures: list[BaseException] = []
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Failure as failure:
            failures.append(failure)
        except BaseExceptionGroup as group:
            failures.extend(group.exceptions)
        if expect_status is not None and response.status_code != expect_status:
            failures.append(AssertionError(f"expected {expect_status}: {response.text[:200]}"))
        for failure in failures:
            report.add(_finding(case, response.status_code, failure))

    if seed is not None:
        run = hypothesis.seed(seed)(run)
    # An operation without parameters nor body has nothing to make invalid: no negative case.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


def _finding(case: schemathesis.Case, status: int, failure: BaseException) -> Finding:
    return Finding(
        operation=case.operation.label,
        check=str(getattr(failure, "title", type(failure).__name__)),
        status=status,
        message=" ".join(str(getattr(failure, "message", failure)).split())[:600],
        reproduce=case.as_curl_command(),
    )
