"""Internal audit actions (ISO/IEC 20000-1 4.5.4.2): plan a programme and its audits, move an audit
along its lifecycle, record findings, follow up their corrective actions and raise an improvement
register entry for a finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from services.reporting import events
from services.reporting.domain.audits import (
    AuditAction,
    AuditProgramme,
    AuditStatus,
    Finding,
    InternalAudit,
)
from services.reporting.domain.improvements import Improvement, ImprovementKind, ImprovementSource
from services.reporting.store import audits as store
from services.reporting.usecases import improvements
from shared import clock
from shared.errors import Conflict, RuleViolation, check_version, found
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class PlanProgramme:
    title: str
    period_start: date
    period_end: date
    scope: str
    criteria: str
    owner: str


async def plan_programme(cmd: PlanProgramme, uow: UnitOfWork, actor: str) -> AuditProgramme:
    programme = AuditProgramme(id=uuid4(), created_by=actor, created_at=clock.now(), **cmd.__dict__)
    async with uow:
        await store.add_programme(uow.connection, programme)
        await uow.commit()
    return programme


@dataclass(frozen=True)
class PlanAudit:
    programme_id: UUID
    title: str
    scope: str
    lead_auditor: str
    auditees: tuple[str, ...]
    planned_on: date


async def plan_audit(cmd: PlanAudit, uow: UnitOfWork, actor: str) -> InternalAudit:
    now = clock.now()
    async with uow:
        conn = uow.connection
        programme = await store.get_programme(conn, cmd.programme_id)
        if programme is None:
            raise RuleViolation(f"there is no audit programme {cmd.programme_id}", field="programme_id")
        if not programme.period_start <= cmd.planned_on <= programme.period_end:
            raise RuleViolation("the audit is planned within its programme's period", field="planned_on")
        audit = InternalAudit(
            id=uuid4(),
            number=await store.new_number(conn),
            status=AuditStatus.PLANNED,
            findings=(),
            summary="",
            created_by=actor,
            created_at=now,
            updated_at=now,
            **cmd.__dict__,
        )
        await store.add_audit(conn, audit)
        uow.emit(events.audit_event(audit, actor, planned=True), subject=str(audit.id))
        await uow.commit()
    return audit


async def act(
    audit_id: UUID, action: AuditAction, expected: int | None, uow: UnitOfWork, actor: str, *, summary: str = ""
) -> InternalAudit:
    async with uow:
        current = await _current(uow, audit_id, expected)
        audit = current.acted(action, clock.now(), summary=summary)
        await _save(uow, current, audit, actor)
    return audit


async def add_finding(
    audit_id: UUID, finding: Finding, expected: int | None, uow: UnitOfWork, actor: str
) -> InternalAudit:
    async with uow:
        current = await _current(uow, audit_id, expected)
        audit = current.finding_added(finding, clock.now())
        await _save(uow, current, audit, actor)
    return audit


async def move_corrective_action(
    audit_id: UUID, index: int, status: str, expected: int | None, uow: UnitOfWork, actor: str
) -> InternalAudit:
    async with uow:
        current = await _current(uow, audit_id, expected)
        audit = current.corrective_action_moved(index, status, clock.now())
        await _save(uow, current, audit, actor)
    return audit


async def raise_improvement(
    audit_id: UUID, index: int, expected: int | None, uow: UnitOfWork, actor: str
) -> tuple[InternalAudit, Improvement]:
    """An entry in the improvement register for a finding, owned by its corrective action's owner
    (or the lead auditor), due when the action is; the finding names the entry."""
    async with uow:
        current = await _current(uow, audit_id, expected)
        ref = current.finding_ref(index)
        finding = current.findings[index]
        if finding.improvement_number is not None:
            raise Conflict(f"finding {ref} already raised {finding.improvement_number}")
        action = finding.corrective_action
        cmd = improvements.RaiseImprovement(
            kind=ImprovementKind.NONCONFORMITY if finding.is_nonconformity else ImprovementKind.IMPROVEMENT,
            title=f"Audit {current.number} finding {index + 1} ({finding.clause})"[:200],
            description=finding.text,
            source=ImprovementSource.AUDIT_FINDING,
            source_ref=ref,
            owner=action.owner if action else current.lead_auditor,
            target_date=action.due if action else current.planned_on,
        )
        entry = await improvements.raise_entry(uow.connection, cmd, uow, actor)
        if entry is None:
            raise Conflict(f"finding {ref} already has an entry in the register")
        audit = current.improvement_linked(index, entry.number, clock.now())
        await _save(uow, current, audit, actor)
    return audit, entry


async def _save(uow: UnitOfWork, current: InternalAudit, audit: InternalAudit, actor: str) -> None:
    await store.save_audit(uow.connection, audit, current.version)
    uow.emit(events.audit_event(audit, actor, previous_status=current.status.value), subject=str(audit.id))
    await uow.commit()


async def _current(uow: UnitOfWork, audit_id: UUID, expected: int | None) -> InternalAudit:
    current = found(await store.get_audit(uow.connection, audit_id, for_update=True), f"audit {audit_id}")
    check_version(f"audit {current.number}", current.version, expected)
    return current
