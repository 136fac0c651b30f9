"""Periodic satisfaction surveys (ISO/IEC 20000-1 7.1): a campaign asks a representative sample of
the people the service desk served, and keeps the rule that chose them, and what it found, as
evidence (no I/O).

The rule: the population is every person who raised a ticket in the frame, each in the stratum of
the service of their latest ticket, less those surveyed within the throttle; the sample is
allocated to the strata in proportion to their size (largest remainder, ties by stratum key), and
within a stratum the people are ranked by SHA-256 of the seed and their name, the lowest first. So
anyone holding the evidence (the population's digest, the seed, the sizes) can redo the draw."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from shared.errors import RuleViolation

RULE: Final = (
    "stratified by the service of each person's latest ticket in the frame, proportional allocation"
    " (largest remainder, ties by stratum key), within a stratum the lowest SHA-256(seed:person) first;"
    " people surveyed within the throttle are left out of the population"
)
MAX_SAMPLE: Final = 1000


def _rank(seed: str, person: str) -> str:
    return hashlib.sha256(f"{seed}:{person}".encode()).hexdigest()


def population_digest(population: Mapping[str, str]) -> str:
    """SHA-256 of the population as sorted JSON (person -> stratum): what the draw was made from."""
    return hashlib.sha256(json.dumps(sorted(population.items())).encode()).hexdigest()


def allocate(sizes: Mapping[str, int], sample_size: int) -> dict[str, int]:
    """How many of each stratum are asked: proportional, the remainder to the largest fractions
    (ties to the smaller stratum key); never more than a stratum holds."""
    total = sum(sizes.values())
    if total <= sample_size:
        return dict(sizes)
    shares = {key: sample_size * size / total for key, size in sizes.items()}
    counts = {key: int(share) for key, share in shares.items()}
    left = sample_size - sum(counts.values())
    for key in sorted(shares, key=lambda k: (-(shares[k] - counts[k]), k))[:left]:
        counts[key] += 1
    return counts


@dataclass(frozen=True)
class Sample:
    people: dict[str, str]
    """person -> stratum (a service id, or "" for tickets on no service)."""
    evidence: dict[str, Any]


def draw(population: Mapping[str, str], sample_size: int, seed: str, excluded: int = 0) -> Sample:
    """The representative sample of `population` (person -> stratum), with the evidence of the draw."""
    if not 1 <= sample_size <= MAX_SAMPLE:
        raise RuleViolation(f"the sample size is 1 to {MAX_SAMPLE}", field="sample_size")
    if not seed.strip():
        raise RuleViolation("a campaign needs a seed", field="seed")
    strata: dict[str, list[str]] = {}
    for person, stratum in population.items():
        strata.setdefault(stratum, []).append(person)
    counts = allocate({key: len(people) for key, people in strata.items()}, sample_size)
    people = {
        person: key
        for key, members in strata.items()
        for person in sorted(members, key=lambda p: _rank(seed, p))[: counts[key]]
    }
    evidence = {
        "rule": RULE,
        "seed": seed,
        "population": len(population),
        "population_sha256": population_digest(population),
        "excluded_recently_surveyed": excluded,
        "sample_size_requested": sample_size,
        "sampled": len(people),
        "strata": {key: {"population": len(strata[key]), "sampled": counts[key]} for key in sorted(strata)},
    }
    return Sample(people, evidence)


@dataclass
class Campaign:
    id: UUID
    number: str
    title: str
    frame_start: datetime
    frame_end: datetime
    launched_at: datetime
    launched_by: str
    evidence: dict[str, Any]
    surveys: int = 0

    @classmethod
    def launch(
        cls,
        *,
        campaign_id: UUID,
        title: str,
        frame_start: datetime,
        now: datetime,
        actor: str,
        sample: Sample,
    ) -> Campaign:
        if not title.strip():
            raise RuleViolation("a campaign needs a title", field="title")
        if frame_start >= now:
            raise RuleViolation("the frame starts before now", field="frame_days")
        return cls(
            id=campaign_id,
            number="",
            title=title.strip(),
            frame_start=frame_start,
            frame_end=now,
            launched_at=now,
            launched_by=actor,
            evidence=sample.evidence,
            surveys=len(sample.people),
        )
