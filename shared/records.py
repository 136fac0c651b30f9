"""Bodies filled from domain records: response bodies and published event contracts that carry
a record's attributes under the same names are built by `from_record`, not field by field."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel


class RecordModel(BaseModel):
    """A pydantic model whose fields mostly mirror a domain record's attributes."""

    @classmethod
    def from_record(cls, record: object, **values: Any) -> Self:
        """This model for a domain record: every field from the record's attribute of the same
        name, except the ones given in `values` (computed, converted, or named differently)."""
        copied = {name: getattr(record, name) for name in cls.model_fields if name not in values}
        return cls(**copied, **values)
