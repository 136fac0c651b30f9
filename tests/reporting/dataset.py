"""A small suite history with hand-computed report figures (the expectations are in the tests).

Week of Monday 2026-10-05 (T0, UTC): two services (Mail, Payroll), six incidents, three
requests, two problems, four changes, five deployments, four CIs, two suppliers with a contract
each, a breach and a dispute. `NOW` = T0 + 2 days, the time the reports are produced at.

Supplier attribution (an incident counts toward a supplier it is assigned to, or whose contract in
force when it opened covers its CI or service):

- Acme's contract (drafted T0 - 1 day, activated an hour later) covers the CI srv1 and the service
  Payroll: INC3 (Mail, on srv1), INC4 (assigned to Acme, on Payroll and srv1: counted once), INC5
  (Payroll, not assigned) and INC6 (assigned to Acme, on Payroll) count toward Acme.
- Globex's contract, drafted and activated at the same (backdated) instant T0 + 90 min (a tie the
  contract's lifecycle breaks: it is active), covers the service Mail from then: INC3 counts toward
  Globex as well; INC1 and INC2, opened on Mail before the contract started, do not.
- INC6 is resolved and closed at the same instant: it ends closed.

Costs (6.4): October budgets for Mail and Payroll and a November one for Payroll, actuals with an
allocated shared cost and a correction (a credit); see `costs()` and tests/reporting/api/test_cost_report.py.
The cost of changes: four changes costed, two of them restated; see `change_costs()` and
tests/reporting/api/test_change_cost_report.py.

Satisfaction: three surveys (two on Mail, answered 5 and 2; one on Payroll, unanswered) and two
complaints (one opened by the low score, on Mail; one by email, on Payroll); see `satisfaction()`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.events import CloudEvent, EventData, new_event
from shared.events.agreement import AgreementAgreed, AgreementSuperseded
from shared.events.change import (
    ChangeCreated,
    ChangeFailed,
    ChangeImplemented,
    ChangeSubmitted,
    DeploymentRecorded,
)
from shared.events.complaint import ComplaintAcknowledged, ComplaintReceived
from shared.events.config import (
    CapacityThresholdBreached,
    CapacityThresholdCleared,
    Cause,
    ConfigChangeRejected,
    ConfigItemCreated,
    ConfigItemRetired,
    ConfigItemUnauthorisedChangeDetected,
)
from shared.events.continuity import (
    ContinuityInvocationReviewed,
    ContinuityInvoked,
    ContinuityPlanRecorded,
    ContinuityRetestDue,
    ContinuityReturnedToNormal,
    ContinuityTestRecorded,
)
from shared.events.cost import (
    AllocatedPart,
    BudgetCreated,
    BudgetLine,
    ChangeCostStated,
    CostActualRecorded,
    CostActualsImported,
    CostAllocationRuleRecorded,
)
from shared.events.incident import (
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentEscalated,
    IncidentLinkedToChange,
    IncidentLinkedToProblem,
    IncidentMajorDeclared,
    IncidentResolved,
    IncidentStatusChanged,
    ProblemCreated,
    ProblemKnownErrorPublished,
    ProblemResolved,
    RequestFulfilled,
    RequestRejected,
    RequestSubmitted,
    SlaBreached,
    SlaResult,
)
from shared.events.supplier import (
    ContractActivated,
    ContractCreated,
    DisputeOpened,
    SupplierCreated,
    SupplierTargetBreached,
)
from shared.events.survey import SurveyAnswered, SurveyIssued

T0 = datetime(2026, 10, 5, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def uid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"itsm-test/{name}")


MAIL, PAYROLL = uid("svc-mail"), uid("svc-payroll")
ACME, GLOBEX = uid("supplier-acme"), uid("supplier-globex")
SRV1, SRV2 = uid("srv1"), uid("srv2")
INC = {n: uid(f"inc{n}") for n in range(1, 7)}
CHG = {n: uid(f"chg{n}") for n in range(1, 5)}
REQ = {n: uid(f"req{n}") for n in range(1, 4)}
PRB_A, PRB_B = uid("prb-a"), uid("prb-b")
CONTRACT, CONTRACT2 = uid("contract-1"), uid("contract-2")
POLICY = uid("policy")


def _event(data: EventData, subject: uuid.UUID, at: datetime, source: str) -> CloudEvent:
    event_id = uid(f"{data.routing_key}/{subject}/{at.isoformat()}")  # the same data set has the same ids
    return new_event(data, source=f"/itsm/{source}", subject=str(subject), time=at, event_id=event_id)


class Incident:
    """Builds the events of one incident."""

    def __init__(
        self,
        n: int,
        *,
        service: uuid.UUID,
        priority: int,
        opened: datetime,
        group: str | None = None,
        supplier: uuid.UUID | None = None,
        ci: uuid.UUID | None = None,
        category: str | None = None,
        customer: uuid.UUID | None = None,
    ) -> None:
        self.id, self.n, self.number = INC[n], n, f"INC000000{n}"
        self.service, self.priority, self.opened, self.supplier = service, priority, opened, supplier
        self.group: str | None = None
        self.status = "new"
        self.events: list[CloudEvent] = [
            _event(
                IncidentCreated(
                    incident_id=self.id,
                    number=self.number,
                    title=f"incident {n}",
                    impact=2,
                    urgency=2,
                    priority=priority,
                    caller="c",
                    opened_at=opened,
                    service_id=service,
                    ci_id=ci,
                    supplier_id=supplier,
                    assignment_group=group,
                    category=category,
                    customer_id=customer,
                ),
                self.id,
                opened,
                "incident",
            )
        ]
        self.group = group

    def _base(self, status: str, at: datetime, **extra: Any) -> dict[str, Any]:
        previous, self.status = self.status, status
        return {
            "incident_id": self.id,
            "number": self.number,
            "status": status,
            "previous_status": previous,
            "priority": self.priority,
            "actor": "a",
            "occurred_at": at,
            "service_id": self.service,
            "assignment_group": self.group,
            "supplier_id": self.supplier,
            **extra,
        }

    def assign(self, group: str, at: datetime) -> Incident:
        old, self.group = self.group, group
        data = IncidentAssigned(**self._base("assigned", at, changes={"assignment_group": [old, group]}))
        self.events.append(_event(data, self.id, at, "incident"))
        return self

    def start(self, at: datetime) -> Incident:
        self.events.append(_event(IncidentStatusChanged(**self._base("in_progress", at)), self.id, at, "incident"))
        return self

    def major(self, at: datetime) -> Incident:
        data = IncidentMajorDeclared(**self._base(self.status, at, major=True), manager="m", declared_at=at)
        self.events.append(_event(data, self.id, at, "incident"))
        return self

    def escalate(self, at: datetime) -> Incident:
        data = IncidentEscalated(**self._base(self.status, at), kind="hierarchical")
        self.events.append(_event(data, self.id, at, "incident"))
        return self

    def breach(self, target: str, at: datetime) -> Incident:
        data = SlaBreached(
            ticket_kind="incident",
            ticket_id=self.id,
            ticket_number=self.number,
            target=target,
            policy_id=POLICY,
            service_id=self.service,
            priority=self.priority,
            assignment_group=self.group,
            target_business_s=3600,
            elapsed_business_s=3601,
            due_at=at,
            occurred_at=at,
        )
        self.events.append(_event(data, self.id, at, "incident"))
        return self

    def resolve(self, at: datetime, *, response_met: bool, resolution_met: bool) -> Incident:
        sla = [
            SlaResult(target="response", target_business_s=1, elapsed_business_s=1, met=response_met),
            SlaResult(target="resolution", target_business_s=1, elapsed_business_s=1, met=resolution_met),
        ]
        data = IncidentResolved(
            **self._base("resolved", at), resolution_code="fixed", resolved_at=at, opened_at=self.opened, sla=sla
        )
        self.events.append(_event(data, self.id, at, "incident"))
        return self

    def close(self, at: datetime) -> Incident:
        self.events.append(_event(IncidentClosed(**self._base("closed", at)), self.id, at, "incident"))
        return self


def incidents() -> list[Incident]:
    i1 = (
        Incident(1, service=MAIL, priority=1, opened=T0, customer=CUSTOMER)
        .assign("ops", T0 + 10 * M)
        .major(T0 + 15 * M)
    )
    i1.resolve(T0 + 2 * H, response_met=True, resolution_met=True)
    i2 = (
        Incident(2, service=MAIL, priority=2, opened=T0 + H, customer=CUSTOMER)
        .assign("ops", T0 + 90 * M)
        .escalate(T0 + 2 * H)
    )
    i2.breach("resolution", T0 + 4 * H).resolve(T0 + 5 * H, response_met=True, resolution_met=False)
    i3 = Incident(3, service=MAIL, priority=2, opened=T0 + 2 * H, ci=SRV1, category="capacity")
    i3.assign("ops", T0 + 2 * H + 20 * M)
    i3.assign("net", T0 + 2 * H + 40 * M).resolve(T0 + 3 * H, response_met=True, resolution_met=True)
    i4 = Incident(4, service=PAYROLL, priority=3, opened=T0 + D, supplier=ACME, ci=SRV1).assign("net", T0 + D + H)
    i4.start(T0 + D + 2 * H).breach("response", T0 + D + 30 * M)
    i5 = Incident(5, service=PAYROLL, priority=1, opened=T0 + D + 2 * H)
    opened6 = datetime(2026, 11, 2, tzinfo=UTC)
    i6 = Incident(6, service=PAYROLL, priority=3, opened=opened6, supplier=ACME).assign("ops", opened6 + 30 * M)
    i6.resolve(opened6 + 4 * H, response_met=True, resolution_met=True).close(opened6 + 4 * H)
    return [i1, i2, i3, i4, i5, i6]


def _change_status(
    cls: type[EventData],
    n: int,
    type_: str,
    status: str,
    at: datetime,
    services: list[uuid.UUID],
    created: datetime,
    **extra: Any,
) -> CloudEvent:
    data = cls(
        change_id=CHG[n],
        number=f"CHG000000{n}",
        type=type_,
        status=status,
        previous_status="x",
        actor="a",
        occurred_at=at,
        created_at=created,
        service_ids=services,
        **extra,
    )
    return _event(data, CHG[n], at, "change")


def changes() -> list[CloudEvent]:
    plan = [
        (1, "normal", T0, [MAIL]),
        (2, "standard", T0 + D, [MAIL]),
        (3, "emergency", T0 + 2 * D, [PAYROLL]),
        (4, "normal", T0 + 3 * D, [PAYROLL]),
    ]
    events = [
        _event(
            ChangeCreated(
                change_id=CHG[n],
                number=f"CHG000000{n}",
                title="c",
                type=t,
                status="draft",
                requester="r",
                created_at=at,
            ),
            CHG[n],
            at,
            "change",
        )
        for n, t, at, _ in plan
    ]
    for n, t, created, services, done in (
        (1, "normal", T0, [MAIL], T0 + 2 * D),
        (2, "standard", T0 + D, [MAIL], T0 + D + 6 * H),
    ):
        events.append(
            _event(
                ChangeImplemented(
                    change_id=CHG[n],
                    number=f"CHG000000{n}",
                    implemented_at=done,
                    implemented_by="i",
                    type=t,
                    created_at=created,
                    service_ids=services,
                ),
                CHG[n],
                done,
                "change",
            )
        )
    events.append(
        _change_status(
            ChangeFailed,
            3,
            "emergency",
            "failed",
            T0 + 2 * D + H,
            [PAYROLL],
            T0 + 2 * D,
            notes="broke",
            backed_out=True,
        )
    )
    events.append(_change_status(ChangeSubmitted, 4, "normal", "submitted", T0 + 3 * D + H, [PAYROLL], T0 + 3 * D))
    events.append(
        _event(
            IncidentLinkedToChange(
                incident_id=INC[4],
                incident_number="INC0000004",
                change_id=CHG[2],
                change_number="CHG0000002",
                service_id=PAYROLL,
                reason="probable_cause",
                occurred_at=T0 + D + 3 * H,
            ),
            INC[4],
            T0 + D + 3 * H,
            "incident",
        )
    )
    return events


def deployments() -> list[CloudEvent]:
    plan = [
        (1, MAIL, "production", "succeeded", T0 + 2 * D, CHG[1]),
        (2, MAIL, "production", "succeeded", T0 + D + 6 * H, CHG[2]),
        (3, MAIL, "staging", "succeeded", T0 + D, None),
        (4, PAYROLL, "production", "failed", T0 + 2 * D + H, CHG[3]),
        (5, PAYROLL, "production", "in_progress", T0 + 2 * D + 2 * H, None),
    ]
    return [
        _event(
            DeploymentRecorded(
                deployment_id=uid(f"dep{n}"),
                service_id=svc,
                service="x",
                environment=env,
                result=result,
                change_id=change,
                finished_at=None if result == "in_progress" else at,
                recorded_at=at,
            ),
            uid(f"dep{n}"),
            at,
            "change",
        )
        for n, svc, env, result, at, change in plan
    ]


def _request(
    cls: type[EventData], n: int, item: str, status: str, submitted: datetime, at: datetime, **extra: Any
) -> CloudEvent:
    data = cls(
        request_id=REQ[n],
        number=f"REQ000000{n}",
        status=status,
        catalogue_item=item,
        requester="r",
        service_id=MAIL,
        priority=4,
        assignment_group="desk",
        actor="a",
        occurred_at=at,
        submitted_at=submitted,
        **extra,
    )
    return _event(data, REQ[n], at, "incident")


def _fulfilled(n: int, submitted: datetime, at: datetime, met: bool) -> CloudEvent:
    sla = [SlaResult(target="resolution", target_business_s=1, elapsed_business_s=1, met=met)]
    return _request(RequestFulfilled, n, "laptop", "fulfilled", submitted, at, fulfilled_at=at, sla=sla)


def requests() -> list[CloudEvent]:
    return [
        _request(RequestSubmitted, 1, "laptop", "submitted", T0, T0),
        _fulfilled(1, T0, T0 + 10 * H, True),
        _request(RequestSubmitted, 2, "laptop", "submitted", T0 + H, T0 + H),
        _fulfilled(2, T0 + H, T0 + 21 * H, False),
        _request(RequestSubmitted, 3, "mailbox", "submitted", T0 + 2 * H, T0 + 2 * H),
        _request(RequestRejected, 3, "mailbox", "rejected", T0 + 2 * H, T0 + 3 * H, approver="boss"),
    ]


def problems() -> list[CloudEvent]:
    base_a = {"problem_id": PRB_A, "number": "PRB0000001", "title": "p", "service_id": MAIL, "actor": "a"}
    linked = [INC[2], INC[3]]
    events = [
        _event(
            ProblemCreated(**base_a, status="new", origin="recurrence", incident_ids=linked, occurred_at=T0 + 3 * H),
            PRB_A,
            T0 + 3 * H,
            "incident",
        ),
        _event(
            ProblemKnownErrorPublished(
                **base_a,
                status="known_error",
                incident_ids=linked,
                occurred_at=T0 + 4 * H,
                known_error_id=uid("ke"),
                root_cause="rc",
                workaround="wa",
            ),
            PRB_A,
            T0 + 4 * H,
            "incident",
        ),
        _event(
            ProblemResolved(**base_a, status="resolved", incident_ids=linked, occurred_at=T0 + 3 * D, change_id=CHG[1]),
            PRB_A,
            T0 + 3 * D,
            "incident",
        ),
        _event(
            ProblemCreated(
                problem_id=PRB_B,
                number="PRB0000002",
                title="q",
                service_id=PAYROLL,
                actor="a",
                status="new",
                origin="manual",
                occurred_at=T0 + D,
            ),
            PRB_B,
            T0 + D,
            "incident",
        ),
    ]
    for n in (2, 3):
        events.append(
            _event(
                IncidentLinkedToProblem(
                    incident_id=INC[n],
                    incident_number=f"INC000000{n}",
                    problem_id=PRB_A,
                    problem_number="PRB0000001",
                    reason="recurrence",
                    occurred_at=T0 + 3 * H,
                ),
                INC[n],
                T0 + 3 * H,
                "incident",
            )
        )
    return events


def configuration() -> list[CloudEvent]:
    cis = [
        (MAIL, "Mail", "business_service", "active", 2, None),
        (PAYROLL, "Payroll", "business_service", "active", 2, None),
        (SRV1, "srv1", "server", "in_use", 1, ACME),
        (SRV2, "srv2", "server", "in_use", 3, None),
    ]
    events = [
        _event(
            ConfigItemCreated(
                ci_id=ci,
                number=f"CI{name}",
                name=name,
                type=t,
                status=s,
                criticality=c,
                created_at=T0 - D,
                supplier_id=sup,
            ),
            ci,
            T0 - D,
            "config",
        )
        for ci, name, t, s, c, sup in cis
    ]
    cause = Cause(kind="manual", actor="a")
    events.append(
        _event(
            ConfigItemRetired(ci_id=SRV2, number="CIsrv2", version=2, cause=cause, retired_at=T0), SRV2, T0, "config"
        )
    )
    events.append(
        _event(
            ConfigItemUnauthorisedChangeDetected(
                finding_id=uid("finding"),
                ci_id=SRV1,
                number="CIsrv1",
                name="srv1",
                criticality=1,
                source="vcenter",
                run_id=uid("run"),
                differences={"memory": {"old": 1, "new": 2}},
                detected_at=T0 + H,
            ),
            SRV1,
            T0 + H,
            "config",
        )
    )
    events.append(
        _event(
            ConfigChangeRejected(change_id=CHG[4], change_number="CHG0000004", errors=[], rejected_at=T0 + 3 * D),
            CHG[4],
            T0 + 3 * D,
            "config",
        )
    )
    return events


def capacity() -> list[CloudEvent]:
    """srv1's disk: warning (runway 3 days), critical, then back to warning; its cpu: warning with
    no runway (flat); srv2's disk: warning, then cleared to ok. (An event's id is made from its key,
    subject and time: two crossings of one CI are at different instants.)"""

    def crossing(
        kind: type[Any], ci: uuid.UUID, metric: str, level: str, now: str, value: float, at: datetime, **extra: Any
    ) -> CloudEvent:
        data = kind(
            ci_id=ci,
            metric=metric,
            unit="ratio",
            level=level,
            current_level=now,
            value=value,
            warning=0.8,
            critical=0.9,
            sampled_at=at,
            **extra,
        )
        return _event(data, ci, at + M, "config")  # published a minute after the sample

    return [
        crossing(
            CapacityThresholdBreached,
            SRV1,
            "disk",
            "warning",
            "warning",
            0.82,
            T0 + H,
            runway_to_critical_s=3 * 86400.0,
        ),
        crossing(CapacityThresholdBreached, SRV1, "disk", "critical", "critical", 0.95, T0 + 2 * H),
        crossing(CapacityThresholdCleared, SRV1, "disk", "critical", "warning", 0.85, T0 + 3 * H),
        crossing(CapacityThresholdBreached, SRV1, "cpu", "warning", "warning", 0.81, T0 + 90 * M),
        crossing(
            CapacityThresholdBreached, SRV2, "disk", "warning", "warning", 0.8, T0 + H, runway_to_critical_s=86400.0
        ),
        crossing(CapacityThresholdCleared, SRV2, "disk", "warning", "ok", 0.5, T0 + 5 * H),
    ]


def suppliers() -> list[CloudEvent]:
    contract = {"contract_id": CONTRACT, "number": "CTR0000001", "supplier_id": ACME, "actor": "a"}
    contract2 = {"contract_id": CONTRACT2, "number": "CTR0000002", "supplier_id": GLOBEX, "actor": "a"}
    signed = T0 + 90 * M
    return [
        _event(
            SupplierCreated(
                supplier_id=ACME,
                number="SUP0000001",
                name="Acme",
                category="hosting",
                status="active",
                created_at=T0 - D,
            ),
            ACME,
            T0 - D,
            "supplier",
        ),
        _event(ContractCreated(**contract, status="draft", occurred_at=T0 - D), CONTRACT, T0 - D, "supplier"),
        _event(
            ContractActivated(
                **contract,
                status="active",
                occurred_at=T0 - D + H,
                starts_on=T0 - D,
                ends_on=T0 + 365 * D,
                ci_ids=[SRV1],
                service_ids=[PAYROLL],
            ),
            CONTRACT,
            T0 - D + H,
            "supplier",
        ),
        _event(
            SupplierCreated(
                supplier_id=GLOBEX,
                number="SUP0000002",
                name="Globex",
                category="services",
                status="active",
                created_at=T0 - D,
            ),
            GLOBEX,
            T0 - D,
            "supplier",
        ),
        # Drafted and activated in one backdated step: both events at the same instant.
        _event(ContractCreated(**contract2, status="draft", occurred_at=signed), CONTRACT2, signed, "supplier"),
        _event(
            ContractActivated(
                **contract2,
                status="active",
                occurred_at=signed,
                starts_on=signed,
                ends_on=T0 + 365 * D,
                service_ids=[MAIL],
            ),
            CONTRACT2,
            signed,
            "supplier",
        ),
        _event(
            SupplierTargetBreached(
                supplier_id=ACME,
                contract_id=CONTRACT,
                metric="response",
                priority=3,
                target=3600,
                actual=5400,
                incident_id=INC[4],
                period="2026-10",
                occurred_at=T0 + D + 30 * M,
            ),
            ACME,
            T0 + D + 30 * M,
            "supplier",
        ),
        _event(
            DisputeOpened(
                dispute_id=uid("dispute"),
                number="DSP0000001",
                supplier_id=ACME,
                title="d",
                owner="o",
                status="open",
                occurred_at=T0 + D,
            ),
            uid("dispute"),
            T0 + D,
            "supplier",
        ),
    ]


SURVEY = {n: uid(f"survey{n}") for n in range(1, 4)}
CMP1, CMP2 = uid("cmp1"), uid("cmp2")


def _survey(n: int, ticket: uuid.UUID, number: str, service: uuid.UUID, who: str, issued: datetime) -> dict[str, Any]:
    return {
        "survey_id": SURVEY[n],
        "number": f"SRV000000{n}",
        "ticket_kind": "incident" if number.startswith("INC") else "request",
        "ticket_id": ticket,
        "ticket_number": number,
        "service_id": service,
        "respondent": who,
        "issued_at": issued,
        "expires_at": issued + 14 * D,
    }


def _complaint(complaint_id: uuid.UUID, n: int, service: uuid.UUID, who: str, via: str, at: datetime) -> dict[str, Any]:
    return {
        "complaint_id": complaint_id,
        "number": f"CMP000000{n}",
        "title": "t",
        "status": "received",
        "complainant": who,
        "received_via": via,
        "service_id": service,
        "received_at": at,
        "acknowledge_due_at": at + D,
        "respond_due_at": at + 10 * D,
        "actor": "itsm-surveys",
        "occurred_at": at,
    }


def satisfaction() -> list[CloudEvent]:
    """Surveys: carol answers 5 on INC1 (Mail); dan answers 2 on INC2 (Mail), which opens CMP1;
    carol is sent one on REQ1 (Payroll) and does not answer. CMP2: erin, by email, on Payroll,
    then acknowledged."""
    one = _survey(1, INC[1], "INC0000001", MAIL, "carol", T0 + 2 * H)
    two = _survey(2, INC[2], "INC0000002", MAIL, "dan", T0 + 4 * H)
    three = _survey(3, REQ[1], "REQ0000001", PAYROLL, "carol", T0 + D)
    cmp1 = _complaint(CMP1, 1, MAIL, "dan", "survey", T0 + 5 * H)
    cmp2 = _complaint(CMP2, 2, PAYROLL, "erin", "email", T0 + D)
    acknowledged = {**cmp2, "status": "acknowledged", "previous_status": "received", "occurred_at": T0 + D + H}
    return [
        *(
            _event(
                SurveyIssued(**s, occurred_at=s["issued_at"], sampling_rate=1.0),
                s["survey_id"],
                s["issued_at"],
                "incident",
            )
            for s in (one, two, three)
        ),
        _event(
            SurveyAnswered(**one, occurred_at=T0 + 3 * H, answered_at=T0 + 3 * H, score=5, has_comment=False),
            SURVEY[1],
            T0 + 3 * H,
            "incident",
        ),
        _event(
            SurveyAnswered(
                **two, occurred_at=T0 + 5 * H, answered_at=T0 + 5 * H, score=2, has_comment=True, complaint_id=CMP1
            ),
            SURVEY[2],
            T0 + 5 * H,
            "incident",
        ),
        _event(ComplaintReceived(**cmp1), CMP1, T0 + 5 * H, "incident"),
        _event(ComplaintReceived(**cmp2), CMP2, T0 + D, "incident"),
        _event(
            ComplaintAcknowledged(**acknowledged, acknowledged_at=T0 + D + H, acknowledge_breached=False),
            CMP2,
            T0 + D + H,
            "incident",
        ),
    ]


PLAN_MAIL, PLAN_PAYROLL, INVOCATION = uid("plan-mail"), uid("plan-payroll"), uid("invocation-1")


def continuity() -> list[CloudEvent]:
    """Mail's continuity plan: recorded T0 - 30 days, tested T0 - 20 days (two deficiencies, one
    requirement missed; next test T0 + 345 days), version 2 at T0 - 10 days under CHG0000009; a
    major change (CHG0000002) makes a re-test due by T0 + 31 days (due at NOW); invoked for INC1 at
    T0 + 30 min, back to normal at T0 + 2 h, reviewed T0 + 1 day. Payroll's availability plan,
    recorded T0 - 400 days and never tested, was due at T0 - 35 days: overdue."""

    def recorded(
        plan: uuid.UUID, kind: str, title: str, version: int, service: uuid.UUID, due: datetime, at: datetime
    ) -> CloudEvent:
        data = ContinuityPlanRecorded(
            plan_id=plan,
            kind=kind,
            title=title,
            version=version,
            service_ids=[service],
            change_number=None if version == 1 else "CHG0000009",
            test_due_by=due,
            recorded_at=at,
            recorded_by="carol",
        )
        return _event(data, plan, at, "config")

    mail = (PLAN_MAIL, "continuity", "Mail continuity")
    tested = ContinuityTestRecorded(
        test_id=uid("test-1"),
        plan_id=PLAN_MAIL,
        plan_version=1,
        type="failover",
        tested_at=T0 - 20 * D,
        requirements_met=2,
        requirements_missed=1,
        deficiencies=2,
        reviewed=True,
        test_due_by=T0 + 345 * D,
        recorded_by="carol",
    )
    retest = ContinuityRetestDue(
        plan_id=PLAN_MAIL,
        title="Mail continuity",
        change_number="CHG0000002",
        service_ids=[MAIL],
        test_due_by=T0 + 31 * D,
        occurred_at=T0 + D,
    )
    incident = {"invocation_id": INVOCATION, "plan_id": PLAN_MAIL, "major_incident_number": "INC0000001"}
    invoked = ContinuityInvoked(
        **incident,
        title="Mail continuity",
        service_ids=[MAIL],
        reason="Mail down in the primary site",
        invoked_at=T0 + 30 * M,
        invoked_by="ivan",
    )
    returned = ContinuityReturnedToNormal(
        **incident, invoked_at=T0 + 30 * M, returned_to_normal_at=T0 + 2 * H, recorded_by="ivan"
    )
    reviewed = ContinuityInvocationReviewed(**incident, reviewed_at=T0 + D, reviewed_by="ivan")
    return [
        recorded(*mail, 1, MAIL, T0 + 335 * D, T0 - 30 * D),
        _event(tested, PLAN_MAIL, T0 - 20 * D, "config"),
        recorded(*mail, 2, MAIL, T0 + 345 * D, T0 - 10 * D),
        _event(retest, PLAN_MAIL, T0 + D, "config"),
        recorded(PLAN_PAYROLL, "availability", "Payroll availability", 1, PAYROLL, T0 - 35 * D, T0 - 400 * D),
        _event(invoked, INVOCATION, T0 + 30 * M, "config"),
        _event(returned, INVOCATION, T0 + 2 * H, "config"),
        _event(reviewed, INVOCATION, T0 + D, "config"),
    ]


CUSTOMER = uid("customer-acme")
SLA_V1, SLA_V2, OLA = uid("sla-v1"), uid("sla-v2"), uid("ola-ops")


def agreements() -> list[CloudEvent]:
    """Config's agreements: Acme's SLA on Mail, v1 agreed the day before T0 (99.5%), v2 agreed two days
    after T0 (99.9%) superseding v1; an OLA with the ops group (no customer: no row of its own).
    Incidents 1 and 2 (Mail) are Acme's: both responses met, resolution met once."""
    terms: dict[str, Any] = {
        "number": "SLA0000001",
        "kind": "sla",
        "title": "Acme mail",
        "customer_id": CUSTOMER,
        "customer_name": "Acme Corp",
        "service_ids": [MAIL],
        "targets": [{"priority": 1, "response_minutes": 15, "resolution_minutes": 240}],
        "calendar": "24x7",
        "review_date": date(2027, 10, 1),
        "actor": "sally",
    }
    v1 = {**terms, "agreement_id": SLA_V1, "document_version": 1, "availability_pct": 99.5}
    v2 = {**terms, "agreement_id": SLA_V2, "document_version": 2, "availability_pct": 99.9}
    ola = {**terms, "agreement_id": OLA, "number": "OLA0000002", "kind": "ola", "customer_id": None, "group": "ops"}
    ola |= {"customer_name": None, "document_version": 1, "availability_pct": 99.0}
    return [
        _event(
            AgreementAgreed(**v1, status="agreed", occurred_at=T0 - D, change_number="CHG0000001"),
            SLA_V1,
            T0 - D,
            "config",
        ),
        _event(AgreementAgreed(**ola, status="agreed", occurred_at=T0 - D), OLA, T0 - D, "config"),
        _event(
            AgreementAgreed(**v2, status="agreed", occurred_at=T0 + 2 * D, supersedes=SLA_V1),
            SLA_V2,
            T0 + 2 * D,
            "config",
        ),
        _event(
            AgreementSuperseded(**v1, status="superseded", occurred_at=T0 + 2 * D, superseded_by=SLA_V2),
            SLA_V1,
            T0 + 2 * D,
            "config",
        ),
    ]


BUDGET_MAIL, BUDGET_PAYROLL, BUDGET_PAYROLL_NOV = uid("budget-mail"), uid("budget-payroll"), uid("budget-payroll-11")
IMPORT = uid("cost-import-1")


def costs() -> list[CloudEvent]:
    """Config's budgets and finance's actuals, all in EUR (the report is produced on 2026-10-07).

    Budgets: Mail, October (2026-10-01 to 31): licence 1000.00, personnel 3000.00. Payroll, October:
    asset 500.00, external 1200.00. Payroll, November: opex 800.00.
    Actuals: FIN-001 Mail licence 700.00 (10-02); FIN-002 Mail personnel 1000.10 (10-03); FIN-003 a
    shared 100.01 (10-04) split by the rule hosting v1 (two thirds, one third: Mail 66.67, Payroll
    33.34); FIN-004 Payroll external 1300.00 (10-05) and its correction FIN-004-C, a credit of
    -150.00 (10-06); FIN-005 Mail licence 50.00 on 09-30 (before the budget's period); FIN-006 Mail
    licence 20.00 on 10-08 and FIN-007 Payroll opex 40.00 on 11-02 (after the report's day)."""
    at = T0 - 4 * D

    def budget(budget_id: uuid.UUID, service: uuid.UUID, start: date, end: date, lines: dict[str, str]) -> CloudEvent:
        amounts = {k: Decimal(v) for k, v in lines.items()}
        data = BudgetCreated(
            budget_id=budget_id,
            service_id=service,
            period_start=start,
            period_end=end,
            currency="EUR",
            lines=[BudgetLine(category=k, amount=v) for k, v in amounts.items()],
            total=sum(amounts.values(), Decimal(0)),
            created_at=at,
            created_by="fiona",
        )
        return _event(data, budget_id, at, "config")

    def actual(
        reference: str, category: str, on: date, parts: dict[uuid.UUID, str], rule: str | None = None
    ) -> CloudEvent:
        amounts = [AllocatedPart(service_id=s, amount=Decimal(a)) for s, a in parts.items()]
        data = CostActualRecorded(
            reference=reference,
            import_id=IMPORT,
            category=category,
            amount=sum((p.amount for p in amounts), Decimal(0)),
            currency="EUR",
            incurred_on=on,
            allocation_rule=rule,
            allocation_version=1 if rule else None,
            parts=amounts,
        )
        return _event(data, uid(reference), T0 + 36 * H, "config")

    rule = CostAllocationRuleRecorded(
        name="hosting",
        version=1,
        basis="fixed_percent",
        service_ids=[MAIL, PAYROLL],
        percents={MAIL: Decimal("66.6667"), PAYROLL: Decimal("33.3333")},
        recorded_at=at,
        recorded_by="fiona",
    )
    imported = CostActualsImported(
        import_id=IMPORT, rows=8, accepted=8, refused=0, imported_at=T0 + 36 * H, imported_by="fiona"
    )
    oct1, oct31 = date(2026, 10, 1), date(2026, 10, 31)
    return [
        budget(BUDGET_MAIL, MAIL, oct1, oct31, {"licence": "1000.00", "personnel": "3000"}),
        budget(BUDGET_PAYROLL, PAYROLL, oct1, oct31, {"asset": "500", "external": "1200.00"}),
        budget(BUDGET_PAYROLL_NOV, PAYROLL, date(2026, 11, 1), date(2026, 11, 30), {"opex": "800.00"}),
        _event(rule, uid("rule-hosting"), at, "config"),
        actual("FIN-001", "licence", date(2026, 10, 2), {MAIL: "700.00"}),
        actual("FIN-002", "personnel", date(2026, 10, 3), {MAIL: "1000.10"}),
        actual("FIN-003", "shared", date(2026, 10, 4), {MAIL: "66.67", PAYROLL: "33.34"}, rule="hosting"),
        actual("FIN-004", "external", date(2026, 10, 5), {PAYROLL: "1300.00"}),
        actual("FIN-004-C", "external", date(2026, 10, 6), {PAYROLL: "-150.00"}),
        actual("FIN-005", "licence", date(2026, 9, 30), {MAIL: "50.00"}),
        actual("FIN-006", "licence", date(2026, 10, 8), {MAIL: "20.00"}),
        actual("FIN-007", "opex", date(2026, 11, 2), {PAYROLL: "40.00"}),
        _event(imported, IMPORT, T0 + 36 * H, "config"),
    ]


def change_costs() -> list[CloudEvent]:
    """The change service's cost statements (each replaces the change's earlier ones).

    CHG1: stated at T0 on Mail and Payroll, estimate 90.00 (published late, at T0 + 6 h: an outbox
    replay); restated at T0 + 5 h on Mail only,
    estimate 100.00, actual 120.50. CHG2: Mail and Payroll, estimate 300.00, actual 250.00 (T0 + 1 d).
    CHG3: Payroll, estimate 80.00 and actual 75.00 (T0 + 2 d), restated an hour later with the
    actual withdrawn. CHG4: Payroll, in USD, estimate 10.00, actual 12.34, on 2026-11-03."""

    def stated(
        n: int,
        at: datetime,
        services: list[uuid.UUID],
        estimate: str | None,
        actual: str | None,
        currency: str = "EUR",
        published: datetime | None = None,
    ) -> CloudEvent:
        data = ChangeCostStated(
            change_id=CHG[n],
            number=f"CHG000000{n}",
            service_ids=services,
            currency=currency,
            estimated_cost=None if estimate is None else Decimal(estimate),
            actual_cost=None if actual is None else Decimal(actual),
            cost_category="opex",
            budget_id=None,
            stated_at=at,
            stated_by="carol",
        )
        return _event(data, CHG[n], published or at, "change")

    return [
        stated(1, T0, [MAIL, PAYROLL], "90.00", None, published=T0 + 6 * H),  # published late: stated_at orders
        stated(1, T0 + 5 * H, [MAIL], "100.00", "120.50"),
        stated(2, T0 + D, [MAIL, PAYROLL], "300.00", "250"),
        stated(3, T0 + 2 * D, [PAYROLL], "80.00", "75.00"),
        stated(3, T0 + 2 * D + H, [PAYROLL], "80.00", None),
        stated(4, datetime(2026, 11, 3, 9, tzinfo=UTC), [PAYROLL], "10.00", "12.34", currency="USD"),
    ]


def all_events() -> list[CloudEvent]:
    return [
        *[e for i in incidents() for e in i.events],
        *changes(),
        *deployments(),
        *requests(),
        *problems(),
        *configuration(),
        *suppliers(),
        *satisfaction(),
        *capacity(),
        *continuity(),
        *agreements(),
        *costs(),
        *change_costs(),
    ]
