"""The change service's records under retention (ISO/IEC 20000-1 4.3.3, `shared.retention_store`):
changes and releases, counted from when one reached a final status (`closed_at`), and disposed of
only in one (closed or cancelled). With a change go its evidence parts (CIs, services, design,
votes, review, linked incidents) and its continuity impact and costing; a release is one row (its
deployments are records of their own and keep its id). Deployments are not under retention yet."""

from __future__ import annotations

from services.change.domain.changes import FINAL
from services.change.domain.releases import RELEASE_FINAL
from services.change.store.evidence import CHANGE
from services.change.store.tables import change_continuity_impact, change_cost, outbox, release
from shared.evidence import EvidenceSource, Part
from shared.retention_store import Disposable

DISPOSABLES = (
    Disposable(
        CHANGE,
        ("closed_at",),
        also=(Part("continuity", change_continuity_impact, "change_id"), Part("cost", change_cost, "change_id")),
        final=tuple(sorted(FINAL)),
    ),
    Disposable(EvidenceSource("release", release, outbox), ("closed_at",), final=tuple(sorted(RELEASE_FINAL))),
)
