"""A real IMAP server for the e-mail intake tests: Debian's Dovecot (`dovecot-imapd`), started on a
free port of 127.0.0.1 with a configuration this module writes into a temporary folder (all its
state there: run, state, log and the Maildirs), plain-text login without TLS; or, with `tls=True`,
TLS required (STARTTLS on the IMAP port, implicit TLS on an IMAPS port) with a self-signed
certificate for 127.0.0.1 that this module writes with `openssl`. The tests put mail
into the desk's INBOX with IMAP APPEND (the standard library's `imaplib`), as an MTA's delivery
would, and read flags back the same way; no IMAP code of the suite's own is involved on that side.

With `oauth2_introspection_url`, Dovecot also takes SASL XOAUTH2 (RFC 7628's Google/Microsoft
variant): its `oauth2` passdb asks that URL (RFC 7662 introspection, POST) whether a bearer token is
active and whose it is (`username`); the plain login the tests use stays as it is.

As root, Dovecot refuses uid 0 as the mail user: the mail is owned by `nobody`."""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.notify.receiver import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)

OPENSSL = shutil.which("openssl")

PLAIN = """\
ssl = no
disable_plaintext_auth = no
"""
TLS = """\
ssl = required
ssl_cert = <{home}/cert.pem
ssl_key = <{home}/key.pem
disable_plaintext_auth = yes
"""
CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
{ssl}
auth_mechanisms = plain login{mechanisms}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {home}/users
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid={user} gid={group} home={home}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
{anvil}}}
service ipc {{
  chroot =
}}
"""
OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {home}/dovecot-oauth2.conf.ext
}}
"""
NO_PENALTY = """\
  unix_listener anvil-auth-penalty {
    mode = 0
  }
"""
"""The tests refuse tokens on purpose: no growing delay after each refusal from 127.0.0.1 (the first
refusal still waits Dovecot's `auth_failure_delay`)."""
OAUTH2 = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 10000
"""


@dataclass
class Imap:
    home: Path
    port: int
    user: str
    password: str
    tls_port: int = 0
    """The IMAPS port (implicit TLS) when started with `tls=True`, else 0."""

    @property
    def ca_file(self) -> str:
        """The self-signed certificate (its own CA) when started with `tls=True`."""
        return str(self.home / "cert.pem")

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        if self.tls_port:
            client.starttls(ssl.create_default_context(cafile=self.ca_file))
        client.login(self.user, self.password)
        try:
            yield client
        finally:
            client.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Drop a message into `folder`, as a delivery would (unseen)."""
        with self.client() as client:
            status, _ = client.append(folder, "", None, raw)
            assert status == "OK"

    def flags(self, folder: str = "INBOX") -> dict[int, str]:
        """UID -> the flags of each message in `folder`."""
        with self.client() as client:
            client.select(folder)
            _, lines = client.uid("FETCH", "1:*", "(FLAGS)")
        found: dict[int, str] = {}
        for line in lines:
            if not isinstance(line, bytes):
                continue
            text = line.decode()
            uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
            found[uid] = text.split("FLAGS (", 1)[1].split(")", 1)[0]
        return found

    def unflag_all(self, flag: str = "\\Seen", folder: str = "INBOX") -> None:
        """Take `flag` off every message (as if a pass had died before setting it)."""
        with self.client() as client:
            client.select(folder)
            client.uid("STORE", "1:*", "-FLAGS", f"({flag})")

    def empty(self, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.select(folder)
            client.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
            client.expunge()

    def log(self) -> str:
        path = self.home / "dovecot.log"
        return path.read_text() if path.exists() else ""


def _self_signed(home: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (an EC key: no DH parameters needed), valid 2 days."""
    assert OPENSSL is not None
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(home / "key.pem")]
    cert = [
        "-out",
        str(home / "cert.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]
    subprocess.run(
        [OPENSSL, "req", "-x509", *key, *cert],
        check=True,
        capture_output=True,
    )
    (home / "key.pem").chmod(0o644)  # read by Dovecot's processes running as the mail user


@contextlib.contextmanager
def dovecot(
    user: str = "desk@example.test",
    password: str = "secret",
    *,
    tls: bool = False,
    oauth2_introspection_url: str = "",
) -> Iterator[Imap]:
    """Dovecot's IMAP on a free port of 127.0.0.1, with one mailbox (`user`); with `tls`, TLS is
    required (STARTTLS on that port, implicit TLS on a second one) with a certificate written here;
    with `oauth2_introspection_url`, XOAUTH2 logins too, their tokens checked at that URL."""
    assert DOVECOT is not None
    home = Path(tempfile.mkdtemp(prefix="itsm-dovecot-"))
    for sub in ("run", "state", "mail"):
        (home / sub).mkdir()
    (home / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    root = os.geteuid() == 0
    if root:
        run_user, run_group = "nobody", "nogroup"
        home.chmod(0o755)
        shutil.chown(home / "mail", run_user, run_group)
    else:
        import grp
        import pwd

        run_user = pwd.getpwuid(os.getuid()).pw_name
        run_group = grp.getgrgid(os.getgid()).gr_name
    port, tls_port = free_port(), free_port() if tls else 0
    if tls:
        _self_signed(home)
    config = home / "dovecot.conf"
    ssl_lines = (TLS if tls else PLAIN).format(home=home)
    oauth2 = {"mechanisms": "", "oauth2_passdb": "", "anvil": ""}
    if oauth2_introspection_url:
        (home / "dovecot-oauth2.conf.ext").write_text(OAUTH2.format(url=oauth2_introspection_url))
        oauth2 = {"mechanisms": " xoauth2", "oauth2_passdb": OAUTH2_PASSDB.format(home=home), "anvil": NO_PENALTY}
    config.write_text(
        CONFIG.format(home=home, port=port, tls_port=tls_port, ssl=ssl_lines, user=run_user, group=run_group, **oauth2)
    )
    process = subprocess.Popen([DOVECOT, "-c", str(config), "-F"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"dovecot did not start: {err!r}")
            time.sleep(0.05)
        yield Imap(home, port, user, password, tls_port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)
