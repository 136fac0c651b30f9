"""Schedule conflicts with known answers (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from services.change.domain.schedule import Blackout, Severity, Slot, conflicts

T0 = datetime(2026, 12, 1, 22, tzinfo=UTC)
DB, WEB, LB = (UUID(int=i) for i in (1, 2, 3))


def slot(number: str, start_h: float, hours: float, *cis: UUID) -> Slot:
    start = T0 + timedelta(hours=start_h)
    return Slot(uuid4(), number, start, start + timedelta(hours=hours), frozenset(cis))


def blackout(start_h: float, hours: float, *cis: UUID) -> Blackout:
    start = T0 + timedelta(hours=start_h)
    return Blackout(uuid4(), "year-end freeze", start, start + timedelta(hours=hours), frozenset(cis))


def test_overlapping_changes_on_a_shared_ci_warn_and_others_do_not() -> None:
    mine = slot("CHG1", 0, 2, DB, WEB)
    others = [
        slot("CHG2", 1, 2, DB),  # overlaps, shares DB
        slot("CHG3", 1, 2, LB),  # overlaps, no shared CI
        slot("CHG4", 2, 1, DB),  # shares DB, starts when mine ends: no overlap
        mine,  # itself
    ]
    found = conflicts(mine, others, [])
    assert [(c.severity, c.kind, c.other, c.ci_ids) for c in found] == [(Severity.WARNING, "same_ci", "CHG2", (DB,))]


def test_a_blackout_refuses_when_it_covers_the_cis_or_everything() -> None:
    mine = slot("CHG1", 0, 2, DB)
    assert conflicts(mine, [], [blackout(1, 5)])[0].severity is Severity.REFUSED  # covers every CI
    assert conflicts(mine, [], [blackout(1, 5, DB)])[0].ci_ids == (DB,)
    assert conflicts(mine, [], [blackout(1, 5, LB)]) == []  # other CIs only
    assert conflicts(mine, [], [blackout(2, 5)]) == []  # starts when mine ends
