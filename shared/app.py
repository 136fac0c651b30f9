"""The app factory every service uses: problem details, auth, health, tracing, lifespan.

A service's own `create_app(settings)` calls `build_app` with its spec and routers. The
lifespan starts the runtime (broker connection, outbox relay, consumer) and drains it on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.auth import TokenVerifier
from shared.http import PROBLEM_RESPONSES, BodySizeLimit, install_problem_handlers
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import ServiceSettings
from shared.telemetry import configure_logging, configure_telemetry, instrument_app
from shared.uow import UnitOfWork


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
        responses=PROBLEM_RESPONSES,
    )
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(
        secret=settings.jwt_secret.get_secret_value(),
        jwks_url=settings.jwt_jwks_url,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    install_problem_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        bulk_paths=spec.bulk_paths,
        bulk_max_bytes=settings.max_bulk_body_bytes,
    )
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    instrument_app(app)
    return app


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and broker reachable, consumer attached")
    async def readyz(request: Request) -> JSONResponse:
        checks = await runtime_of(request).readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
        )

    return router


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def unit_of_work(request: Request) -> UnitOfWork:
    return runtime_of(request).unit_of_work()


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with runtime_of(request).engine.connect() as conn:
        yield conn


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
ReadConnectionDep = Annotated[AsyncConnection, Depends(read_connection)]
