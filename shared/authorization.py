"""The authorisation model as data: per service, one table `operation -> role -> allow | deny | own`,
enforced by one router dependency before a route loads or changes anything, and rendered as
`docs/authorization.md`.

An operation is named `<area>.<route name>` (`incidents.close`). `own` means the record addressed
by the route must belong to the caller; what "belongs" means is the service's rule per record type
(`Ownership`). A record that is not the caller's answers 404 exactly as one that does not exist,
so a requester learns nothing about other people's records; a `deny` answers 403 naming the
operation. Both come before any state check, so never a 409."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import BaseRoute

from shared.app import runtime_of
from shared.auth import Principal, Role, authenticating, current_principal
from shared.db import reading
from shared.errors import Forbidden, NotFound


class Rule(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    OWN = "own"


OTHER_ROLES = "*"
"""The column for a role the suite does not define (an identity provider's own, such as an
approver role a catalogue item names)."""
COLUMNS: tuple[str, ...] = (*(r.value for r in Role), OTHER_ROLES)

Row = Mapping[str, Rule]
Table = Mapping[str, Row]
"""operation -> role (every one of `COLUMNS`) -> rule."""

_STRENGTH = {Rule.DENY: 0, Rule.OWN: 1, Rule.ALLOW: 2}


def row(*, allow: Iterable[str] = (), own: Iterable[str] = (), others: Rule = Rule.DENY) -> dict[str, Rule]:
    """A whole row: `allow` and `own` name roles, every other role is denied; admin is allowed
    everything (it holds every role); `others` is the rule for roles the suite does not define."""
    allowed, owned = {str(r) for r in allow} | {Role.ADMIN.value}, {str(r) for r in own}
    cells = {c: Rule.ALLOW if c in allowed else Rule.OWN if c in owned else Rule.DENY for c in COLUMNS[:-1]}
    return {**cells, OTHER_ROLES: others}


def rule_for(cells: Row, roles: Iterable[str]) -> Rule:
    """The most permissive rule any of `roles` has in the row (none: deny)."""
    rules = [cells.get(r, Rule.DENY) if r in cells else cells.get(OTHER_ROLES, Rule.DENY) for r in roles]
    return max(rules, key=_STRENGTH.__getitem__, default=Rule.DENY)


def operation_of(route: APIRoute) -> str:
    """`<area>.<route name>`: the module of the route's area and the name of its function."""
    return f"{route.endpoint.__module__.rsplit('.', 1)[-1]}.{route.name}"


@dataclass(frozen=True)
class Ownership:
    """The `own` rule of one record type: the path parameter that names it, how to load it, and
    whether it is the principal's."""

    path_param: str
    noun: str
    load: Callable[[AsyncConnection, UUID], Awaitable[Any]]
    owns: Callable[[Any, Principal], bool]


@dataclass(frozen=True)
class Access:
    """What the table granted the caller for this operation."""

    principal: Principal
    operation: str
    rule: Rule

    @property
    def only_own(self) -> bool:
        """Granted only on the caller's own records: a list route filters to them, a create
        route makes them the owner."""
        return self.rule is Rule.OWN


@dataclass
class Policy:
    """One service's table and its ownership rules; `enforce` is the dependency routers install,
    `caller` the principal it let through (for routes that need to know who acts)."""

    service: str
    table: dict[str, dict[str, Rule]]
    ownerships: Sequence[Ownership]
    public: frozenset[str] = frozenset()
    """Operations that take no token at all (a static page that holds no data)."""

    def __post_init__(self) -> None:
        async def caller(access: Access) -> Principal:
            return access.principal

        # The annotation names this policy's `enforce`, so FastAPI runs the table once per request
        # and hands its verdict to every dependency that asks.
        parameter = inspect.Parameter(
            "access", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Access, Depends(self.enforce)]
        )
        caller.__signature__ = inspect.Signature([parameter], return_annotation=Principal)  # type: ignore[attr-defined]
        self.caller: Callable[..., Awaitable[Principal]] = caller

    def decide(self, operation: str, principal: Principal) -> Rule:
        cells = self.table.get(operation)
        return rule_for(cells, principal.roles) if cells is not None else Rule.DENY

    @authenticating
    async def enforce(self, request: Request) -> Access:
        principal = await current_principal(request)
        route: APIRoute = request.scope["route"]
        operation = operation_of(route)
        rule = self.decide(operation, principal)
        if rule is Rule.DENY:
            holders = sorted(c for c, r in self.table.get(operation, {}).items() if r is not Rule.DENY)
            raise Forbidden(
                f"{operation} is for the roles: {', '.join(holders) or 'none'}", operation=operation, roles=holders
            )
        if rule is Rule.OWN:
            await self._check_own(request, principal)
        return Access(principal, operation, rule)

    async def _check_own(self, request: Request, principal: Principal) -> None:
        for ownership in self.ownerships:
            raw = request.path_params.get(ownership.path_param)
            if raw is None:
                continue
            try:
                record_id = UUID(str(raw))
            except ValueError:
                return  # not an id: the route's own validation answers 422
            async with reading(runtime_of(request).engine) as conn:
                record = await ownership.load(conn, record_id)
            if record is None or not ownership.owns(record, principal):
                raise NotFound(f"{ownership.noun} {record_id} does not exist")
            return


def _calls(dependant: Dependant) -> Iterable[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def unguarded(routes: Iterable[BaseRoute], policy: Policy) -> list[str]:
    """What keeps the table from being the whole truth about a service's routes: a route whose
    operation has no row (and is not public), or that does not run `policy.enforce`; a row that
    names no route. Empty when every route is governed by the table."""
    problems, operations = [], set()
    for route in routes:
        if not isinstance(route, APIRoute) or route.path in ("/healthz", "/readyz"):
            continue
        operation = operation_of(route)
        operations.add(operation)
        if operation in policy.public:
            continue
        if operation not in policy.table:
            problems.append(f"{operation} ({route.path}) has no row in the {policy.service} table")
        elif policy.enforce not in set(_calls(route.dependant)):
            problems.append(f"{operation} ({route.path}) does not run the {policy.service} table")
    problems += [f"row {op} names no route" for op in sorted(set(policy.table) - operations)]
    return problems


def markdown(policies: Sequence[Policy]) -> str:
    """docs/authorization.md: every service's table, one row per operation, one column per role."""
    mark = {Rule.ALLOW: "yes", Rule.DENY: "", Rule.OWN: "own"}
    lines = [
        "# Authorisation",
        "",
        "Generated from each service's table (`uv run python -m itsm.authorization`; a test keeps it current).",
        "`yes`: allowed; `own`: only on the caller's own records (any other answers 404, as if it did not",
        "exist; a list shows only them); empty: 403. `*` is any role the suite does not define (an",
        "identity provider's own). Refusal comes before any state check.",
    ]
    for policy in policies:
        notes = [f"- own {o.noun}: {' '.join((o.owns.__doc__ or '').split())}" for o in policy.ownerships]
        if policy.public:
            public = ", ".join(f"`{op}`" for op in sorted(policy.public))
            notes.append(f"- needs no token (public, or the caller proven otherwise: see the service README): {public}")
        lines += ["", f"## {policy.service}", *(["", *notes] if notes else [])]
        lines += ["", "| operation | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
        for operation, cells in policy.table.items():
            lines.append(f"| `{operation}` | " + " | ".join(mark[cells[c]] for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"
