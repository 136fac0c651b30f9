"""The supplier service's records under retention (ISO/IEC 20000-1 4.3.3, `shared.retention_store`):
disputes, with their field history, a policy counting from when a dispute was closed. (Suppliers
and contracts are not under retention yet: contracts, reviews and performance figures name them.)"""

from __future__ import annotations

from services.supplier.store.tables import dispute, outbox, record_history
from shared.evidence import EvidenceSource, Part
from shared.retention_store import Disposable

DISPUTE = EvidenceSource("dispute", dispute, outbox, (Part("history", record_history, "record_id"),))
"""What makes up a dispute: its row, its field history (the rows of `record_history` keyed by its
id), and the events about it."""

DISPOSABLES = (Disposable(DISPUTE, ("closed_at",)),)
