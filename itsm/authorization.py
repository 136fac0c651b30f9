"""docs/authorization.md, generated from the services' authorisation tables (`make authorization`),
so the document cannot drift from what the routes enforce."""

from __future__ import annotations

from pathlib import Path

from services.change.api.deps import POLICY as CHANGE
from services.config.api.deps import POLICY as CONFIG
from services.incident.api.deps import POLICY as INCIDENT
from services.notify.api.deps import POLICY as NOTIFY
from services.reporting.api.deps import POLICY as REPORTING
from services.supplier.api.deps import POLICY as SUPPLIER
from shared.authorization import markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "authorization.md"
POLICIES = [INCIDENT, CHANGE, CONFIG, SUPPLIER, REPORTING, NOTIFY]


def authorization_markdown() -> str:
    return markdown(POLICIES)


if __name__ == "__main__":
    DOC.write_text(authorization_markdown())
    print(f"wrote {DOC}")
