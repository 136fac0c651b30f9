"""Periodic survey campaigns, pure: the proportional allocation to strata, the seeded draw within
each, and the evidence that lets anyone redo it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.incident.domain.survey_campaigns import (
    MAX_SAMPLE,
    RULE,
    Campaign,
    allocate,
    draw,
    population_digest,
)
from shared.errors import RuleViolation

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_allocation_is_proportional_with_the_remainder_to_the_largest_fractions() -> None:
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    # 7 * 5/9 = 3.89, 7 * 3/9 = 2.33, 7 * 1/9 = 0.78: floors 3, 2, 0; the two left to a and c
    assert allocate({"a": 5, "b": 3, "c": 1}, 7) == {"a": 4, "b": 2, "c": 1}
    # equal fractions: to the smaller key
    assert allocate({"b": 1, "a": 1}, 1) == {"a": 1, "b": 0}
    assert allocate({"a": 2, "b": 1}, 3) == {"a": 2, "b": 1}  # everyone, when the sample is as large
    assert allocate({"a": 2, "b": 1}, 9) == {"a": 2, "b": 1}  # never more than a stratum holds
    assert allocate({}, 5) == {}


def _population(sizes: dict[str, int]) -> dict[str, str]:
    return {f"{stratum}-person-{n}": stratum for stratum, size in sizes.items() for n in range(size)}


def test_the_draw_is_representative_and_seeded() -> None:
    population = _population({"mail": 40, "payroll": 10, "": 10})
    sample = draw(population, 6, "2026-Q4")
    strata = list(sample.people.values())
    assert sorted(strata) == ["", "mail", "mail", "mail", "mail", "payroll"]
    assert all(population[p] == s for p, s in sample.people.items())
    assert draw(dict(reversed(list(population.items()))), 6, "2026-Q4").people == sample.people
    assert draw(population, 6, "another seed").people != sample.people
    # Within a stratum: the lowest SHA-256(seed:person) first, recomputable by anyone.
    payroll = sorted((p for p, s in population.items() if s == "payroll"),
                     key=lambda p: hashlib.sha256(f"2026-Q4:{p}".encode()).hexdigest())  # fmt: skip
    assert [p for p, s in sample.people.items() if s == "payroll"] == payroll[:1]


def test_the_evidence_holds_the_rule_the_seed_and_what_was_drawn_from() -> None:
    population = _population({"mail": 3, "payroll": 1})
    sample = draw(population, 2, "seed-1", excluded=5)
    digest = hashlib.sha256(json.dumps(sorted(population.items())).encode()).hexdigest()
    assert population_digest(population) == digest
    assert sample.evidence == {
        "rule": RULE,
        "seed": "seed-1",
        "population": 4,
        "population_sha256": digest,
        "excluded_recently_surveyed": 5,
        "sample_size_requested": 2,
        "sampled": 2,
        "strata": {"mail": {"population": 3, "sampled": 2}, "payroll": {"population": 1, "sampled": 0}},
    }
    assert draw({}, 3, "s").evidence["sampled"] == 0


@pytest.mark.parametrize(("size", "seed", "field"), [(0, "s", "sample_size"), (MAX_SAMPLE + 1, "s", "sample_size"),
                                                     (1, " ", "seed")])  # fmt: skip
def test_a_draw_needs_a_bounded_size_and_a_seed(size: int, seed: str, field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        draw({"a": "x"}, size, seed)
    assert refused.value.extensions["errors"][0]["field"] == field


def test_the_largest_sample_is_a_draw() -> None:
    assert draw({"a": "x"}, MAX_SAMPLE, "s").evidence["sampled"] == 1


def test_a_campaign_keeps_its_frame_its_evidence_and_who_launched_it() -> None:
    sample = draw(_population({"mail": 2}), 1, "s")
    campaign_id = uuid4()
    start = NOW - timedelta(days=90)
    campaign = Campaign.launch(
        campaign_id=campaign_id, title="  Q4 survey ", frame_start=start, now=NOW, actor="sue", sample=sample
    )
    assert (campaign.id, campaign.number, campaign.title) == (campaign_id, "", "Q4 survey")
    assert (campaign.frame_start, campaign.frame_end, campaign.launched_at) == (start, NOW, NOW)
    assert (campaign.launched_by, campaign.surveys, campaign.evidence) == ("sue", 1, sample.evidence)
    with pytest.raises(RuleViolation, match="title") as refused:
        Campaign.launch(campaign_id=campaign_id, title=" ", frame_start=start, now=NOW, actor="sue", sample=sample)
    assert refused.value.extensions["errors"][0]["field"] == "title"
    with pytest.raises(RuleViolation, match="frame") as late:
        Campaign.launch(campaign_id=campaign_id, title="t", frame_start=NOW, now=NOW, actor="sue", sample=sample)
    assert late.value.extensions["errors"][0]["field"] == "frame_days"
