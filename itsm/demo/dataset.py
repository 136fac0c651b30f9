"""The demo's data set: the suppliers, the business services with the CIs they run on, and the
people who work on them (the steps plan their records from these).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MARKER = "demo data set"  # in the description of every service the demo creates


@dataclass(frozen=True)
class ServicePlan:
    name: str
    tier: str
    group: str
    supplier: str | None
    components: tuple[tuple[str, str, dict[str, Any]], ...]
    """(name, CI type, attributes) of what the service runs on."""
    incident_rate: float
    """Incidents per working day on average."""


SUPPLIERS: tuple[dict[str, Any], ...] = (
    {"name": "Northwind Cloud", "category": "cloud", "risk_rating": "medium", "contact_email": "noc@northwind.test"},
    {"name": "Contoso Networks", "category": "network", "risk_rating": "high", "contact_email": "help@contoso.test"},
    {"name": "Fabrikam Software", "category": "software", "risk_rating": "low", "contact_email": "help@fabrikam.test"},
    {"name": "Litware Facilities", "category": "facilities", "risk_rating": "low", "contact_email": "it@litware.test"},
)

SERVICES: tuple[ServicePlan, ...] = (
    ServicePlan(
        "Email",
        "gold",
        "messaging",
        "Fabrikam Software",
        (
            ("mail-gateway", "application_instance", {"environment": "production"}),
            ("exchange-db", "database", {"engine": "sqlserver"}),
            ("mail-vm-01", "virtual_machine", {"os": "Windows Server 2022", "environment": "production"}),
        ),
        2.2,
    ),
    ServicePlan(
        "Customer portal",
        "gold",
        "web-platform",
        "Northwind Cloud",
        (
            ("portal-web", "container_workload", {"replicas": 6, "environment": "production"}),
            ("portal-api", "container_workload", {"replicas": 4, "environment": "production"}),
            ("portal-db", "database", {"engine": "postgresql", "engine_version": "16"}),
        ),
        2.6,
    ),
    ServicePlan(
        "Payroll",
        "silver",
        "business-apps",
        "Fabrikam Software",
        (
            ("payroll-app", "application_instance", {"environment": "production"}),
            ("payroll-db", "database", {"engine": "oracle"}),
        ),
        0.8,
    ),
    ServicePlan(
        "Order management",
        "gold",
        "business-apps",
        "Northwind Cloud",
        (
            ("orders-api", "container_workload", {"replicas": 3, "environment": "production"}),
            ("orders-db", "database", {"engine": "postgresql", "engine_version": "15"}),
            ("orders-queue", "application_instance", {"environment": "production"}),
        ),
        1.7,
    ),
    ServicePlan(
        "Remote access (VPN)",
        "silver",
        "network-ops",
        "Contoso Networks",
        (
            ("vpn-concentrator", "network_device", {"role": "firewall"}),
            ("core-switch-a", "network_device", {"role": "switch"}),
        ),
        1.3,
    ),
)

FLAKY_CIS = ("portal-api", "vpn-concentrator", "orders-db")  # the hot spots problem management finds


AGENTS = {
    "messaging": ("ana.silva", "tom.berg"),
    "web-platform": ("li.wei", "sam.okafor"),
    "business-apps": ("maria.rossi", "jon.hale"),
    "network-ops": ("raj.patel", "eva.novak"),
    "service-desk": ("kim.lee", "dan.ortiz"),
}
GROUPS_OF = {
    person: tuple(g for g, people in AGENTS.items() if person in people)
    for people in AGENTS.values()
    for person in people
}
"""The assignment groups each agent works in: their token's `groups` (an agent works what is
assigned to them or their group)."""
CHANGE_MANAGER = "grace.hopper"
CAB = ("cab.alice", "cab.bob")
