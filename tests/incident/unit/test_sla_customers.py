"""Which policy applies to a customer's incident (pure): the customer's own for the service (set from
their agreed SLA) wins over the service's and the default; another customer's never applies."""

from __future__ import annotations

import uuid
from typing import Any

from services.incident.domain.sla import SlaPolicy, TicketKind, select_policy

CALENDAR = uuid.uuid4()


def policy(priority: int = 3, **changes: Any) -> SlaPolicy:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "p",
        "ticket_kind": TicketKind.INCIDENT,
        "service_id": None,
        "priority": priority,
        "response_s": 600,
        "resolution_s": 3600,
        "calendar_id": CALENDAR,
    }
    return SlaPolicy(**{**values, **changes})


def test_the_customers_policy_for_the_service_wins_and_anothers_never_applies() -> None:
    shop, acme, globex = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    default, for_shop = policy(), policy(service_id=shop)
    acme_shop = policy(service_id=shop, customer_id=acme, agreement_number="SLA0000001")
    acme_any = policy(customer_id=acme)
    globex_shop = policy(service_id=shop, customer_id=globex)
    every = [globex_shop, acme_any, for_shop, default, acme_shop]
    for order in (every, list(reversed(every))):
        assert select_policy(order, TicketKind.INCIDENT, shop, 3, acme) is acme_shop
        assert select_policy(order, TicketKind.INCIDENT, uuid.uuid4(), 3, acme) is acme_any
        assert select_policy(order, TicketKind.INCIDENT, shop, 3, None) is for_shop
        assert select_policy(order, TicketKind.INCIDENT, shop, 3, uuid.uuid4()) is for_shop
        assert select_policy(order, TicketKind.INCIDENT, None, 3, None) is default
        assert select_policy(order, TicketKind.INCIDENT, shop, 3, globex) is globex_shop
    assert select_policy([acme_shop], TicketKind.INCIDENT, shop, 3, None) is None
    assert select_policy([acme_shop], TicketKind.INCIDENT, shop, 2, acme) is None
    assert select_policy([acme_shop], TicketKind.REQUEST, shop, 3, acme) is None
    assert select_policy([acme_any, for_shop], TicketKind.INCIDENT, shop, 3, acme) is acme_any
