"""The IMAP connection settings: STARTTLS upgrades a plain connection, so asking for it together
with implicit TLS is refused when the settings are read; the intake's IMAP configuration carries
STARTTLS and the CA file, and its TLS context verifies the server (certificate and name)."""

from __future__ import annotations

import ssl

import pytest
from pydantic import ValidationError

from services.notify.settings import NotifySettings
from services.notify.store.imap import ImapConfig
from services.notify.usecases.intake import intake_config_of


def test_starttls_with_implicit_tls_is_refused() -> None:
    with pytest.raises(ValidationError, match="mail_imap_starttls upgrades a plain connection"):
        NotifySettings(mail_imap_tls=True, mail_imap_starttls=True)


def test_the_intake_config_carries_starttls_and_the_ca_file() -> None:
    settings = NotifySettings(mail_imap_tls=False, mail_imap_starttls=True, mail_imap_ca_file="/etc/desk-ca.pem")
    imap = intake_config_of(settings).imap
    assert (imap.tls, imap.starttls, imap.ca_file) == (False, True, "/etc/desk-ca.pem")
    assert (NotifySettings().mail_imap_tls, NotifySettings().mail_imap_starttls) == (True, False)


def test_the_tls_context_verifies_the_server() -> None:
    context = ImapConfig("h", 993, True, "u", "p", "INBOX", "", 1.0).ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
