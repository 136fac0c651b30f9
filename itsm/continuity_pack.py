"""`itsm continuity-pack`: the offline continuity pack (ISO/IEC 20000-1 6.3.2: the continuity plan,
contact lists and CMDB must be accessible when the normal service location is not).

The configuration service records the export and answers its content; this writes it to a folder
that needs nothing to open: the plans, the contact lists, the covered (critical) services with
their CIs and relationships as JSON, one readable HTML page (Jinja2, autoescaped, no scripts, no
outside links), and `manifest.json` with each file's SHA-256 (also as `SHA256SUMS`, which
`sha256sum -c SHA256SUMS` checks)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from jinja2 import DictLoader, Environment, select_autoescape

PACK_PATH = "/api/v1/continuity/pack-exports"
FILES = ("plans.json", "contacts.json", "cmdb.json", "index.html")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continuity pack {{ pack.exported_at }}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.2em .5em;text-align:left}.critical{font-weight:bold}</style></head>
<body>
<h1>Continuity pack</h1>
<p>Exported {{ pack.exported_at }} by {{ pack.exported_by }} (export {{ pack.export_id }}).
Check the files against <code>manifest.json</code> or run <code>sha256sum -c SHA256SUMS</code>.</p>
<h2>Plans</h2>
{% for plan in pack.plans %}
<section id="plan-{{ plan.id }}">
<h3>{{ plan.title }} ({{ plan.kind }}, version {{ plan.version }})</h3>
<p><b>Services:</b> {% for s in plan.service_ids %}{{ names.get(s, s) }}{{ ", " if not loop.last }}{% endfor %}</p>
<p><b>Invocation criteria:</b> {{ plan.invocation_criteria }}</p>
<p><b>Invocation authority:</b> {{ plan.invocation_authority }}</p>
<table><tr><th>Service</th><th>RTO (min)</th><th>RPO (min)</th></tr>
{% for t in plan.recovery_targets %}<tr><td>{{ names.get(t.service_id, t.service_id) }}</td>
<td>{{ t.rto_minutes }}</td><td>{{ t.rpo_minutes }}</td></tr>{% endfor %}</table>
<p><b>Targets while invoked:</b></p><ul>
{% for t in plan.targets_while_invoked %}<li>{{ names.get(t.service_id, t.service_id) }}:
{{ t.availability_percent }} % {{ t.notes }}</li>{% endfor %}</ul>
<p><b>Procedures:</b></p><ol>{% for step in plan.procedures %}<li>{{ step }}</li>{% endfor %}</ol>
<p><b>Return to normal:</b> {{ plan.return_to_normal }}</p>
<p><b>Contacts:</b></p>
<table><tr><th>Name</th><th>Role</th><th>Phone</th><th>E-mail</th><th>Alternate</th></tr>
{% for c in plan.contacts %}<tr><td>{{ c.name }}</td><td>{{ c.role }}</td><td>{{ c.phone }}</td>
<td>{{ c.email }}</td><td>{{ c.alternate }}</td></tr>{% endfor %}</table>
<p>Next test due by {{ plan.test_due_by }} ({{ plan.test_status }}).</p>
</section>
{% endfor %}
<h2>Critical services and their configuration items</h2>
{% for s in pack.services %}
<section id="service-{{ s.id }}"><h3>{{ s.name }} ({{ s.number }})</h3>
<table><tr><th>CI</th><th>Name</th><th>Type</th><th>Criticality</th><th>Status</th><th>Owner</th></tr>
{% for ci in s.cis %}<tr class="{{ 'critical' if ci.criticality == 1 else '' }}"><td>{{ ci.number }}</td>
<td>{{ ci.name }}</td><td>{{ ci.type }}</td><td>{{ ci.criticality }}</td><td>{{ ci.status }}</td>
<td>{{ ci.owner or '' }}</td></tr>{% endfor %}</table></section>
{% endfor %}
<h2>Relationships</h2>
<table><tr><th>Source</th><th>Type</th><th>Target</th></tr>
{% for r in pack.relationships %}<tr><td>{{ names.get(r.source_id, r.source_id) }}</td><td>{{ r.type }}</td>
<td>{{ names.get(r.target_id, r.target_id) }}</td></tr>{% endfor %}</table>
</body></html>
"""

_ENV = Environment(loader=DictLoader({"pack.html": _PAGE}), autoescape=select_autoescape(default=True))


async def fetch_pack(config_url: str, token: str, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """Ask the configuration service for the pack's content (it records the export)."""
    async with httpx.AsyncClient(base_url=config_url, timeout=timeout_s) as client:
        r = await client.post(PACK_PATH, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        answer: dict[str, Any] = r.json()
        return answer


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def render_page(pack: Mapping[str, Any]) -> str:
    names: dict[str, str] = {}
    for service in pack["services"]:
        names[service["id"]] = f"{service['name']} ({service['number']})"
        for ci in service["cis"]:
            names[ci["id"]] = f"{ci['name']} ({ci['number']})"
    return _ENV.get_template("pack.html").render(pack=pack, names=names)


def write_pack(pack: Mapping[str, Any], out: Path) -> dict[str, Any]:
    """Write the pack's files into `out` (created; files of an earlier pack there are replaced),
    then the manifest over them; the manifest as written."""
    out.mkdir(parents=True, exist_ok=True)
    contacts = [
        {"plan_id": p["id"], "plan": p["title"], "version": p["version"], "contacts": p["contacts"]}
        for p in pack["plans"]
    ]
    contents = {
        "plans.json": _json(pack["plans"]),
        "contacts.json": _json(contacts),
        "cmdb.json": _json({"services": pack["services"], "relationships": pack["relationships"]}),
        "index.html": render_page(pack).encode(),
    }
    for name, data in contents.items():
        (out / name).write_bytes(data)
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    manifest = {
        "export_id": pack["export_id"],
        "exported_at": pack["exported_at"],
        "exported_by": pack["exported_by"],
        "algorithm": "sha256",
        "files": [{"path": name, "sha256": sums[name], "bytes": len(contents[name])} for name in FILES],
        "counts": {
            "plans": len(pack["plans"]),
            "services": len(pack["services"]),
            "cis": sum(len(s["cis"]) for s in pack["services"]),
            "relationships": len(pack["relationships"]),
        },
    }
    (out / "manifest.json").write_bytes(_json(manifest))
    (out / "SHA256SUMS").write_text("".join(f"{sums[name]}  {name}\n" for name in FILES))
    return manifest


def dated_folder(pack: Mapping[str, Any], root: Path) -> Path:
    """Where a scheduled export goes under `root`: a folder named by the export's UTC time and id
    (`20261207T030000Z-1a2b3c4d`), so that the names sort in the order the packs were made."""
    stamp = "".join(c for c in str(pack["exported_at"])[:19] if c.isdigit())
    return root / f"{stamp[:8]}T{stamp[8:14]}Z-{str(pack['export_id'])[:8]}"


def prune_packs(root: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest packs under `root` (dated folders holding a manifest; any
    other folder or file there is left alone); the folders removed."""
    packs = sorted(
        f for f in root.iterdir() if f.is_dir() and _DATED.fullmatch(f.name) and (f / "manifest.json").is_file()
    )
    gone = packs[: max(len(packs) - keep, 0)]
    for folder in gone:
        for name in (*FILES, "manifest.json", "SHA256SUMS"):
            (folder / name).unlink(missing_ok=True)
        folder.rmdir()  # fails, and keeps the folder, if someone put anything else in it
    return gone


_DATED = re.compile(r"\d{8}T\d{6}Z-[0-9a-f-]{1,8}")


def verify_pack(folder: Path) -> list[str]:
    """The files whose SHA-256 differs from the manifest's (empty: the pack is intact). Reads only the folder."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return [
        f["path"]
        for f in manifest["files"]
        if hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() != f["sha256"]
    ]
