"""Records control routes (ISO/IEC 20000-1 4.3.3): retention policies, legal holds and the disposal
log of changes (`shared.records_control`)."""

from __future__ import annotations

from services.change.api.deps import POLICY
from services.change.store.records_control import DISPOSABLES
from services.change.store.tables import retention
from shared import records_control

router = records_control.router(POLICY, retention, DISPOSABLES)
