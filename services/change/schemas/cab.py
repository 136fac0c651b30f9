"""HTTP bodies of assessment and approval."""

from __future__ import annotations

from pydantic import Field

from services.change.domain.cab import Risk
from shared.http import ApiModel


class Assessment(ApiModel):
    risk: Risk | None = Field(
        default=None, description="Leave out to have it computed from config's impact analysis and history"
    )


class Decision(ApiModel):
    comment: str = Field(default="", max_length=2000)
