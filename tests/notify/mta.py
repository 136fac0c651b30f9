"""A real MTA for the e-mail tests: Debian's Exim (`exim4-daemon-light`), started on a free port
of 127.0.0.1 with a configuration this module writes into a temporary folder, delivering each
accepted message into the Maildir of its local part (`<folder>/mail/<user>/Maildir`). The tests
read the mailboxes with the standard library's `mailbox.Maildir`; no SMTP code of the suite's
own is involved on the receiving side.

All Exim state (spool, logs, pid) stays in the folder, so several instances may run at once.
As root, Exim keeps root for itself and delivers as `nobody`; the folder is given to `nobody`."""

from __future__ import annotations

import contextlib
import mailbox
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.notify.imap import _self_signed

EXIM = shutil.which("exim4") or shutil.which("exim")

CONFIG = """\
keep_environment =
primary_hostname = mx.example.test
domainlist local_domains = {domain}
spool_directory = {home}/spool
log_file_path = {home}/log/%slog
pid_file_path = {home}/exim.pid
local_interfaces = 127.0.0.1
daemon_smtp_ports = {ports}
{tls}
{auth_hosts}
# deliver every message of a connection at once (the default queues those after the tenth)
smtp_accept_queue_per_connection = 0
# the subject on each arrival line (T="..."), to tell messages apart in the log
log_selector = +subject
acl_smtp_rcpt = check_rcpt
exim_user = {run_user}
exim_group = {run_group}
never_users =
trusted_users = {run_user}

begin acl
check_rcpt:
{auth_required}
  accept domains = +local_domains
         local_parts = lsearch;{home}/users
  deny   message = no such mailbox here

begin routers
mailbox:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;{home}/users
  transport = maildir

begin transports
maildir:
  driver = appendfile
  directory = {home}/mail/${{local_part_data}}/Maildir
  maildir_format
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add
  user = {mail_user}
  group = {mail_group}
  mode = 0600
{authenticators}
"""

TLS = """tls_advertise_hosts = *
tls_certificate = {home}/cert.pem
tls_privatekey = {home}/key.pem
tls_on_connect_ports = {tls_port}"""

# Exim's own ${if ...} syntax below: not formatted by Python, so written as it is.
AUTHENTICATORS = r"""
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{USER}}{eq{$auth3}{PASSWORD}}}}
  server_set_id = $auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = "Username:: : Password::"
  server_condition = ${if and {{eq{$auth1}{USER}}{eq{$auth2}{PASSWORD}}}}
  server_set_id = $auth1
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Mta:
    home: Path
    port: int
    domain: str
    tls_port: int | None = None
    """With `tls=True`: the port of implicit TLS (STARTTLS is offered on `port` too)."""

    @property
    def ca_file(self) -> str:
        """The self-signed certificate it presents, for a client to trust (with `tls=True`)."""
        return str(self.home / "cert.pem")

    def address(self, user: str) -> str:
        return f"{user}@{self.domain}"

    def log(self) -> str:
        """Exim's main and panic logs (for a failing assertion's message)."""
        return "".join(p.read_text() for p in sorted((self.home / "log").glob("*log")))

    def mailbox(self, user: str) -> list[EmailMessage]:
        """The messages delivered to `user` so far, parsed (the `new` and `cur` folders)."""
        folder = self.home / "mail" / user / "Maildir"
        if not folder.exists():
            return []
        box = mailbox.Maildir(str(folder), create=False)
        found = []
        for key in box.iterkeys():
            parsed = message_from_bytes(box.get_bytes(key), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


@contextlib.contextmanager
def exim(
    users: list[str], domain: str = "example.test", *, tls: bool = False, auth: tuple[str, str] | None = None
) -> Iterator[Mta]:
    """Exim listening on a free port of 127.0.0.1, with a mailbox for each of `users`. `tls`: it
    offers STARTTLS there and implicit TLS on a second port, with a self-signed certificate for
    127.0.0.1; `auth` (user, password): it accepts mail only from a client that authenticated
    (PLAIN or LOGIN, offered only over TLS)."""
    assert EXIM is not None
    home = Path(tempfile.mkdtemp(prefix="itsm-exim-"))
    if tls:
        _self_signed(home)
    for sub in ("spool", "log", "mail"):
        (home / sub).mkdir()
    (home / "users").write_text("".join(f"{u}: {u}\n" for u in users))
    root = os.geteuid() == 0
    run_user = "root" if root else os.environ.get("USER", "nobody")
    run_group = "root" if root else run_user
    mail_user, mail_group = ("nobody", "nogroup") if root else (run_user, run_group)
    if root:  # the delivery runs as nobody: it must reach the mail folder (mkdtemp makes 0700)
        home.chmod(0o755)
        shutil.chown(home / "mail", mail_user, mail_group)
    port = _free_port()
    tls_port = _free_port() if tls else None
    ports = f"{port} : {tls_port}" if tls_port else str(port)
    authenticators = AUTHENTICATORS.replace("USER", auth[0]).replace("PASSWORD", auth[1]) if auth else ""
    config = home / "exim.conf"
    config.write_text(
        CONFIG.format(
            home=home,
            ports=ports,
            tls=TLS.format(home=home, tls_port=tls_port) if tls else "tls_advertise_hosts =",
            auth_hosts="auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}" if auth else "",
            auth_required="  deny   !authenticated = *\n         message = authentication required" if auth else "",
            authenticators=authenticators,
            domain=domain,
            run_user=run_user,
            run_group=run_group,
            mail_user=mail_user,
            mail_group=mail_group,
        )
    )
    process = subprocess.Popen(
        [EXIM, "-C", str(config), "-bdf", "-oX", ports.replace(" ", "")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(100).startswith(b"220"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"exim did not start: {process.stderr.read() if process.stderr else b''!r}")
            time.sleep(0.05)
        yield Mta(home, port, domain, tls_port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)
