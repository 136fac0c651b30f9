"""HTTP bodies of the projections: what a rebuild replayed."""

from __future__ import annotations

from pydantic import Field

from shared.http import ApiModel


class RebuildRead(ApiModel):
    events: int = Field(description="Events replayed from the log")
    patches: int = Field(description="Fact row updates applied")
