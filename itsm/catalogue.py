"""The event catalogue, generated from code: contracts in `shared.events`, consumers from each
service's `HANDLERS`, so it cannot drift from what runs."""

from __future__ import annotations

import json
from pathlib import Path

from itsm.registry import all_entries
from shared.events import EVENT_TYPES
from shared.events.catalogue import all_schemas


def consumers_of(routing_key: str) -> list[str]:
    found = []
    for service in all_entries():
        keys = service.spec.handlers.keys()
        if routing_key in keys or "#" in keys:
            found.append(service.name)
    return found


def catalogue_markdown() -> str:
    lines = [
        "| routing key | CloudEvents type | published by | consumed by | what it means |",
        "|---|---|---|---|---|",
    ]
    for key in sorted(EVENT_TYPES):
        cls = EVENT_TYPES[key]
        consumers = ", ".join(consumers_of(key)) or "-"
        lines.append(f"| `{key}` | `{cls.event_type()}` | {cls.producer} | {consumers} | {cls.description} |")
    return "\n".join(lines)


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key, schema in all_schemas().items():
        path = folder / f"{key}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


README = Path(__file__).resolve().parent.parent / "README.md"
SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"
START, END = "<!-- events:start -->", "<!-- events:end -->"


def readme_with_catalogue(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{catalogue_markdown()}\n{END}{tail}"


def main() -> None:
    """Refresh the README's catalogue and docs/schemas/ (`make catalogue`)."""
    README.write_text(readme_with_catalogue(README.read_text()))
    for stale in SCHEMAS.glob("*.json"):
        stale.unlink()
    write_schemas(SCHEMAS)


if __name__ == "__main__":
    main()
