"""The demo's tokens name the assignment groups its agents work in: an agent works (starts,
resolves, fulfils) what is assigned to them or their group, so without them the demo's agents
could only read."""

from __future__ import annotations

from itsm.demo.client import Api
from itsm.demo.dataset import AGENTS
from shared.auth import TokenVerifier

SECRET = "demo-test-secret-0123456789abcdef01234"


async def test_an_agents_token_names_the_groups_they_work_in() -> None:
    api = Api(urls={}, secret=SECRET)
    verifier = TokenVerifier(secret=SECRET)
    for group, people in AGENTS.items():
        for person in people:
            principal = await verifier.verify(api.token(person))
            assert (principal.subject, group in principal.groups) == (person, True)
    assert (await verifier.verify(api.token("mia.major"))).groups == frozenset()
