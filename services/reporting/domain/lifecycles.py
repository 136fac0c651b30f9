"""Each status a fact table keeps, in the order its owning service moves through it (for ties)."""

from __future__ import annotations

# Lifecycles, for ties: each status column's states in the order its owning service moves through
# them (its lifecycle table, named on each line). Every forward step goes up this order; a step back
# (an incident resumed or reopened, a problem or dispute reopened, a contract renewed from
# expiring, a dispute back to negotiation) goes down it, so a step back at the same instant as the
# step it undoes is the one tie this cannot tell apart (the later state in the forward order wins).
# tests/reporting/unit/test_ties.py checks these against the services' tables.

INCIDENT_LIFECYCLE = ("new", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled")
"""incident: services/incident/domain/incident_lifecycle.py TRANSITIONS"""
REQUEST_LIFECYCLE = ("submitted", "approved", "in_fulfilment", "fulfilled", "rejected", "closed", "cancelled")
"""service request: services/incident/domain/requests.py TRANSITIONS"""
PROBLEM_LIFECYCLE = ("new", "under_investigation", "known_error", "resolved", "closed", "cancelled")
"""problem: services/incident/domain/problems.py TRANSITIONS"""
CHANGE_LIFECYCLE = (
    "draft",
    "submitted",
    "assessed",
    "approved",
    "rejected",
    "scheduled",
    "implementing",
    "implemented",
    "failed",
    "reviewed",
    "closed",
    "cancelled",
)
"""change: services/change/domain/changes.py TRANSITIONS"""
DEPLOYMENT_LIFECYCLE = ("in_progress", "succeeded", "failed", "rolled_back")
"""deployment result: services/change/domain/deployments.py RESULT_MOVES"""
COMPLAINT_LIFECYCLE = (
    "received",
    "acknowledged",
    "under_investigation",
    "action_taken",
    "escalated",
    "resolved_pending_confirmation",
    "reopened",
    "closed",
)
"""complaint: services/incident/domain/complaints.py TRANSITIONS"""
CI_LIFECYCLE = ("planned", "in_build", "live", "maintenance", "retired")
"""CI: services/config/domain/items.py CIStatus (set freely, except that retired is final)"""
SUPPLIER_LIFECYCLE = ("onboarding", "active", "suspended", "exited")
"""supplier: services/supplier/domain/suppliers.py SupplierStatus (set freely)"""
CONTRACT_LIFECYCLE = ("draft", "active", "expiring", "expired", "terminated", "cancelled")
"""contract: services/supplier/domain/contracts.py TRANSITIONS"""
DISPUTE_LIFECYCLE = ("open", "in_negotiation", "escalated", "resolved", "closed")
"""dispute: services/supplier/domain/disputes.py DISPUTE_TRANSITIONS"""
AGREEMENT_LIFECYCLE = ("draft", "agreed", "superseded", "retired")
"""service level / operational level agreement: services/config/domain/agreements.py TRANSITIONS"""
