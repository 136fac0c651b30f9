"""Assessment and approval as pure code: risk levels, the votes, who may decide a change, the CAB quorum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from shared.errors import Conflict, Forbidden


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


CAB_QUORUM: Final = 2
"""Approving CAB members a high-risk normal change needs."""


@dataclass(frozen=True)
class Vote:
    voter: str
    approve: bool
    comment: str
    at: datetime


def check_decider(*, voter: str, requester: str, roles: frozenset[str], by_cab: bool) -> None:
    """Nobody decides on their own change; a CAB decision needs a CAB member, any other a change
    manager (an admin may decide either)."""
    if voter == requester:
        raise Forbidden("nobody approves or rejects their own change (separation of duties)")
    admin = "admin" in roles
    if by_cab:
        if not (admin or "cab_member" in roles):
            raise Forbidden("a high-risk change is decided by the CAB: the cab_member role is needed")
    elif not (admin or "change_manager" in roles):
        raise Forbidden("this change is decided by a change manager")


def add_vote(votes: tuple[Vote, ...], vote: Vote, *, number: str) -> tuple[Vote, ...]:
    """The votes with this one added; each approver votes once on a change."""
    if any(v.voter == vote.voter for v in votes):
        raise Conflict(f"{vote.voter} has already voted on {number}")
    return (*votes, vote)


def quorum_reached(votes: tuple[Vote, ...]) -> bool:
    return sum(v.approve for v in votes) >= CAB_QUORUM
