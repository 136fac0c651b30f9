"""Route dependencies of the CMDB: its authorisation table (who may call each route), and the
records routes read, loaded once or answered with 404 (`CurrentItem`, `CurrentCIType`, ...)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends

from services.config.domain.items import ConfigItem
from services.config.domain.types import BUSINESS_SERVICE, CIType
from services.config.store.baselines import get_baseline
from services.config.store.discovery import get_run
from services.config.store.items import get_config_item
from services.config.store.types import TypeRepository
from shared.app import ReadConnectionDep
from shared.auth import READ_ROLES, Principal, Role
from shared.authorization import Access, Policy, Rule, row
from shared.errors import NotFound, found

# ---------------------------------------------------------------------------- the authorisation table

_WRITE = row(allow=[Role.CONFIG_MANAGER])
"""Who changes the CMDB: types, CIs, relationships, discovery runs, baselines, imports."""
_CMDB = row(allow=READ_ROLES - {Role.REQUESTER})
"""The CMDB is staff's: agents and managers diagnose, assess and approve against it, the auditor
reads everything, and the change service asks for impact with a read-only (auditor) token. A
requester reports against a service, not a CI (as in ServiceNow, the portal offers the service
catalogue, not the CMDB); the machine tokens read nothing here."""

_INVOKE = row(allow=[Role.CONFIG_MANAGER, Role.INCIDENT_MANAGER])
"""Who invokes a continuity plan and records its return to normal and review."""
_SERVICE_LEVELS = row(allow=[Role.SERVICE_LEVEL_MANAGER])
"""Who keeps the customers and their agreements (service level management, ISO/IEC 20000-1 8.3.3)."""
_BUDGETS = row(allow=[Role.SERVICE_LEVEL_MANAGER])
"""Who keeps service budgets, allocation rules and finance's actuals (6.4): the service level
manager, who answers for the services' costs to their customers (there is no finance role)."""
_COSTS = row(allow=[Role.SERVICE_LEVEL_MANAGER, Role.CONFIG_MANAGER, Role.CHANGE_MANAGER, Role.AUDITOR])
"""Who reads costs and budgets: those who keep them, the change manager costing changes (6.4:
information to change management), and the auditor. Agents and requesters do not."""

TABLE: dict[str, dict[str, Rule]] = {
    "types.list_ci_types": _CMDB,
    "types.get_ci_type": _CMDB,
    "types.create_ci_type": _WRITE,
    "items.create_config_item": _WRITE,
    "items.get_config_item": _CMDB,
    "items.update_config_item": _WRITE,
    "items.retire_config_item": _WRITE,
    "items.list_config_items": _CMDB,
    "items.ci_history": _CMDB,
    "change_control.ci_changes": _CMDB,
    "relationships.ci_relationships": _CMDB,
    "relationships.create_relationship": _WRITE,
    "relationships.delete_relationship": _WRITE,
    "impact.impact": _CMDB,
    "discovery.create_discovery_run": _WRITE,
    "discovery.get_discovery_run": _CMDB,
    "discovery.list_discovery_runs": _CMDB,
    "baselines.create_baseline": _WRITE,
    "baselines.get_baseline": _CMDB,
    "baselines.list_baselines": _CMDB,
    "baselines.compare_baseline": _CMDB,
    "audit.configuration_audit": _CMDB,
    # The catalogue's offering (name, description, hours, SLA tier) is what a requester picks a
    # service from when they report or request something: every person's role reads it.
    "catalogue.service_catalogue": row(allow=READ_ROLES),
    # A service's detail adds the CIs it runs on, which is the CMDB: staff only.
    "catalogue.service_detail": _CMDB,
    "catalogue.single_points_of_failure": _CMDB,
    "bulk.export_cis": _CMDB,
    "bulk.export_relationships": _CMDB,
    "bulk.import_cis": _WRITE,
    "bulk.import_relationships": _WRITE,
    # Capacity (6.5): the configuration manager defines metrics, thresholds and plans; staff read
    # utilisation, samples, runway and plans (an agent diagnosing a slow service looks here).
    "capacity.create_capacity_metric": _WRITE,
    "capacity.list_capacity_metrics": _CMDB,
    "capacity.get_capacity_metric": _CMDB,
    "capacity.put_capacity_threshold": _WRITE,
    "capacity.capacity_samples": _CMDB,
    "capacity.capacity_runway": _CMDB,
    "capacity.create_capacity_plan": _WRITE,
    "capacity.get_capacity_plan": _CMDB,
    "capacity.list_capacity_plans": _CMDB,
    # Continuity and availability (6.3): the configuration manager keeps the plans (a new version
    # under an approved change), records tests and exports the offline pack; the incident manager,
    # who leads a major incident, invokes a continuity plan and records the return and the review.
    "continuity.create_continuity_plan": _WRITE,
    "continuity.list_continuity_plans": _CMDB,
    "continuity.get_continuity_plan": _CMDB,
    "continuity.revise_continuity_plan": _WRITE,
    "continuity.continuity_plan_versions": _CMDB,
    "continuity.record_continuity_test": _WRITE,
    "continuity.list_continuity_tests": _CMDB,
    "continuity.invoke_continuity_plan": _INVOKE,
    "continuity.get_continuity_invocation": _CMDB,
    "continuity.return_to_normal": _INVOKE,
    "continuity.review_invocation": _INVOKE,
    "continuity.export_continuity_pack": _WRITE,
    # Customers and agreements (6.1, 7.1): the service level manager keeps the customer registry
    # and the agreements, controlled documents (agreeing one also needs an approved change); staff
    # read them (an agent sees which customer's targets apply, the auditor finds the evidence).
    "customers.create_customer": _SERVICE_LEVELS,
    "customers.list_customers": _CMDB,
    "customers.get_customer": _CMDB,
    "customers.update_customer": _SERVICE_LEVELS,
    "customers.review_customer": _SERVICE_LEVELS,
    "agreements.create_agreement": _SERVICE_LEVELS,
    "agreements.list_agreements": _CMDB,
    "agreements.get_agreement": _CMDB,
    "agreements.update_agreement": _SERVICE_LEVELS,
    "agreements.agree_agreement": _SERVICE_LEVELS,
    "agreements.retire_agreement": _SERVICE_LEVELS,
    "agreements.create_agreement_version": _SERVICE_LEVELS,
    # Budgeting and accounting (6.4): a CI's cost attributes are CMDB data (the configuration
    # manager, under change control on a controlled CI); budgets, allocation rules and actuals
    # are the service level manager's; costs are read by the few who need them (`_COSTS`).
    "budgets.put_ci_cost": _WRITE,
    "budgets.create_budget": _BUDGETS,
    "budgets.list_budgets": _COSTS,
    "budgets.get_budget": _COSTS,
    "budgets.budget_report": _COSTS,
    "costs.create_allocation_rule": _BUDGETS,
    "costs.list_allocation_rules": _COSTS,
    "costs.get_allocation_rule": _COSTS,
    "costs.import_cost_actuals": _BUDGETS,
    "costs.list_cost_actuals": _COSTS,
}

POLICY = Policy("config", TABLE, [])
"""No CI is anyone's own: every cell is allow or deny."""
Authorised = Annotated[Access, Depends(POLICY.enforce)]
Caller = Annotated[Principal, Depends(POLICY.caller)]
"""Who the table let through (routers install `POLICY.enforce` first)."""


async def current_item(ci_id: UUID, conn: ReadConnectionDep) -> ConfigItem:
    return found(await get_config_item(conn, ci_id), f"configuration item {ci_id}")


async def current_ci_type(name: str, conn: ReadConnectionDep) -> CIType:
    ci_type = await TypeRepository(conn).get(name)
    if ci_type is None:
        raise NotFound(f"there is no CI type {name!r}")
    return ci_type


async def current_service(service_id: UUID, conn: ReadConnectionDep) -> ConfigItem:
    """A business service: any other CI is no service of the catalogue."""
    service = await get_config_item(conn, service_id)
    if service is None or service.ci_type != BUSINESS_SERVICE:
        raise NotFound(f"there is no business service {service_id}")
    return service


async def current_run(run_id: UUID, conn: ReadConnectionDep) -> Any:
    return found(await get_run(conn, run_id), f"discovery run {run_id}")


async def current_baseline(baseline_id: UUID, conn: ReadConnectionDep) -> Any:
    return found(await get_baseline(conn, baseline_id), f"baseline {baseline_id}")


CurrentItem = Annotated[ConfigItem, Depends(current_item)]
CurrentCIType = Annotated[CIType, Depends(current_ci_type)]
CurrentService = Annotated[ConfigItem, Depends(current_service)]
CurrentRun = Annotated[Any, Depends(current_run)]
"""A stored discovery run (its row)."""
CurrentBaseline = Annotated[Any, Depends(current_baseline)]
"""A baseline's record (its row)."""
