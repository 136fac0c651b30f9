"""Which process events raise an entry in the improvement register (ISO/IEC 20000-1 4.5.5), and
what it says: a failed change, a post-implementation review that found the change fell short, a
complaint, a low survey score (one that opened no complaint: the complaint raises its own). SLA
breaches count per service and month (`improvements.breach_proposal`). Pure: no I/O."""

from __future__ import annotations

from services.reporting.domain.improvements import ImprovementKind, ImprovementSource, IntakePolicy, Proposal
from shared.events import EventData
from shared.events.change import ChangeFailed, ChangeReviewed
from shared.events.complaint import ComplaintReceived
from shared.events.survey import SurveyAnswered

_TEXT = 2000


def proposal_for(data: EventData, policy: IntakePolicy) -> Proposal | None:
    """The entry an event raises, or None."""
    if isinstance(data, ChangeFailed):
        return Proposal(
            ImprovementKind.NONCONFORMITY,
            ImprovementSource.FAILED_CHANGE,
            data.number,
            f"Change {data.number} failed" + (" and was backed out" if data.backed_out else ""),
            data.notes[:_TEXT],
            owner=data.requested_by,
        )
    if isinstance(data, ChangeReviewed):
        if data.objectives_met is not False and not data.incident_ids:
            return None
        caused = f"; {len(data.incident_ids)} incident(s) caused" if data.incident_ids else ""
        return Proposal(
            ImprovementKind.IMPROVEMENT,
            ImprovementSource.POST_IMPLEMENTATION_REVIEW,
            data.number,
            f"Review of change {data.number}: {data.outcome}"[:200],
            (f"Objectives met: {data.objectives_met}{caused}. Lessons: {data.lessons or 'none recorded'}")[:_TEXT],
            measure="incidents caused by the change",
            before=float(len(data.incident_ids)),
        )
    if isinstance(data, ComplaintReceived):
        return Proposal(
            ImprovementKind.NONCONFORMITY,
            ImprovementSource.COMPLAINT,
            data.number,
            f"Complaint {data.number}: {data.title}"[:200],
            f"Received via {data.received_via} from {data.complainant}.",
            owner=data.relationship_manager or data.owner,
        )
    if isinstance(data, SurveyAnswered):
        if data.score > policy.low_score_max or data.complaint_id is not None:
            return None
        return Proposal(
            ImprovementKind.IMPROVEMENT,
            ImprovementSource.SURVEY,
            data.number,
            f"Low satisfaction score {data.score} on {data.ticket_number}",
            f"Survey {data.number} on {data.ticket_kind} {data.ticket_number} scored {data.score} of 5.",
            measure="satisfaction score",
            before=float(data.score),
        )
    return None
