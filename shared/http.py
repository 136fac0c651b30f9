"""HTTP conventions shared by every service: the API model base, pagination, RFC 9457
problem details for every error, the request body bound, JSON bodies only as JSON (415
otherwise), and PATCH bodies that refuse null on a field the record requires.

No route catches exceptions: the handlers installed by `install_problem_handlers` answer for
domain errors (from `shared.errors.PROBLEM_TABLE`), validation errors (422 naming each field)
and anything unexpected (500 without a trace; the trace goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from fastapi import Depends, FastAPI, Request, params
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import DomainError, problem_for
from shared.records import RecordModel

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://itsm.example/problems/"

T = TypeVar("T")
B = TypeVar("B")


class ApiModel(RecordModel):
    """Base of request and response bodies: unknown fields in a request are an error."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UpdateModel(ApiModel):
    """Base of PATCH bodies whose fields are all optional: the fields named in `required_on_record`
    refuse an explicit null with a 422 naming the field (the record always has a value there); a
    field left out stays as it is."""

    required_on_record: ClassVar[tuple[str, ...]] = ()

    @field_validator("*")
    @classmethod
    def _refuse_null_on_required(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for fields sent (defaults are not validated).
        if value is None and info.field_name in cls.required_on_record:
            raise ValueError("cannot be null: the record always has one (leave the field out to keep it)")
        return value


class Page(ApiModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, as served with `application/problem+json`."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


def problem_response(
    status: int, title: str, detail: str, *, slug: str, instance: str | None = None, **extensions: Any
) -> JSONResponse:
    body = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(jsonable_encoder(extensions))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _field_path(loc: Sequence[Any]) -> str:
    # ("body", "impact") -> "impact"; ("query", "limit") -> "limit"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    # A body that is not JSON is located at ("body", <character offset>): it names the body.
    return [
        {
            "field": "body" if e.get("type") == "json_invalid" else _field_path(e.get("loc", ())),
            "reason": str(e.get("msg", "")),
        }
        for e in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        problem = problem_for(exc)
        return problem_response(
            problem.status, problem.title, exc.detail, slug=problem.slug, instance=request.url.path, **exc.extensions
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem_response(
            422, "Invalid request", detail, slug="validation", instance=request.url.path, errors=errors
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # The framework's 400: a body it could not read as JSON text (not UTF-8); invalid input like any other.
            reason = "is not JSON text (UTF-8)"
            errors = [{"field": "body", "reason": reason}]
            return problem_response(
                422, "Invalid request", f"body: {reason}", slug="validation", instance=request.url.path, errors=errors
            )
        title = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
            exc.status_code, "HTTP error"
        )
        response = problem_response(
            exc.status_code, title, str(exc.detail), slug=f"http-{exc.status_code}", instance=request.url.path
        )
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    async def on_unsupported_media_type(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, UnsupportedMediaType)
        reason = f"{exc.media_type or 'no content type'} is not JSON; send application/json"
        return problem_response(
            415,
            "Unsupported media type",
            f"header.content-type: {reason}",
            slug="http-415",
            instance=request.url.path,
            errors=[{"field": "header.content-type", "reason": reason}],
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500,
            "Internal error",
            "The server could not complete the request.",
            slug="internal",
            instance=request.url.path,
        )

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(UnsupportedMediaType, on_unsupported_media_type)
    app.add_exception_handler(Exception, on_unexpected)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods the app's routes take on the request's path: each method is tried against the
    routes as the router would (the framework keeps one route per method, so the route that refused
    the request knows only its own)."""
    scope = request.scope
    return [
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in request.app.router.routes)
    ]


class UnsupportedMediaType(Exception):
    def __init__(self, media_type: str) -> None:
        super().__init__(media_type)
        self.media_type = media_type


def is_json_media_type(content_type: str) -> bool:
    """application/json or a structured-syntax JSON type (application/merge-patch+json, ...)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _json_body_content_type(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return  # no body model: the route reads its body itself (CSV import, webhooks)
    if isinstance(route.body_field.field_info, params.Form):
        return  # a form (an HTML page's plain POST) takes the form encodings
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_json_media_type(content_type):
        raise UnsupportedMediaType(content_type.split(";", 1)[0].strip())


def json_bodies_only() -> Any:
    """An app dependency: a route whose body is a model takes it as JSON only; another declared
    content type answers 415 (instead of a 422 about an object that was not one)."""
    return Depends(_json_body_content_type)


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Answers 413 for a request body over `max_bytes`, declared or streamed, before any handler
    sees it (so nothing is written)."""

    def __init__(self, app: ASGIApp, max_bytes: int, bulk_paths: Sequence[str] = (), bulk_max_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.bulk_paths = tuple(bulk_paths)
        self.bulk_max_bytes = max(bulk_max_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.bulk_max_bytes if str(scope.get("path", "")).startswith(self.bulk_paths) else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0
        exceeded = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may turn the failed read into its own error response; answer 413 instead.
            nonlocal answered
            if not exceeded:
                answered = answered or message["type"] == "http.response.start"
                await send(message)
            elif not answered:
                answered = True
                await self._refuse(scope, receive, send, limit)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not answered:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413,
            "Request body too large",
            f"The request body is larger than {limit} bytes.",
            slug="http-413",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


def _accepted(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values (a malformed q counts as 0)."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, float]]) -> float:
    """The q the client gives `media_type`: from the most specific range that matches it."""
    kind = media_type.split("/", 1)[0]
    for candidate in (media_type, f"{kind}/*", "*/*"):
        for media, q in ranges:
            if media == candidate:
                return q
    return 0.0


def representation(request: Request, offered: Sequence[tuple[str, str]], query: str = "format") -> str:
    """The representation to answer with, of `offered` ((format name, media type), the default first):
    the `query` parameter when the client sent it (the route has validated it); otherwise the offered
    media type `Accept` ranks highest (on a tie, the earlier one); with no Accept, the default."""
    sent = request.query_params.get(query)
    if sent is not None:
        return sent
    accept = request.headers.get("accept")
    if not accept:
        return offered[0][0]
    ranges = _accepted(accept)
    best, best_q = offered[0][0], _quality(offered[0][1], ranges)
    for name, media_type in offered[1:]:
        q = _quality(media_type, ranges)
        if q > best_q:
            best, best_q = name, q
    return best


JSON_OR_CSV = (("json", "application/json"), ("csv", "text/csv"))
JSON_OR_ICALENDAR = (("json", "application/json"), ("ics", "text/calendar"))


def etag(version: int) -> str:
    """The weak ETag of a record version: `W/"3"`."""
    return f'W/"{version}"'


def tagged(response: Response, version: int, body: B) -> B:
    """Answer `body` with the ETag of the record version it shows (what a client sends back as If-Match)."""
    response.headers["ETag"] = etag(version)
    return body


def created(response: Response, location: str, version: int, body: B) -> B:
    """Answer a new record: `body`, with where it lives (Location) and its ETag."""
    response.headers["Location"] = location
    return tagged(response, version, body)


def expected_version(if_match: str | None) -> int:
    """The version an update is based on, from `If-Match` (`W/"3"` or `"3"`); required."""
    from shared.errors import PreconditionFailed, PreconditionRequired

    if if_match is None:
        raise PreconditionRequired('send If-Match with the ETag you read (for example If-Match: W/"3")')
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of this API")
    return int(value)
