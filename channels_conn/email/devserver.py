"""A throwaway Dovecot IMAP server on loopback, for the tests and ``manage.py bench_email``.

Configured exactly as ../shared/CHANNELS.md §5 describes (Debian dovecot-imapd 2.3, run as
root; the mail processes run as ``nobody``). Development use only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

USER, PASSWORD = "helpdesk", "secret"
# A second mailbox whose password is not ASCII, as many people's are («contraseña»).
UTF8_USER, UTF8_PASSWORD = "acentos", "contraseña-ñandú"

CONFIG = """protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dovecot:
    dir: Path
    port: int

    def start(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        # Our own config file and a fixed binary: no untrusted input reaches the command.
        subprocess.run([binary, "-c", str(self.dir / "dovecot.conf")], check=True)  # noqa: S603
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError((self.dir / "dovecot.log").read_text())

    def stop(self) -> None:
        pid_file = self.dir / "run" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Dovecot]:
        """A started server in a new temporary folder; stopped and removed afterwards."""
        # Not under pytest's tmp (0700): the mail processes run as nobody and must reach it.
        base = Path(tempfile.mkdtemp(prefix="dovecot-"))
        base.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir()
        port = free_port()
        (base / "dovecot.conf").write_text(CONFIG.format(dir=base, port=port))
        (base / "users").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}::::::\n{UTF8_USER}:{{PLAIN}}{UTF8_PASSWORD}::::::\n",
            encoding="utf-8",
        )
        shutil.chown(base / "mail", "nobody", "nogroup")
        server = cls(base, port)
        server.start()
        try:
            yield server
        finally:
            server.stop()
            shutil.rmtree(base, ignore_errors=True)

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.append(folder, raw)

    def reset(self) -> None:
        """Empty the user's mail (a new mailbox: new UIDVALIDITY) between tests."""
        shutil.rmtree(self.dir / "mail" / USER, ignore_errors=True)
