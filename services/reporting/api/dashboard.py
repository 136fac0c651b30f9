"""The dashboard: a static page at `/` and the live stream of recorded events it listens to.

The page is public (it holds no data); everything it shows comes from the report API with the
caller's bearer token, which the page keeps in sessionStorage (see the README: a token is pasted
once, or handed over in the URL fragment `/#token=...` by `itsm dashboard`). The stream needs the
same token: the page reads it with `fetch` and an `Authorization` header rather than
`EventSource`, which cannot send one, so no token ever travels in a URL the server logs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from services.reporting.settings import ReportingSettings
from services.reporting.store.live import FEED, TooManyReaders, TooManyStreamsOfSubject
from shared.deps import Reader
from shared.ratelimit import TooManyStreams

WEB_DIR = Path(__file__).parent.parent / "web"

# The page runs only its own script and talks only to its own origin: an injected script could
# read the token from sessionStorage, so nothing from elsewhere is allowed to run.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["dashboard"])


@router.get("/", include_in_schema=False)
async def dashboard_page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get(
    "/api/v1/stream",
    summary="Live stream (server-sent events) of the events this process records",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"description": "The caller holds its share of open streams already"},
        503: {"description": "Too many open streams"},
    },
)
async def stream(request: Request, who: Reader) -> StreamingResponse:
    """`event: recorded` with `{id, type, subject, time}` for each event once it is committed in the
    log; `event: resync` when this reader fell behind and should re-read everything; a comment line
    as keep-alive. Only the events consumed by the process serving the stream (see README)."""
    settings: ReportingSettings = request.app.state.settings
    try:
        reader = FEED.subscribe(
            max_readers=settings.stream_max_readers,
            subject=who.subject,
            max_per_subject=settings.stream_max_per_subject,
        )
    except TooManyStreamsOfSubject as exc:
        raise TooManyStreams(str(exc), limit=exc.limit) from None
    except TooManyReaders as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None

    async def messages() -> AsyncIterator[str]:
        try:
            yield "retry: 3000\n: connected\n\n"
            while True:
                message = await reader.next(settings.stream_keepalive_s)
                if message is None:
                    return
                yield message or ": keep-alive\n\n"
        finally:
            FEED.unsubscribe(reader)

    return StreamingResponse(
        messages(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def mount_static_files(app: FastAPI) -> None:
    """The page's script and styles (the app includes `router` with the others)."""
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
