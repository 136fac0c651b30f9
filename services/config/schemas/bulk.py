"""The wire format of bulk import and export: one row per CI (or relationship), flat columns,
attributes as a JSON object in one column, as CSV or JSON; and the answer to an import."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from services.config.domain.items import ConfigItem
from shared.errors import RuleViolation
from shared.http import ApiModel

CI_COLUMNS = (
    "number",
    "name",
    "type",
    "status",
    "criticality",
    "owner",
    "description",
    "service_id",
    "supplier_id",
    "location_id",
    "product_version",
    "controlled",
    "serial",
    "hostname",
    "fqdn",
    "cloud_id",
    "attributes",
)
RELATIONSHIP_COLUMNS = ("source", "type", "target")


class ImportRead(ApiModel):
    created: int
    updated: int
    unchanged: int


def ci_row(item: ConfigItem) -> dict[str, Any]:
    return {
        "number": item.number,
        "name": item.name,
        "type": item.ci_type,
        "status": item.status.value,
        "criticality": int(item.criticality),
        "owner": item.owner,
        "description": item.description,
        "service_id": str(item.service_id) if item.service_id else None,
        "supplier_id": str(item.supplier_id) if item.supplier_id else None,
        "location_id": str(item.location_id) if item.location_id else None,
        "product_version": item.product_version,
        "controlled": item.controlled,
        "serial": item.identifiers.serial,
        "hostname": item.identifiers.hostname,
        "fqdn": item.identifiers.fqdn,
        "cloud_id": item.identifiers.cloud_id,
        "attributes": item.attributes,
    }


def to_csv(rows: Iterable[Mapping[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, sort_keys=True)
                if isinstance(v, dict)
                else ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
                for k, v in row.items()
            }
        )
    return out.getvalue()


def from_csv(text: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows as the import reads them: empty cells are absent, `attributes` is JSON."""
    reader = csv.DictReader(io.StringIO(text))
    unknown = sorted(set(reader.fieldnames or ()) - set(columns))
    if unknown:
        raise RuleViolation(f"unknown CSV columns: {', '.join(unknown)}", field="columns")
    rows: list[dict[str, Any]] = []
    for index, raw in enumerate(reader):
        row: dict[str, Any] = {k: v for k, v in raw.items() if k and v not in (None, "")}
        if "attributes" in row:
            try:
                row["attributes"] = json.loads(row["attributes"])
            except json.JSONDecodeError as exc:
                raise RuleViolation(f"not JSON: {exc.msg}", field=f"rows[{index}].attributes") from None
        rows.append(row)
    return rows


def from_json(body: bytes) -> list[dict[str, Any]]:
    try:
        rows = json.loads(body)
    except json.JSONDecodeError as exc:
        raise RuleViolation(f"the body is not JSON: {exc.msg}", field="body") from None
    except UnicodeDecodeError:
        raise RuleViolation("the body is not UTF-8", field="body") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RuleViolation("the body must be a JSON array of objects", field="body")
    return rows
