"""Records control routes (ISO/IEC 20000-1 4.3.3): retention policies, legal holds and the disposal
log of e-mail messages and webhook deliveries (`shared.records_control`)."""

from __future__ import annotations

from services.notify.api.deps import POLICY
from services.notify.store.records_control import DISPOSABLES
from services.notify.store.tables import retention
from shared import records_control

router = records_control.router(POLICY, retention, DISPOSABLES)
