"""Accounting actions (6.4): record a version of an allocation rule, and import finance's actuals,
each row accepted (charged to its service, or split among the services of an allocation rule's
latest version) or refused with the column at fault and why. The rows accepted are stored in one
transaction with their events; a refused row changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from services.config.domain.budgets import Money
from services.config.domain.costs import (
    MAX_ACTUAL_ROWS,
    ActualRow,
    AllocationBasis,
    AllocationRule,
    allocate,
    read_actual,
    validate_rule,
    weights,
)
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store import budgets as store
from services.config.store.items import ConfigItemRepository
from shared import clock
from shared.errors import RuleViolation
from shared.events.cost import AllocatedPart, CostActualRecorded, CostActualsImported, CostAllocationRuleRecorded
from shared.uow import UnitOfWork


async def _business_services(uow: UnitOfWork, ids: Sequence[UUID]) -> set[UUID]:
    found = await ConfigItemRepository(uow.connection).existing(ids)
    return {i for i, item in found.items() if item.ci_type == BUSINESS_SERVICE}


async def record_rule(body: Mapping[str, Any], actor: str, uow: UnitOfWork) -> dict[str, Any]:
    basis = AllocationBasis(body["basis"])
    services = list(body["service_ids"])
    percents = {UUID(str(k)): Decimal(v) for k, v in body["percents"].items()}
    validate_rule(body["name"], basis, services, percents, body["metric"])
    async with uow:
        conn = uow.connection
        known = await _business_services(uow, services)
        missing = [s for s in services if s not in known]
        if missing:
            raise RuleViolation(f"{missing[0]} is not a business service", field="service_ids")
        if body["metric"] and not await store.metric_exists(conn, body["metric"]):
            raise RuleViolation(f"there is no capacity metric {body['metric']!r}", field="metric")
        latest = await store.latest_rule(conn, body["name"])
        values = {
            "name": body["name"],
            "version": 1 if latest is None else latest.version + 1,
            "basis": basis.value,
            "shares": {
                "service_ids": [str(s) for s in services],
                "percents": {str(k): str(v) for k, v in percents.items()},
                "metric": body["metric"],
            },
            "created_at": clock.now(),
            "created_by": actor,
        }
        await store.add_rule(conn, values)
        answer = rule_answer(values)
        uow.emit(
            CostAllocationRuleRecorded(
                name=answer["name"],
                version=answer["version"],
                basis=answer["basis"],
                service_ids=answer["service_ids"],
                percents=answer["percents"],
                metric=answer["metric"],
                recorded_at=answer["created_at"],
                recorded_by=actor,
            ),
            subject=f"{answer['name']}/{answer['version']}",
        )
        await uow.commit()
    return answer


def rule_answer(row: Any) -> dict[str, Any]:
    rule = dict(row) if isinstance(row, Mapping) else row._asdict()
    shares = rule.pop("shares")
    return {
        **rule,
        "service_ids": [UUID(s) for s in shares["service_ids"]],
        "percents": {UUID(k): Decimal(v) for k, v in shares["percents"].items()},
        "metric": shares["metric"],
    }


def _rule(row: Any) -> AllocationRule:
    values = rule_answer(row)
    return AllocationRule(
        values["name"],
        values["version"],
        AllocationBasis(values["basis"]),
        tuple(values["service_ids"]),
        values["percents"],
        values["metric"],
    )


@dataclass
class _Import:
    """What an import has found so far: the rules it split by (with their weights) and the results."""

    import_id: UUID
    rules: dict[str, tuple[AllocationRule, list[tuple[UUID, Decimal]]] | None] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)
    events: list[CostActualRecorded] = field(default_factory=list)
    budgets: list[Any] = field(default_factory=list)
    """The period and currency of the budgets of the services in `budgeted`."""
    budgeted: set[UUID] = field(default_factory=set)


async def import_actuals(rows: Sequence[Mapping[str, str]], actor: str, uow: UnitOfWork) -> dict[str, Any]:
    """Each row (in file order, the header being line 1) accepted or refused."""
    if len(rows) > MAX_ACTUAL_ROWS:
        raise RuleViolation(f"an import holds at most {MAX_ACTUAL_ROWS} rows; split the file", field="body")
    run = _Import(uuid4())
    now = clock.now()
    async with uow:
        read: list[tuple[int, ActualRow | RuleViolation, str | None]] = []
        for index, raw in enumerate(rows):
            try:
                read.append((index + 2, read_actual(raw), None))
            except RuleViolation as refused:
                read.append((index + 2, refused, (raw.get("reference") or "").strip()[:64] or None))
        actuals = [a for _, a, _ in read if isinstance(a, ActualRow)]
        known = await store.known_references(uow.connection, [a.reference for a in actuals])
        services = await _business_services(uow, [a.service_id for a in actuals if a.service_id is not None])
        seen: dict[str, int] = {}
        for line, actual, reference in read:
            if isinstance(actual, RuleViolation):
                run.results.append(_refused(line, reference, actual))
                continue
            try:
                parts = await _charge(uow, run, actual, known, seen, services)
                await _check_currency(uow, run, actual, parts)
            except RuleViolation as refused:
                run.results.append(_refused(line, actual.reference, refused))
                continue
            seen[actual.reference] = line
            _accept(run, line, actual, parts, actor, now)
        await store.add_actuals(uow.connection, run.stored)
        for event in run.events:
            uow.emit(event, subject=event.reference)
        accepted = sum(1 for r in run.results if r["result"] == "accepted")
        uow.emit(
            CostActualsImported(
                import_id=run.import_id,
                rows=len(rows),
                accepted=accepted,
                refused=len(rows) - accepted,
                imported_at=now,
                imported_by=actor,
            ),
            subject=str(run.import_id),
        )
        await uow.commit()
    return {
        "import_id": run.import_id,
        "rows": len(rows),
        "accepted": accepted,
        "refused": len(rows) - accepted,
        "results": run.results,
    }


def _refused(line: int, reference: str | None, refused: RuleViolation) -> dict[str, Any]:
    errors = refused.extensions.get("errors") or [{"field": None, "reason": refused.detail}]
    return {"row": line, "reference": reference, "result": "refused", **errors[0]}


async def _charge(
    uow: UnitOfWork, run: _Import, actual: ActualRow, known: set[str], seen: Mapping[str, int], services: set[UUID]
) -> list[tuple[UUID, Money]]:
    """Who the row charges, and how much each."""
    if actual.reference in known:
        raise RuleViolation(f"{actual.reference!r} was imported before", field="reference")
    if actual.reference in seen:
        raise RuleViolation(f"{actual.reference!r} is on line {seen[actual.reference]} already", field="reference")
    if actual.service_id is not None:
        if actual.service_id not in services:
            raise RuleViolation(f"{actual.service_id} is not a business service", field="service_id")
        return [(actual.service_id, actual.amount)]
    assert actual.allocation_rule is not None
    if actual.allocation_rule not in run.rules:
        run.rules[actual.allocation_rule] = await _weighed(uow, actual.allocation_rule)
    found = run.rules[actual.allocation_rule]
    if found is None:
        raise RuleViolation(f"there is no allocation rule {actual.allocation_rule!r}", field="allocation_rule")
    return allocate(actual.amount, found[1])


async def _weighed(uow: UnitOfWork, name: str) -> tuple[AllocationRule, list[tuple[UUID, Decimal]]] | None:
    """The rule's latest version, with each service's weight now."""
    row = await store.latest_rule(uow.connection, name)
    if row is None:
        return None
    rule = _rule(row)
    counts = await store.ci_counts(uow.connection, rule.service_ids) if rule.basis is AllocationBasis.CI_COUNT else {}
    usage = (
        await store.usage_by_service(uow.connection, rule.metric, rule.service_ids)
        if rule.basis is AllocationBasis.USAGE and rule.metric
        else {}
    )
    return rule, weights(rule, counts, usage)


async def _check_currency(
    uow: UnitOfWork, run: _Import, actual: ActualRow, parts: Sequence[tuple[UUID, Money]]
) -> None:
    """A service's cost on a day its budget covers is in the budget's currency (never converted)."""
    unknown = {service_id for service_id, _ in parts} - run.budgeted
    if unknown:
        run.budgets.extend(await store.budget_periods(uow.connection, unknown))
        run.budgeted |= unknown
    charged = {service_id for service_id, _ in parts}
    for b in run.budgets:
        covers = b.service_id in charged and b.period_start <= actual.incurred_on <= b.period_end
        if covers and b.currency != actual.amount.currency:
            raise RuleViolation(
                f"the budget of service {b.service_id} for that day is in {b.currency}", field="currency"
            )


def _accept(run: _Import, line: int, actual: ActualRow, parts: list[tuple[UUID, Money]], actor: str, now: Any) -> None:
    rule = run.rules.get(actual.allocation_rule or "")
    version = rule[0].version if rule else None
    for service_id, part in parts:
        run.stored.append(
            {
                "id": uuid4(),
                "reference": actual.reference,
                "service_id": service_id,
                "category": actual.category.value,
                "amount_cents": int(part.amount * 100),
                "currency": part.currency,
                "incurred_on": actual.incurred_on,
                "detail": {
                    "description": actual.description,
                    "allocation_rule": actual.allocation_rule,
                    "allocation_version": version,
                    "import_id": str(run.import_id),
                    "imported_by": actor,
                    "imported_at": now.isoformat(),
                },
            }
        )
    run.events.append(
        CostActualRecorded(
            reference=actual.reference,
            import_id=run.import_id,
            category=actual.category.value,
            amount=actual.amount.amount,
            currency=actual.amount.currency,
            incurred_on=actual.incurred_on,
            allocation_rule=actual.allocation_rule,
            allocation_version=version,
            parts=[AllocatedPart(service_id=s, amount=m.amount) for s, m in parts],
        )
    )
    run.results.append(
        {
            "row": line,
            "reference": actual.reference,
            "result": "accepted",
            "parts": [{"service_id": s, "amount": m.amount} for s, m in parts],
        }
    )


def actual_answer(row: Any) -> dict[str, Any]:
    """A stored actual in the API's form (its amount back from cents)."""
    values = row._asdict()
    detail = values.pop("detail")
    values.pop("amount_cents")
    return {
        **values,
        "amount": Decimal(row.amount_cents).scaleb(-2),
        "description": detail["description"],
        "allocation_rule": detail["allocation_rule"],
        "allocation_version": detail["allocation_version"],
        "import_id": UUID(detail["import_id"]),
    }
