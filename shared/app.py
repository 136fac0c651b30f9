"""The app factory every service uses: problem details, auth, health, metrics, tracing, lifespan.

A service's own `create_app(settings)` calls `build_app` with its spec and routers. The
lifespan starts the runtime (broker connection, outbox relay, consumer) and drains it on exit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import BaseRoute

from shared import clock
from shared.auth import Role, TokenVerifier, current_principal
from shared.db import reading
from shared.errors import Forbidden, RuleViolation
from shared.events.asyncapi import Participant, asyncapi_document
from shared.http import BodySizeLimit, install_problem_handlers, json_bodies_only
from shared.idempotent_creates import IdempotentCreates
from shared.metrics import metrics_router
from shared.openapi import document_conventions
from shared.ratelimit import RateLimited, RateLimiter, on_rate_limited, write_rate_limit
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import ServiceSettings, uses_development_secret
from shared.storable_text import text_without_nul
from shared.telemetry import configure_logging, configure_telemetry, instrument_app
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


def build_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    *,
    resources: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """`resources` opens what a service needs beside the runtime (a client for another service)
    for the app's lifetime, with `app.state` to put it on."""
    configure_logging(spec.name, level=settings.log_level, json_lines=settings.log_json)
    configure_telemetry(spec.name)
    if uses_development_secret(settings) and settings.environment != "test":
        log.warning(
            "INSECURE: the built-in development JWT secret is in use (environment=%s): anyone can mint tokens"
            " for %s. Set ITSM_JWT_SECRET or ITSM_JWT_JWKS_URL.",
            settings.environment,
            spec.name,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(spec, settings, run_worker=settings.run_worker)
        app.state.runtime = runtime
        await runtime.start()
        try:
            if resources is None:
                yield
            else:
                async with resources(app):
                    yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        dependencies=[Depends(write_rate_limit), json_bodies_only(), text_without_nul(), Depends(occurred_at_override)],
    )
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(
        secret=settings.jwt_secret.get_secret_value(),
        jwks_url=settings.jwt_jwks_url,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        max_lifetime=timedelta(hours=settings.jwt_max_lifetime_hours),
    )
    if settings.write_rate_per_minute > 0:
        app.state.rate_limiter = RateLimiter(settings.write_rate_per_minute, settings.write_burst)
    install_problem_handlers(app)
    app.add_exception_handler(RateLimited, on_rate_limited)
    keys = spec.metadata.tables.get("idempotency_key")
    if keys is not None:
        app.add_middleware(IdempotentCreates, table=keys, claimed_elsewhere=spec.keys_claimed_by_use_case)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        bulk_paths=spec.bulk_paths,
        bulk_max_bytes=settings.max_bulk_body_bytes,
    )
    offenders = holding_two_connections(route for router in routers for route in router.routes)
    if offenders:
        raise RuntimeError(
            f"{spec.name}: a route takes ReadConnectionDep (or a load-or-404 dependency on it) or UnitOfWorkDep,"
            f" never both; the use case reads what the answer needs: {', '.join(offenders)}"
        )
    app.include_router(asyncapi_router(spec, settings))
    app.include_router(metrics_router())
    included = [health_router(), *routers]
    for router in included:
        app.include_router(router)
    instrument_app(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_conventions(
            generate(), [r for router in included for r in router.routes], idempotent_creates=keys is not None
        )

    app.openapi = openapi  # type: ignore[method-assign]
    return app


FUTURE_SKEW = timedelta(minutes=1)


async def occurred_at_override(request: Request) -> AsyncIterator[None]:
    """`X-ITSM-Occurred-At` (see shared.clock): the time an administrator's import records."""
    raw = request.headers.get(clock.OCCURRED_AT_HEADER)
    if raw is None:
        yield
        return
    settings: ServiceSettings = request.app.state.settings
    principal = await current_principal(request)
    if Role.ADMIN not in principal.roles:
        raise Forbidden(f"{clock.OCCURRED_AT_HEADER} is for the admin role only (imports of history)")
    field = f"header.{clock.OCCURRED_AT_HEADER}"
    if settings.backdate_max_days == 0:
        raise RuleViolation("recording past occurrences is turned off here (BACKDATE_MAX_DAYS=0)", field=field)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise RuleViolation("an ISO 8601 date-time with an offset, e.g. 2026-11-02T09:30:00Z", field=field) from None
    if moment.tzinfo is None:
        raise RuleViolation("needs an offset (Z or +hh:mm)", field=field)
    now = datetime.now(UTC)
    if moment > now + FUTURE_SKEW:
        raise RuleViolation("is in the future", field=field)
    if moment < now - timedelta(days=settings.backdate_max_days):
        raise RuleViolation(f"is more than {settings.backdate_max_days} days back", field=field)
    log.info(
        "recording as of %s for %s (%s %s)", moment.isoformat(), principal.subject, request.method, request.url.path
    )
    with clock.occurring_at(moment):
        yield


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database and broker reachable, consumer attached",
        responses={
            503: {"description": "Not ready: `checks` names what is unreachable", "content": {"application/json": {}}}
        },
    )
    async def readyz(request: Request) -> JSONResponse:
        readiness = await runtime_of(request).readiness()
        answer: dict[str, Any] = {
            "status": "ok" if readiness.ready else "unavailable",
            "checks": readiness.checks,
            "outbox_backlog": readiness.outbox_backlog,
        }
        if readiness.details:  # what a service adds (config: its capacity source); never a condition
            answer["details"] = readiness.details
        return JSONResponse(answer, status_code=200 if readiness.ready else 503)

    return router


def asyncapi_router(spec: ServiceSpec, settings: ServiceSettings) -> APIRouter:
    """`/asyncapi.json`: the AsyncAPI 3.0 document of the events this service sends and receives.
    Public like `/openapi.json`, and like it not part of the OpenAPI document."""
    router = APIRouter()
    document: dict[str, Any] = {}

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        if not document:  # built at the first request: most apps (tests, workers) never serve it
            participant = Participant(spec.name, tuple(spec.handlers), settings.queue_name())
            document.update(
                asyncapi_document(
                    [participant],
                    exchange=settings.events_exchange,
                    title=f"{spec.title}: events",
                    version=spec.version,
                )
            )
        return JSONResponse(document)

    return router


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def unit_of_work(request: Request) -> UnitOfWork:
    return runtime_of(request).unit_of_work()


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """The request's connection for reads (see `shared.db.reading`), shared by the route and its
    load-or-404 dependencies and held until the answer is sent."""
    async with reading(runtime_of(request).engine) as conn:
        yield conn


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
ReadConnectionDep = Annotated[AsyncConnection, Depends(read_connection)]


def holding_two_connections(routes: Iterable[BaseRoute]) -> list[str]:
    """The routes ("POST /path") that depend, directly or through other dependencies, on both the
    request's read connection and a unit of work. The read connection is held until the answer is
    sent, so such a route would hold one connection while its use case waits for a second: behind
    the pool, which as many such requests as it has connections empty for good (until the pool's
    timeout), and on SQLite behind the lock the first one's reads may hold. `build_app` refuses them.
    """
    offenders: list[str] = []
    for route in routes:
        if isinstance(route, APIRoute):
            calls = _dependency_calls(route.dependant)
            if read_connection in calls and unit_of_work in calls:
                offenders.extend(f"{method} {route.path}" for method in sorted(route.methods or ()))
    return offenders


def _dependency_calls(dependant: Dependant) -> set[Callable[..., Any]]:
    calls: set[Callable[..., Any]] = set()
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            calls.add(dependency.call)
        calls |= _dependency_calls(dependency)
    return calls
