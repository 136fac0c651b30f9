"""Evidence export (ISO/IEC 20000-1 4.3.3): one record as stored, with its field history, the rows
that belong to it (notes, votes, reviews...) and every event it emitted, as one JSON document or a
zip of CSV files, with a manifest of SHA-256 checksums.

A service declares what makes up its record (`EvidenceSource`: the record's table, its parts, the
outbox) and its route answers `export(...)`. Every part is serialised canonically, so two exports
of an unchanged record are byte-identical and their checksums stable:

- JSON: UTF-8, keys sorted, separators `,` and `:`, no insignificant whitespace; times in UTC, ISO
  8601 (`2026-01-02T03:04:05.123456+00:00`); ids as text; decimals as text.
- CSV: RFC 4180 (`\\r\\n` line ends, `"` quoting when needed), a header row; an empty cell is null;
  a JSON value (a list, an object) is its canonical JSON text; times as above.

The manifest holds the SHA-256 of each part's bytes (in the JSON form: of the part's canonical
JSON, `json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`; in the CSV
form: of the CSV file) and `sha256`, the whole: the SHA-256 of the canonical JSON of the manifest's
`parts` object. When the export was taken is not in the hashed bytes: it is the answer's
`Evidence-Exported-At` header.

Events are the outbox's rows whose `subject` is the record's id, published and pending both (the
relay marks a row published, it never deletes one); `published_at` is part of the evidence, so
an export taken while an event is still pending differs from one taken after its publication.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal
from uuid import UUID

from fastapi import Request, Response
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import clock
from shared.errors import RuleViolation, found
from shared.http import representation

FORMAT = "itsm.evidence.v1"
EvidenceFormat = Literal["json", "csv"]
OFFERED = (("json", "application/json"), ("csv", "application/zip"))
"""The representations of an export (format name, media type), the default first."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every file in a zip export carries this time, so that the zip's bytes depend on its content only."""


@dataclass(frozen=True)
class Part:
    """Rows of `table` that belong to the record: those whose `key_column` is the record's id,
    in primary key order. The record's field history is the part named `history`."""

    name: str
    table: Table
    key_column: str


@dataclass(frozen=True)
class EvidenceSource:
    """What one record type's export holds: the record's row in `table` (by its `id`), its
    `parts`, and the events about it in the service's `outbox`."""

    record_type: str
    table: Table
    outbox: Table
    parts: Sequence[Part] = ()


@dataclass(frozen=True)
class Evidence:
    record_type: str
    record: dict[str, Any]
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The record's parts by name, then `events`, in this order."""

    @property
    def label(self) -> str:
        """The record's number when it has one, else its id (the download's file name)."""
        return str(self.record.get("number") or self.record["id"])


@dataclass(frozen=True)
class Export:
    """One export's bytes as answered: the body, its media type, its file name and checksum."""

    body: bytes
    media_type: str
    filename: str
    sha256: str
    manifest: dict[str, Any]


# ---------------------------------------------------------------------------- canonical form


def plain(value: Any) -> Any:
    """`value` as JSON types only: times in UTC ISO 8601, ids and decimals as text, enums by value."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=canonical_text) if isinstance(value, set | frozenset) else items
    return value


def canonical_text(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of `value`: what the checksums are computed over."""
    return canonical_text(value).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- reading


def _row(row: Any) -> dict[str, Any]:
    return {key: plain(value) for key, value in row._mapping.items()}


async def _rows_of(conn: AsyncConnection, part: Part, record_id: UUID) -> list[dict[str, Any]]:
    table = part.table
    query = select(table).where(table.c[part.key_column] == record_id).order_by(*table.primary_key.columns)
    return [_row(r) for r in await conn.execute(query)]


async def events_about(conn: AsyncConnection, outbox: Table, subject: str) -> list[dict[str, Any]]:
    """The events the service emitted about `subject`, in the order written: each one's envelope
    as stored and when the relay published it (null while pending)."""
    query = select(outbox.c.payload, outbox.c.published_at).where(outbox.c.subject == subject).order_by(outbox.c.id)
    events = []
    for row in await conn.execute(query):
        envelope = json.loads(row.payload)
        events.append(
            {
                "id": envelope.get("id"),
                "type": envelope.get("type"),
                "time": envelope.get("time"),
                "source": envelope.get("source"),
                "subject": envelope.get("subject"),
                "data": envelope.get("data"),
                "published_at": plain(row.published_at),
            }
        )
    return events


async def collect(conn: AsyncConnection, source: EvidenceSource, record_id: UUID) -> Evidence | None:
    """The record with its parts and events, read on `conn` (one snapshot); None if there is none."""
    row = (await conn.execute(select(source.table).where(source.table.c.id == record_id))).first()
    if row is None:
        return None
    parts = {part.name: await _rows_of(conn, part, record_id) for part in source.parts}
    parts["events"] = await events_about(conn, source.outbox, str(record_id))
    return Evidence(source.record_type, _row(row), parts)


# ---------------------------------------------------------------------------- writing


def _manifest(evidence: Evidence, serialisation: str, digests: dict[str, tuple[str, int]]) -> dict[str, Any]:
    parts = {name: {"sha256": digest, "rows": rows} for name, (digest, rows) in digests.items()}
    return {
        "format": FORMAT,
        "record_type": evidence.record_type,
        "record_id": evidence.record["id"],
        "serialisation": serialisation,
        "parts": parts,
        "sha256": sha256(canonical(parts)),
    }


def as_json(evidence: Evidence) -> Export:
    """One JSON document: `manifest`, `record`, then each part by name (`history`, `events`...)."""
    contents: dict[str, Any] = {"record": evidence.record, **evidence.parts}
    digests = {
        name: (sha256(canonical(value)), 1 if name == "record" else len(value)) for name, value in contents.items()
    }
    manifest = _manifest(evidence, "json", digests)
    filename = f"{evidence.record_type}-{evidence.label}-evidence.json"
    return Export(
        canonical({"manifest": manifest, **contents}), "application/json", filename, manifest["sha256"], manifest
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return canonical_text(value)
    return str(value)


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """RFC 4180 CSV of `rows` under a header of `columns`, UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_cell(r.get(c)) for c in columns] for r in rows)
    return out.getvalue().encode()


_EVENT_COLUMNS = ("id", "type", "time", "source", "subject", "published_at", "data")


def _columns(source: EvidenceSource | None, name: str, rows: list[dict[str, Any]]) -> list[str]:
    if name == "events":
        return list(_EVENT_COLUMNS)
    tables = {p.name: p.table for p in source.parts} if source else {}
    if source is not None:
        tables["record"] = source.table
    if name in tables:
        return [c.name for c in tables[name].columns]
    return sorted({key for r in rows for key in r})


def _csv_files(evidence: Evidence, source: EvidenceSource | None) -> tuple[dict[str, bytes], dict[str, Any]]:
    contents: dict[str, list[dict[str, Any]]] = {"record": [evidence.record], **evidence.parts}
    files = {name: csv_text(rows, _columns(source, name, rows)) for name, rows in contents.items()}
    manifest = _manifest(evidence, "csv", {name: (sha256(data), len(contents[name])) for name, data in files.items()})
    return files, manifest


def _zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def as_csv(evidence: Evidence, source: EvidenceSource | None = None) -> Export:
    """A zip of `manifest.json` and one CSV file per part (`record.csv`, `history.csv`,
    `events.csv`...), each with a header row (the table's columns, in table order)."""
    files, manifest = _csv_files(evidence, source)
    body = _zip([("manifest.json", canonical(manifest)), *((f"{n}.csv", d) for n, d in files.items())])
    filename = f"{evidence.record_type}-{evidence.label}-evidence.zip"
    return Export(body, "application/zip", filename, manifest["sha256"], manifest)


# ---------------------------------------------------------------------------- many records (a query)

MAX_RECORDS = 100
"""The most records one query export holds: a query matching more is refused (422), to be narrowed."""


def _query_manifest(
    record_type: str, serialisation: str, query: Mapping[str, Any], manifests: list[dict[str, Any]]
) -> dict[str, Any]:
    records = [{"record_id": m["record_id"], "sha256": m["sha256"]} for m in manifests]
    return {
        "format": FORMAT,
        "record_type": record_type,
        "serialisation": serialisation,
        "query": plain({k: v for k, v in query.items() if v is not None}),
        "records": records,
        "sha256": sha256(
            canonical({"query": plain({k: v for k, v in query.items() if v is not None}), "records": records})
        ),
    }


def export_many(
    source: EvidenceSource, items: Sequence[Evidence], query: Mapping[str, Any], fmt: EvidenceFormat
) -> Export:
    """The export of a query's records, in the query's order: in JSON a document of `manifest` and
    `records` (each record's own export document); in CSV a zip of `manifest.json` and a folder per
    record (its number) holding that record's files. The manifest names the query (the filters
    given), each record's whole checksum, and `sha256` over the query and those."""
    name = f"{source.record_type}-query-evidence"
    if fmt == "csv":
        built = [(e, *_csv_files(e, source)) for e in items]
        manifest = _query_manifest(source.record_type, "csv", query, [m for _, _, m in built])
        files: list[tuple[str, bytes]] = [("manifest.json", canonical(manifest))]
        for e, parts, own in built:
            files += [(f"{e.label}/manifest.json", canonical(own))]
            files += [(f"{e.label}/{n}.csv", d) for n, d in parts.items()]
        return Export(_zip(files), "application/zip", f"{name}.zip", manifest["sha256"], manifest)
    documents = [json.loads(as_json(e).body) for e in items]
    manifest = _query_manifest(source.record_type, "json", query, [d["manifest"] for d in documents])
    body = canonical({"manifest": manifest, "records": documents})
    return Export(body, "application/json", f"{name}.json", manifest["sha256"], manifest)


def export(evidence: Evidence, fmt: EvidenceFormat, source: EvidenceSource | None = None) -> Export:
    return as_csv(evidence, source) if fmt == "csv" else as_json(evidence)


def headers(result: Export, exported_at: datetime) -> dict[str, str]:
    """The answer's headers: the file name, the whole checksum (also the strong ETag), and when the
    export was taken (outside the hashed bytes)."""
    return {
        "Content-Disposition": f'attachment; filename="{result.filename}"',
        "ETag": f'"{result.sha256}"',
        "Evidence-SHA256": result.sha256,
        "Evidence-Exported-At": plain(exported_at),
    }


async def answer(conn: AsyncConnection, source: EvidenceSource, record_id: UUID, request: Request) -> Response:
    """The export of one record in the representation asked for (`format`, else `Accept`, else
    JSON); 404 when there is no such record. The route validated `format`."""
    noun = source.record_type.replace("_", " ")
    evidence = found(await collect(conn, source, record_id), f"{noun} {record_id}")
    result = export(evidence, "csv" if representation(request, OFFERED) == "csv" else "json", source)
    return Response(result.body, media_type=result.media_type, headers=headers(result, clock.now()))


async def answer_query(
    conn: AsyncConnection,
    source: EvidenceSource,
    record_ids: Sequence[UUID],
    query: Mapping[str, Any],
    request: Request,
) -> Response:
    """The export of the records a list query matched (`record_ids`, in its order, at most
    `MAX_RECORDS`: the route refuses more); `query` is the filters the caller gave."""
    items = [e for e in [await collect(conn, source, i) for i in record_ids] if e is not None]
    fmt: EvidenceFormat = "csv" if representation(request, OFFERED) == "csv" else "json"
    result = export_many(source, items, query, fmt)
    return Response(result.body, media_type=result.media_type, headers=headers(result, clock.now()))


def bounded(total: int, noun: str) -> None:
    """Refuse (422) a query export over `MAX_RECORDS` records."""
    if total > MAX_RECORDS:
        raise RuleViolation(
            f"the query matches more than {MAX_RECORDS} {noun}: narrow it with its filters", field="query"
        )


def _responses(description: str, parts: Mapping[str, str]) -> dict[int | str, dict[str, Any]]:
    """An export route's documented 200: a JSON document with `parts` (name -> JSON type) or a zip."""
    properties = {
        n: {"type": "array", "items": {"type": "object"}} if t == "array" else {"type": t} for n, t in parts.items()
    }
    schema = {"type": "object", "required": [n for n in parts if n != "history"], "properties": properties}
    zipped = {"schema": {"type": "string", "format": "binary"}}
    return {
        200: {
            "description": description,
            "content": {"application/json": {"schema": schema}, "application/zip": zipped},
        }
    }


OPENAPI_RESPONSES = _responses(
    "The evidence: a JSON document (`format=json`), or a zip of `manifest.json` and one CSV file per part"
    " (`format=csv`). `Evidence-SHA256` is the manifest's whole checksum, `Evidence-Exported-At` when it was taken.",
    {"manifest": "object", "record": "object", "history": "array", "events": "array"},
)
"""What an export route documents for its 200 (`responses=` of the route)."""
QUERY_OPENAPI_RESPONSES = _responses(
    "The evidence of every record the query matched (at most 100, else 422): a JSON document (`manifest`,"
    " `records`: each record's export), or a zip of `manifest.json` and a folder per record (`format=csv`).",
    {"manifest": "object", "records": "array"},
)
"""What a query export route documents for its 200."""
