"""Single points of failure of a business service (6.3 availability planning): the CIs whose loss
alone cuts the service off from all of its supporting CIs of some type."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import ConfigItem
from services.config.domain.spof import MAX_CIS, single_points_of_failure
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store.impact import Summary
from services.config.store.spof import TooLarge, dependency_graph
from shared.errors import RuleViolation


async def service_spofs(conn: AsyncConnection, service: ConfigItem) -> list[tuple[Summary, int, tuple[str, ...]]]:
    """Each single point of failure of `service` with how many CIs its loss cuts off and the types
    it loses, most cut off first, then by number. 422 for a CI that is no business service, or a
    service that depends on more than `MAX_CIS` CIs."""
    if service.ci_type != BUSINESS_SERVICE:
        raise RuleViolation(f"{service.number} is a {service.ci_type}, not a business service", field="service_id")
    found = await spofs_of(conn, service.id)
    if found is None:
        raise RuleViolation(f"the service depends on more than {MAX_CIS} CIs, too many to analyse", field="service_id")
    return found


async def spofs_of(conn: AsyncConnection, service_id: UUID) -> list[tuple[Summary, int, tuple[str, ...]]] | None:
    """The single points of failure of the business service `service_id` (as `service_spofs`), or
    None when it depends on more than `MAX_CIS` CIs."""
    try:
        graph, found = await dependency_graph(conn, service_id)
    except TooLarge:
        return None
    types = {ci: summary.type for ci, summary in found.items()}
    answer = [(found[s.ci_id], s.cut_off, s.types_lost) for s in single_points_of_failure(service_id, graph, types)]
    return sorted(answer, key=lambda a: (-a[1], a[0].number))


def spofs_json(found: list[tuple[Summary, int, tuple[str, ...]]] | None) -> list[dict[str, object]] | None:
    """The single points of failure as the API and the continuity pack show them."""
    if found is None:
        return None
    return [
        {
            "id": str(ci.id),
            "number": ci.number,
            "name": ci.name,
            "type": ci.type,
            "criticality": ci.criticality,
            "cut_off": cut_off,
            "types_lost": list(lost),
        }
        for ci, cut_off, lost in found
    ]
