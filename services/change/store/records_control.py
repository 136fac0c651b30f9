"""The change service's records under retention (ISO/IEC 20000-1 4.3.3, `shared.retention_store`):
changes, counted from when a change reached a final status (`closed_at`), and disposed of only in
one (closed or cancelled). With a change go its evidence parts (CIs, services, design, votes,
review, linked incidents) and its continuity impact and costing. (Releases and deployments, which
name changes, are not under retention yet.)"""

from __future__ import annotations

from services.change.domain.changes import FINAL
from services.change.store.evidence import CHANGE
from services.change.store.tables import change_continuity_impact, change_cost
from shared.evidence import Part
from shared.retention_store import Disposable

DISPOSABLES = (
    Disposable(
        CHANGE,
        ("closed_at",),
        also=(Part("continuity", change_continuity_impact, "change_id"), Part("cost", change_cost, "change_id")),
        final=tuple(sorted(FINAL)),
    ),
)
