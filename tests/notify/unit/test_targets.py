"""Webhook targets: only http(s) URLs to a host, and no address that is not public unless allowed."""

from __future__ import annotations

import pytest

from services.notify.domain.targets import Target, check_addresses, is_public, refused_addresses, target_of
from shared.errors import RuleViolation


def test_the_target_of_a_url() -> None:
    assert target_of("https://hooks.example.com/in?x=1") == Target("hooks.example.com", 443)
    assert target_of("http://hooks.example.com/in") == Target("hooks.example.com", 80)
    assert target_of("http://127.0.0.1:8123/x") == Target("127.0.0.1", 8123)
    assert target_of("https://[::1]:9000/") == Target("::1", 9000)


NOT_HTTP = "an http or https URL with a host"
CREDENTIALS = "no credentials in the URL: the signature authenticates the sender"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", NOT_HTTP),
        ("https:///path", NOT_HTTP),
        ("example.com/in", NOT_HTTP),
        ("https://u:p@example.com/", CREDENTIALS),
        ("https://token@example.com/", CREDENTIALS),
        ("https://:p@example.com/", CREDENTIALS),
        ("http://x:99999/", "not a URL: Port out of range 0-65535"),
    ],
)
def test_other_urls_are_refused_on_the_url_field(url: str, reason: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        target_of(url)
    assert caught.value.detail == reason
    assert caught.value.extensions["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.8.8",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert is_public(address)


def test_every_address_is_checked() -> None:
    assert refused_addresses(["8.8.8.8", "10.0.0.1", "1.1.1.1", "::1"]) == ["10.0.0.1", "::1"]
    with pytest.raises(RuleViolation) as caught:
        check_addresses("mixed.example", ["8.8.8.8", "10.0.0.1"], allow_private=False)
    assert caught.value.detail == (
        "mixed.example resolves to an address that is not public (10.0.0.1); private, loopback and link-local"
        " targets are refused unless NOTIFY_WEBHOOK_ALLOW_PRIVATE_TARGETS is set"
    )
    assert caught.value.extensions["errors"][0]["field"] == "url"
    with pytest.raises(RuleViolation, match=r"not public \(10\.0\.0\.1, 10\.0\.0\.2, ::1\);"):
        check_addresses("many.example", ["10.0.0.1", "10.0.0.2", "::1", "127.0.0.1"], allow_private=False)
    check_addresses("mixed.example", ["8.8.8.8", "10.0.0.1"], allow_private=True)
    check_addresses("public.example", ["8.8.8.8"], allow_private=False)


def test_a_host_without_an_address_is_refused_even_when_private_ones_are_allowed() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_addresses("nowhere.invalid", [], allow_private=True)
    assert caught.value.detail == "nowhere.invalid has no address"
    assert caught.value.extensions["errors"][0]["field"] == "url"
