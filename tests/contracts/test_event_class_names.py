"""Event classes are named after their routing keys, so a reader of the code and a reader of the
broker see one name: `change.rejected.v1` is `ChangeRejected`, `ci.created.v1` is
`ConfigItemCreated` (`ci` spelled out), `config.change_applied.v1` is `ConfigChangeApplied`,
`legal_hold.placed.v1` is `LegalHoldPlaced` (an aggregate of two words)."""

from __future__ import annotations

from shared.events.catalogue import EVENT_TYPES

SPELLED_OUT = {"ci": "ConfigItem"}


def class_name_for(routing_key: str) -> str:
    aggregate, event, _version = routing_key.split(".")
    noun = SPELLED_OUT.get(aggregate) or "".join(w.capitalize() for w in aggregate.split("_"))
    words = [noun, *(w.capitalize() for w in event.split("_"))]
    return "".join(words)


def test_the_naming_rule_spells_out_the_aggregate() -> None:
    assert class_name_for("ci.relationship_changed.v1") == "ConfigItemRelationshipChanged"
    assert class_name_for("incident.major_declared.v1") == "IncidentMajorDeclared"
    assert class_name_for("legal_hold.placed.v1") == "LegalHoldPlaced"


def test_every_event_class_is_named_after_its_routing_key() -> None:
    misnamed = {
        cls.routing_key: cls.__name__
        for cls in EVENT_TYPES.values()
        if cls.__name__.lower() != class_name_for(cls.routing_key).lower()
    }
    assert len(EVENT_TYPES) > 50
    assert not misnamed, f"rename to match the routing key: {misnamed}"
