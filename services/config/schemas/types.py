"""API bodies of CI types: a new type with its attribute JSON Schema, and a type as read."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from services.config.domain.types import TYPE_NAME, CIType
from shared.http import ApiModel
from shared.json_limits import FreeJson

TypeName = Field(pattern=TYPE_NAME.pattern, description="A CI type (GET /api/v1/ci-types)", examples=["server"])


class CITypeCreate(ApiModel):
    name: str = Field(pattern=TYPE_NAME.pattern, examples=["kubernetes_cluster"])
    label: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    attribute_schema: FreeJson = Field(
        default_factory=lambda: {"type": "object"}, description="A JSON Schema (2020-12) for the CI's attributes"
    )


class CITypeRead(ApiModel):
    name: str
    label: str
    description: str
    attribute_schema: dict[str, Any]
    builtin: bool

    @classmethod
    def of(cls, ci_type: CIType) -> CITypeRead:
        return cls.from_record(ci_type)
