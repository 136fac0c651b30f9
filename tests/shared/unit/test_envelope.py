"""The CloudEvents envelope and the event registry, without I/O."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.events import EVENT_TYPES, CloudEvent, new_event
from shared.events.incident import IncidentCreated


def _created() -> IncidentCreated:
    return IncidentCreated(
        incident_id=uuid.uuid4(),
        number="INC0000001",
        title="t",
        impact=1,
        urgency=1,
        priority=1,
        caller="c",
        opened_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_type_is_the_routing_key_behind_the_itsm_prefix() -> None:
    event = new_event(_created(), source="/itsm/incident", subject="s")
    assert event.type == "itsm.incident.created.v1"
    assert event.routing_key == "incident.created.v1"
    assert event.specversion == "1.0"
    assert event.datacontenttype == "application/json"


def test_an_event_survives_the_wire_and_reads_back_typed() -> None:
    data = _created()
    event = new_event(data, source="/itsm/incident", subject=str(data.incident_id))
    back = CloudEvent.model_validate_json(event.model_dump_json())
    assert back == event
    assert back.data_as(IncidentCreated) == data


def test_extension_attributes_are_kept_and_unknown_data_fields_ignored() -> None:
    event = new_event(_created(), source="/itsm/incident", subject="s")
    wire = event.model_dump(mode="json") | {"sequence": 7}
    wire["data"]["added_in_a_later_minor"] = True
    back = CloudEvent.model_validate(wire)
    assert back.model_extra == {"sequence": 7}
    assert back.data_as(IncidentCreated).number == "INC0000001"


@pytest.mark.parametrize(
    "change",
    [{"type": "incident.created.v1"}, {"time": "2026-01-01T00:00:00"}, {"source": ""}, {"specversion": "0.3"}],
)
def test_an_envelope_breaking_the_spec_is_refused(change: dict[str, str]) -> None:
    wire = new_event(_created(), source="/itsm/incident", subject="s").model_dump(mode="json") | change
    with pytest.raises(ValidationError):
        CloudEvent.model_validate(wire)


def test_every_contract_is_registered_once_with_a_versioned_key_and_a_producer() -> None:
    assert {"incident.created.v1", "change.created.v1", "ci.created.v1", "supplier.created.v1"} <= set(EVENT_TYPES)
    for key, cls in EVENT_TYPES.items():
        assert cls.routing_key == key
        assert key.rsplit(".", 1)[-1].startswith("v")
        assert set(cls.producers()) <= {"incident", "change", "config", "supplier", "reporting", "notify"}
        assert len(set(cls.producers())) == len(cls.producers())


def test_declaring_a_routing_key_twice_is_an_error() -> None:
    with pytest.raises(TypeError, match="declared twice"):

        class Again(IncidentCreated):
            routing_key = "incident.created.v1"


def test_dataschema_is_the_uri_of_the_contracts_published_schema() -> None:
    event = new_event(_created(), source="/itsm/incident", subject="s")
    assert event.dataschema == "https://itsm.example/schemas/incident.created.v1.json"
    assert event.dataschema == IncidentCreated.schema_uri()


def test_unset_optional_attributes_are_left_out_of_the_wire_form() -> None:
    event = new_event(_created(), source="/itsm/incident", subject=None).model_copy(update={"dataschema": None})
    wire = json.loads(event.model_dump_json())
    assert "subject" not in wire
    assert "dataschema" not in wire
    assert "subject" not in event.model_dump(mode="json")


def test_a_null_inside_the_data_is_kept() -> None:
    event = new_event(_created(), source="/itsm/incident", subject="s")
    assert json.loads(event.model_dump_json())["data"]["ci_id"] is None


@pytest.mark.parametrize(
    "dataschema",
    [{}, {"dataschema": None}, {"dataschema": "https://itsm.example/schemas/incident.created.v1.json"}],
    ids=["absent", "null (stored by an earlier version)", "the schema's URI"],
)
def test_consumers_read_an_envelope_with_or_without_dataschema(dataschema: dict[str, str | None]) -> None:
    wire = new_event(_created(), source="/i", subject="s").model_dump(mode="json")
    wire.pop("dataschema")
    back = CloudEvent.model_validate(wire | dataschema)
    assert back.data_as(IncidentCreated).number == "INC0000001"
    assert back.dataschema == dataschema.get("dataschema")
