"""Events published by the reporting service about its stored report runs (ISO/IEC 20000-1 6.2):
an agreed report produced for its period. The event names the run and where to read it; it
carries no row of the report (the report-runs API serves those to its readers) and no recipient
address of the distribution list (a webhook URL may hold a token, and events reach every consumer
bound to `#`)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class ReportRunCompleted(EventData):
    routing_key: ClassVar[str] = "report.run_completed.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = (
        "An agreed report was produced for its period and stored as a run (ISO/IEC 20000-1 6.2),"
        " in the transaction that recorded it; the run's distribution follows."
    )

    run_id: UUID
    report: str = Field(examples=["service-levels"], description="The report definition's name")
    title: str = Field(description="The report definition's title")
    frequency: Literal["daily", "weekly", "monthly"]
    period_start: datetime
    period_end: datetime = Field(description="The end of the period (exclusive)")
    row_count: int = Field(ge=0)
    agreement_version: int = Field(ge=1, description="The version of the report's agreement it was produced under")
    owner: str = Field(description="Who answers for the report (the agreement's owner)")
    agreed_with: list[str] = Field(
        default_factory=list, description="The interested parties the report is agreed with (the agreement's)"
    )
    distribution_count: int = Field(
        ge=0, description="How many recipients of the agreement's distribution list the run is queued for"
    )
    content_sha256: str = Field(description="SHA-256 of the report as produced (canonical JSON)")
    link: str = Field(examples=["/api/v1/report-runs/3f1c..."], description="The run's record in the reporting API")
    download: str = Field(description="Where to fetch the run as produced (add ?format=csv for CSV)")
    generated_at: datetime
