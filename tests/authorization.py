"""The authorisation-matrix walk, for any service: every operation of its table, with a token of
every role, on the caller's own record and on someone else's, against the running app. What each
cell must be is written in the test (`Expect`), apart from the service's table, so that flipping a
row of the table fails the walk (`unnoticed_flips` shows it, row by row).

A service's test gives the walk its routes, its expectation, and how to address a record: the
records it made for "own" and "foreign" per path parameter; a parameter it has no record for gets
a random id (an allowed caller then meets a 404 or 422, which is not a refusal)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from shared.auth import Role
from shared.authorization import Policy, Rule, operation_of

IDP_ROLE = "request_approver"
"""A role of the identity provider that is not one of the suite's (the table's `*` column)."""
ROLES = [*[r.value for r in Role], IDP_ROLE]
HUMANS = frozenset(Role) - {Role.PIPELINE, Role.MONITORING}
NOT_REQUESTER = HUMANS - {Role.REQUESTER}
ME, OTHER = "alice", "bob"


@dataclass(frozen=True)
class Expect:
    allow: frozenset[str]
    own: frozenset[str] = frozenset()

    def of(self, role: str) -> str:
        if role == Role.ADMIN or role in self.allow:
            return "allow"
        return "own" if role in self.own else "deny"


def expect(allow: Iterable[str], own: Iterable[str] = ()) -> Expect:
    return Expect(frozenset(str(r) for r in allow), frozenset(str(r) for r in own))


RECORDS_CONTROL: dict[str, Expect] = {
    "records_control.list_retention_policies": expect([Role.AUDITOR]),
    "records_control.set_retention_policy": expect([]),
    "records_control.list_legal_holds": expect([Role.AUDITOR]),
    "records_control.get_legal_hold": expect([Role.AUDITOR]),
    "records_control.place_legal_hold": expect([]),
    "records_control.release_legal_hold": expect([]),
    "records_control.disposal_log": expect([Role.AUDITOR]),
}
"""Records control (4.3.3) in every service that mounts it: admin alone sets retention policies
and places or releases legal holds; the auditor reads them and the disposal log."""


def routes_of(routers: Iterable[Any], policy: Policy) -> dict[str, APIRoute]:
    """The routes the table governs, by operation."""
    found = {}
    for route in (r for router in routers for r in router.routes):
        if isinstance(route, APIRoute) and operation_of(route) not in policy.public:
            found[operation_of(route)] = route
    return found


@dataclass
class Sent:
    """One request of the walk, and the record it addresses (None: no real record)."""

    method: str
    path: str
    record_id: str | None = None
    noun: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None


Special = Callable[[str, str, str, httpx.Response], "str | None"]
"""(operation, rule, which, answer): the service's own verdict on an allowed cell the generic rule
does not fit (a create that makes the caller the owner, a list that filters):
None when the answer is right, else what went wrong."""


@dataclass
class Matrix:
    client: httpx.AsyncClient
    auth: Callable[..., dict[str, str]]
    expected: Mapping[str, Expect]
    routes: Mapping[str, APIRoute]
    records: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """path parameter (`<noun>_id`) -> "own" / "foreign" -> a real record's id."""
    bodies: Mapping[str, Callable[[str], Any]] = field(default_factory=dict)
    """operation -> which -> the body to send (default: an empty object)."""
    params: Mapping[str, Callable[[str], dict[str, Any]]] = field(default_factory=dict)
    special: Special | None = None
    special_ops: frozenset[str] = frozenset()
    """The operations `special` judges once the table let the call through."""
    groups: tuple[str, ...] = ()
    """The assignment groups in every token of the walk (agents' own records by group)."""
    subjects: Mapping[str, str] = field(default_factory=dict)
    """role -> the subject of its token where it is not ME (an agent who owns the walk's own
    records through its `groups` only, not as their caller)."""

    def request(self, op: str, which: str) -> Sent:
        route = self.routes[op]
        path, record_id, noun = route.path, None, ""
        for name in route.param_convertors:
            ids = self.records.get(name)
            value = ids[which] if ids else str(uuid.uuid4())
            if ids:
                record_id, noun = value, name.removesuffix("_id").replace("_", " ")
            path = path.replace("{" + name + "}", value)
        method = sorted(route.methods)[0]
        body = self.bodies[op](which) if op in self.bodies else ({} if method != "GET" else None)
        params = self.params[op](which) if op in self.params else {}
        return Sent(method, path, record_id, noun, params, body)

    def verdict(self, op: str, rule: str, which: str, sent: Sent, r: httpx.Response) -> str | None:
        """None when the answer is what `rule` means for this cell, else what went wrong."""
        body = r.json() if r.headers.get("content-type", "").endswith("json") else None
        detail = body.get("detail") if isinstance(body, dict) else None
        policy_403 = r.status_code == 403 and isinstance(body, dict) and body.get("operation") == op
        # The answer to a record that is not the caller's, exactly as to one that does not exist.
        hidden = (
            r.status_code == 404
            and sent.record_id is not None
            and detail == f"{sent.noun} {sent.record_id} does not exist"
        )
        if rule == "deny":
            return None if policy_403 else f"expected 403 by the table, got {r.status_code} {detail}"
        if policy_403 or r.status_code == 401:
            return f"refused {r.status_code} {detail}"
        if self.special is not None and op in self.special_ops:
            return self.special(op, rule, which, r)
        if rule == "own" and which == "foreign":
            return None if hidden else f"expected 404 for another's record, got {r.status_code} {detail}"
        return "refused with 404" if hidden else None

    def whiches(self, op: str) -> tuple[str, ...]:
        """A foreign pass only where some role's rule depends on whose the record is."""
        return ("own", "foreign") if self.expected[op].own else ("own",)

    async def walk(self, only: Iterable[str] | None = None) -> list[str]:
        failures = []
        for op in only or self.expected:
            for role in ROLES:
                rule = self.expected[op].of(role)
                headers = self.auth(role, subject=self.subjects.get(role, ME), groups=self.groups)
                for which in self.whiches(op):
                    sent = self.request(op, which)
                    r = await self.client.request(
                        sent.method, sent.path, params=sent.params, json=sent.body, headers=headers
                    )
                    problem = self.verdict(op, rule, which, sent, r)
                    if problem:
                        failures.append(f"{op} {role} {which} ({rule}): {problem}")
        return failures

    async def unnoticed_flips(self, policy: Policy, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """Each row of the table in turn flipped in the running app (allow <-> deny, own -> allow):
        the rows whose flip the walk did not notice (empty when the walk guards every row)."""
        unnoticed = []
        for op, cells in list(policy.table.items()):
            with monkeypatch.context() as patch:
                patch.setitem(policy.table, op, {role: FLIP[rule] for role, rule in cells.items()})
                if not await self.walk(only=[op]):
                    unnoticed.append(op)
        return unnoticed


FLIP = {Rule.ALLOW: Rule.DENY, Rule.DENY: Rule.ALLOW, Rule.OWN: Rule.ALLOW}
