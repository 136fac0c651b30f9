"""The subscription API: targets that are not public refused unless the setting allows them, the
secret shown only when made, rotation, disable and enable, the delivery log and replay requests,
and bounded input answered with RFC 9457 problems."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from services.notify.store.tables import webhook_subscription
from shared.auth import Role
from tests.infra import row_counts
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]
BASE = "/api/v1/webhooks/subscriptions"
PUBLIC = "https://93.184.215.14/hooks/in"


async def create(client: httpx.AsyncClient, auth: Auth, url: str, **body: object) -> httpx.Response:
    return await client.post(BASE, json={"url": url, "event_pattern": "incident.#", **body}, headers=auth(Role.ADMIN))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9000/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_a_private_loopback_or_link_local_target_is_refused_by_default(
    client: httpx.AsyncClient, auth: Auth, notify_db: str, url: str
) -> None:
    before = await row_counts(notify_db, webhook_subscription)
    r = await create(client, auth, url)
    assert_problem_naming(r, 422, "url")
    assert "not public" in r.json()["detail"]
    assert await row_counts(notify_db, webhook_subscription) == before


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/x"])
async def test_the_setting_allows_private_targets(open_client: httpx.AsyncClient, auth: Auth, url: str) -> None:
    r = await create(open_client, auth, url)
    assert r.status_code == 201, r.text


async def test_a_host_that_does_not_resolve_is_refused(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await create(client, auth, "https://no-such-host.invalid/hook")
    assert_problem_naming(r, 422, "url")
    assert "has no address" in r.json()["detail"]


async def test_a_public_target_is_accepted_and_its_secret_shown_once(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await create(client, auth, PUBLIC, subject_filter="INC0000001", data_filter={"priority": 1, "service.id": "x"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_")
    assert made["status"] == "active"
    assert made["data_filter"] == {"priority": 1, "service.id": "x"}
    assert r.headers["location"] == f"{BASE}/{made['id']}"
    read = await client.get(f"{BASE}/{made['id']}", headers=auth(Role.AUDITOR))
    assert read.status_code == 200
    assert "secret" not in read.json()
    listed = await client.get(BASE, params={"status": "active", "limit": 200}, headers=auth(Role.AUDITOR))
    assert made["id"] in [s["id"] for s in listed.json()["items"]]
    assert all("secret" not in s for s in listed.json()["items"])


async def test_rotate_disable_enable_and_delete(client: httpx.AsyncClient, auth: Auth) -> None:
    made = (await create(client, auth, PUBLIC)).json()
    sid, admin = made["id"], auth(Role.ADMIN)
    rotated = await client.post(f"{BASE}/{sid}/rotate-secret", headers={**admin, "If-Match": '"1"'})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != made["secret"]
    assert rotated.json()["previous_secret_until"] is not None
    stale = await client.post(f"{BASE}/{sid}/disable", headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    off = await client.post(f"{BASE}/{sid}/disable", headers=admin)
    assert off.status_code == 200
    assert off.json()["status"] == "disabled"
    assert off.json()["disabled_reason"] == "disabled by tester"
    again = await client.post(f"{BASE}/{sid}/disable", headers=admin)
    assert again.status_code == 409
    on = await client.post(f"{BASE}/{sid}/enable", headers=admin)
    assert on.json()["status"] == "active"
    assert (await client.delete(f"{BASE}/{sid}", headers=admin)).status_code == 204
    assert (await client.get(f"{BASE}/{sid}", headers=admin)).status_code == 404


async def test_the_delivery_log_and_replay_requests(client: httpx.AsyncClient, auth: Auth) -> None:
    sid = (await create(client, auth, PUBLIC)).json()["id"]
    log = await client.get(f"{BASE}/{sid}/deliveries", headers=auth(Role.AUDITOR))
    assert log.status_code == 200
    assert log.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    missing = await client.post(
        f"{BASE}/{sid}/replay",
        json={"event_id": "00000000-0000-4000-8000-000000000000"},
        headers=auth(Role.ADMIN),
    )
    assert missing.status_code == 404
    window = {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}
    empty = await client.post(f"{BASE}/{sid}/replay", json=window, headers=auth(Role.ADMIN))
    assert empty.status_code == 202
    assert empty.json() == {"queued": 0}
    backwards = {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert_problem_naming(
        await client.post(f"{BASE}/{sid}/replay", json=backwards, headers=auth(Role.ADMIN)), 422, "since"
    )
    both = await client.post(
        f"{BASE}/{sid}/replay",
        json={**window, "event_id": "00000000-0000-4000-8000-000000000000"},
        headers=auth(Role.ADMIN),
    )
    assert both.status_code == 422
    unknown = await client.get(
        "/api/v1/webhooks/deliveries/00000000-0000-4000-8000-000000000000", headers=auth(Role.ADMIN)
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "event_pattern": "#"}, "url"),
        ({"url": "https://example.com/" + "x" * 2000, "event_pattern": "#"}, "url"),
        ({"url": PUBLIC, "event_pattern": "Incident.#"}, "event_pattern"),
        ({"url": PUBLIC, "event_pattern": "x" * 300}, "event_pattern"),
        ({"url": PUBLIC, "event_pattern": "#", "data_filter": {f"f{i}": i for i in range(21)}}, "data_filter"),
        ({"url": PUBLIC, "event_pattern": "#", "data_filter": {"a": {"nested": 1}}}, "data_filter"),
        ({"url": PUBLIC, "event_pattern": "#", "data_filter": {"bad key": 1}}, "data_filter"),
        ({"url": PUBLIC, "event_pattern": "#", "description": "x" * 501}, "description"),
        ({"url": PUBLIC, "event_pattern": "#", "secret": "whsec_mine"}, "secret"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, body: dict[str, object], field: str
) -> None:
    r = await client.post(BASE, json=body, headers=auth(Role.ADMIN))
    assert r.status_code == 422, r.text
    assert field in r.text
