"""Agree reports the way the service level manager does, through the use cases (for the tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from services.reporting.domain.agreements import Recipient
from services.reporting.store import agreements as gstore
from services.reporting.usecases import agreements as governance
from shared.uow import UnitOfWork


async def agree(
    unit_of_work: Callable[[], UnitOfWork],
    name: str,
    *,
    at: datetime,
    recipients: Iterable[Recipient] = (),
    parties: tuple[str, ...] = ("customer board",),
) -> int:
    """Propose and agree `name`'s agreement (whatever its latest version); the agreed version."""
    async with unit_of_work() as uow:
        found = await gstore.versions(uow.connection, name)
    expected = found[-1].version if found else None
    proposed = await governance.propose(
        unit_of_work(),
        name,
        expected=expected,
        owner="slm",
        agreed_with=parties,
        distribution_list=list(recipients),
        reason="",
        by="slm",
        now=at,
    )
    agreed = await governance.agree(
        unit_of_work(),
        name,
        expected=proposed.latest.version,
        agreed_with=None,
        agreed_at=None,
        reason="agreed at the service review",
        by="slm",
        now=at,
    )
    return agreed.latest.version
