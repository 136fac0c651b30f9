"""`itsm continuity-pack` against the configuration service listening on a real port; then the
service is stopped (its port refuses connections) and the pack is opened from disk alone: the HTML
page lists the critical services' CIs (names escaped), and every SHA-256 in the manifest verifies."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from itsm.cli import app as cli
from itsm.continuity_pack import dated_folder, prune_packs, verify_pack, write_pack
from services.config.app import create_app
from services.config.settings import ConfigSettings
from tests.infra import eventually
from tests.prometheus import free_port


@pytest.mark.asyncio(loop_scope="session")
async def test_the_pack_opens_and_lists_the_critical_cis_while_the_suite_is_stopped(
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    token: Callable[..., str],
    tmp_path: Path,
) -> None:
    port = free_port()
    app = create_app(make_settings(ConfigSettings, await service_database("config")))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def started() -> None:
        assert server.started

    await eventually(started)
    url = f"http://127.0.0.1:{port}"
    bearer = token("config_manager", subject="continuity-lead")
    headers = {"Authorization": f"Bearer {bearer}"}
    tag = uuid.uuid4().hex[:6]
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers) as api:

            async def ci(name: str, ci_type: str, **fields: Any) -> dict[str, Any]:
                r = await api.post("/api/v1/cis", json={"name": name, "type": ci_type, **fields})
                assert r.status_code == 201, r.text
                return dict(r.json())

            payroll = await ci(f"Payroll {tag}", "business_service", criticality=1)
            database = await ci(f"payroll-db-{tag}", "database", service_id=payroll["id"], criticality=1)
            web = await ci(f"<script>alert(1)</script>-{tag}", "server", service_id=payroll["id"])
            link = {"source_id": web["id"], "type": "depends_on", "target_id": database["id"]}
            assert (await api.post("/api/v1/relationships", json=link)).status_code == 201
            plan = {
                "kind": "continuity",
                "title": f"Payroll continuity {tag}",
                "service_ids": [payroll["id"]],
                "invocation_criteria": "Payroll down for 2 hours on a pay day",
                "invocation_authority": "Head of IT operations",
                "recovery_targets": [{"service_id": payroll["id"], "rto_minutes": 240, "rpo_minutes": 15}],
                "procedures": ["Fail over to the standby site"],
                "return_to_normal": "Fail back in the next maintenance window",
                "contacts": [{"name": f"Dana Ops {tag}", "role": "Incident lead", "phone": "+44 20 7946 0000"}],
            }
            assert (await api.post("/api/v1/continuity/plans", json=plan)).status_code == 201

        out = tmp_path / "pack"
        args = ["continuity-pack", "--out", str(out), "--url", url, "--token", bearer]
        result = await asyncio.to_thread(CliRunner().invoke, cli, args)
        assert result.exit_code == 0, result.output
    finally:
        server.should_exit = True
        await task

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # the service is down: what follows reads the folder only

    assert verify_pack(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["plans.json", "contacts.json", "cmdb.json", "index.html"]
    page = (out / "index.html").read_text()
    for item in (payroll, database, web):
        assert item["number"] in page
    assert f"payroll-db-{tag}" in page and f"Dana Ops {tag}" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    cmdb = json.loads((out / "cmdb.json").read_text())
    mine = next(s for s in cmdb["services"] if s["id"] == payroll["id"])
    assert sorted(c["number"] for c in mine["cis"]) == sorted([database["number"], web["number"]])
    assert link in cmdb["relationships"]
    assert any(c["contacts"][0]["name"] == f"Dana Ops {tag}" for c in json.loads((out / "contacts.json").read_text()))

    (out / "cmdb.json").write_text((out / "cmdb.json").read_text().replace(database["number"], "CI9999999"))
    assert verify_pack(out) == ["cmdb.json"]  # a changed file does not verify


def _pack(exported_at: str) -> dict[str, Any]:
    return {
        "export_id": str(uuid.uuid4()),
        "exported_at": exported_at,
        "exported_by": "cron",
        "plans": [],
        "services": [],
        "relationships": [],
    }


def test_scheduled_packs_go_to_dated_folders_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    """What `--dated --keep N` does on every scheduled run: a new folder per export, named so that
    names sort by time, and the oldest beyond N removed; anything else in the folder stays."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "README.txt").write_text("kept offline, see the runbook")
    made = []
    for day in ("05", "06", "07"):
        pack = _pack(f"2026-12-{day}T03:00:00.123456Z")
        folder = dated_folder(pack, tmp_path)
        write_pack(pack, folder)
        made.append(folder)
        assert verify_pack(folder) == []
    assert made[0].name.startswith("20261205T030000Z-") and made[0].name < made[1].name < made[2].name
    assert prune_packs(tmp_path, 2) == [made[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["README.txt", "notes", made[1].name, made[2].name])
    assert prune_packs(tmp_path, 2) == []  # nothing more to remove


def test_keep_without_dated_is_refused_before_anything_is_fetched(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["continuity-pack", "--out", str(tmp_path), "--keep", "3", "--host", "192.0.2.1"])
    assert result.exit_code == 2 and "--dated" in result.output
    assert list(tmp_path.iterdir()) == []
