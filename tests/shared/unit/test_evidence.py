"""The evidence export's serialisation (`shared.evidence`): canonical, so byte-identical for the same
content, with a manifest whose checksums an auditor can recompute from the parts alone."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from uuid import UUID

from shared import evidence
from shared.evidence import Evidence

RECORD_ID = UUID("00000000-0000-0000-0000-000000000001")


class Colour(Enum):
    RED = "red"


def _evidence(**record: object) -> Evidence:
    row = {"id": str(RECORD_ID), "number": "INC0000001", "status": "new", **record}
    history = [{"version": 2, "field": "status", "old": "new", "new": "assigned", "at": "2026-01-01T00:00:00+00:00"}]
    events = [{"id": "e1", "type": "itsm.incident.created.v1", "data": {"b": 1, "a": [1, 2]}, "published_at": None}]
    return Evidence("incident", row, {"history": history, "events": events})


def _sha(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_plain_gives_times_in_utc_ids_and_decimals_as_text_and_enums_by_value() -> None:
    cet = timezone(timedelta(hours=1))
    assert evidence.plain(datetime(2026, 1, 1, 1, 0, tzinfo=cet)) == "2026-01-01T00:00:00+00:00"
    assert evidence.plain(datetime(2026, 1, 1, 1, 0)) == "2026-01-01T01:00:00+00:00"  # naive: taken as UTC
    assert evidence.plain({"k": [RECORD_ID, Decimal("1.50"), Colour.RED]}) == {"k": [str(RECORD_ID), "1.50", "red"]}
    assert evidence.plain({3, 1, 2}) == [1, 2, 3]
    assert evidence.canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_the_json_form_is_canonical_and_its_manifest_verifies_from_the_parts() -> None:
    result = evidence.as_json(_evidence())
    assert result.body == evidence.as_json(_evidence()).body
    document = json.loads(result.body)
    assert result.body == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    manifest = document["manifest"]
    assert sorted(manifest["parts"]) == ["events", "history", "record"]
    for name in ("record", "history", "events"):
        assert manifest["parts"][name]["sha256"] == _sha(document[name])
    assert [manifest["parts"][n]["rows"] for n in ("record", "history", "events")] == [1, 1, 1]
    assert manifest["sha256"] == _sha(manifest["parts"]) == result.sha256
    assert (manifest["format"], manifest["record_id"], manifest["serialisation"]) == (
        "itsm.evidence.v1",
        str(RECORD_ID),
        "json",
    )
    assert result.filename == "incident-INC0000001-evidence.json" and result.media_type == "application/json"


def test_any_change_to_a_part_changes_its_checksum_and_the_whole() -> None:
    before, after = evidence.as_json(_evidence()), evidence.as_json(_evidence(status="assigned"))
    assert before.manifest["parts"]["record"] != after.manifest["parts"]["record"]
    assert before.manifest["parts"]["history"] == after.manifest["parts"]["history"]
    assert before.sha256 != after.sha256


def test_the_csv_form_is_a_deterministic_zip_the_csv_module_reads() -> None:
    result = evidence.as_csv(_evidence(tags=["a", "b"], note=None, major=True))
    assert result.body == evidence.as_csv(_evidence(tags=["a", "b"], note=None, major=True)).body
    archive = zipfile.ZipFile(io.BytesIO(result.body))
    assert archive.namelist() == ["manifest.json", "record.csv", "history.csv", "events.csv"]
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["serialisation"] == "csv" and manifest["sha256"] == result.sha256 == _sha(manifest["parts"])
    for name in ("record", "history", "events"):
        assert hashlib.sha256(archive.read(f"{name}.csv")).hexdigest() == manifest["parts"][name]["sha256"]
    [record] = csv.DictReader(io.StringIO(archive.read("record.csv").decode(), newline=""))
    assert (record["tags"], record["note"], record["major"]) == ('["a","b"]', "", "true")
    [event] = csv.DictReader(io.StringIO(archive.read("events.csv").decode(), newline=""))
    assert list(event) == ["id", "type", "time", "source", "subject", "published_at", "data"]
    assert json.loads(event["data"]) == {"a": [1, 2], "b": 1} and event["published_at"] == ""
    assert result.filename.endswith(".zip") and result.media_type == "application/zip"


def test_the_headers_carry_the_checksum_and_the_export_time_outside_the_hashed_bytes() -> None:
    result = evidence.as_json(_evidence())
    headers = evidence.headers(result, datetime(2026, 1, 1, tzinfo=UTC))
    assert headers["Evidence-SHA256"] == result.sha256 and headers["ETag"] == f'"{result.sha256}"'
    assert headers["Evidence-Exported-At"] == "2026-01-01T00:00:00+00:00"
    assert "2026-01-01T00:00:00+00:00" not in result.body.decode().replace('"at":"2026-01-01T00:00:00+00:00"', "")
