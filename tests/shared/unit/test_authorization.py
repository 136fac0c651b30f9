"""The authorisation table's pure rules: a whole row, and the rule for a principal's roles."""

from __future__ import annotations

from shared.auth import Role
from shared.authorization import COLUMNS, OTHER_ROLES, Rule, row, rule_for


def test_a_row_names_every_role_denies_by_default_and_allows_admin() -> None:
    cells = row(allow=[Role.AGENT], own=[Role.REQUESTER])
    assert sorted(cells) == sorted(COLUMNS)
    assert (cells["agent"], cells["requester"], cells["admin"], cells["auditor"]) == (
        Rule.ALLOW,
        Rule.OWN,
        Rule.ALLOW,
        Rule.DENY,
    )
    assert cells[OTHER_ROLES] is Rule.DENY
    assert row(others=Rule.ALLOW)[OTHER_ROLES] is Rule.ALLOW


def test_the_most_permissive_of_the_roles_held_wins() -> None:
    cells = row(allow=[Role.AGENT], own=[Role.REQUESTER])
    assert rule_for(cells, ["requester"]) is Rule.OWN
    assert rule_for(cells, ["requester", "agent"]) is Rule.ALLOW
    assert rule_for(cells, ["auditor"]) is Rule.DENY
    assert rule_for(cells, []) is Rule.DENY
    assert rule_for(cells, ["request_approver"]) is Rule.DENY
    assert rule_for(row(others=Rule.ALLOW), ["request_approver"]) is Rule.ALLOW
