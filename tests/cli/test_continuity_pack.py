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
from itsm.continuity_pack import verify_pack
from services.config.app import create_app
from services.config.settings import ConfigSettings
from tests.infra import eventually
from tests.prometheus import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


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
