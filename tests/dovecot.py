"""A private Dovecot IMAP server for tests and benchmarks (Debian's ``dovecot-imapd``).

Everything lives in a temporary directory of its own: the configuration, a
passwd-file with one user, the maildirs, the runtime sockets and the log. It
listens on 127.0.0.1 only, on a free port that stays the same across
``restart()``. Nothing of the system's Dovecot (``/etc/dovecot``,
``/run/dovecot``, ``/var/lib/dovecot``) is read or touched.

As root, Dovecot's own processes run as the users the Debian package creates
(``dovecot``, ``dovenull``) and mail is stored as ``nobody``: Dovecot refuses
to access mail as root. As any other user, everything runs as that user (checked by hand as
``nobody``: that needs ``default_internal_group`` and no chroot for the login processes).

Dovecot is started in a session of its own and stopped by signalling the whole
process group: a master alone answers SIGTERM only after its IMAP processes
sitting in IDLE wake up (about 10 s), while the group stops at once, each IMAP
process saying ``BYE`` to its client as a real server shutdown does.
"""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from imapclient import IMAPClient

# Dovecot 2.3's capabilities after login, for servers that must lack some of them
# (imap_capability replaces the list; it cannot remove single entries).
DEFAULT_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
    "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS "
    "LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH "
    "LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY"
).split()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """One private Dovecot instance with one user, ``torii`` / ``secret``."""

    user = "torii"
    password = "secret"
    host = "127.0.0.1"

    def __init__(self, *, without: Iterable[str] = (), tls: bool = False) -> None:
        """``without``: capabilities the server must not offer (e.g. IDLE, MOVE).

        ``tls``: also serve STARTTLS on ``port`` and implicit TLS on ``tls_port``,
        with a self-signed certificate for 127.0.0.1 in ``ca_file``.
        """
        binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
        if binary is None:
            raise RuntimeError("dovecot is not installed (Debian package dovecot-imapd)")
        self.binary = binary
        self.without = {c.upper() for c in without}
        self.tls = tls
        # Short path: Dovecot's sockets live in it and sun_path holds 108 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="torii-dovecot-"))
        # Dovecot's unprivileged processes must be able to walk into it.
        self.directory.chmod(0o755)
        self.port = _free_port()
        self.tls_port = _free_port() if tls else 0
        self.ca_file = self.directory / "cert.pem"
        self.log_path = self.directory / "dovecot.log"
        self.mail_root = self.directory / "mail"
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()

    # -- configuration -------------------------------------------------------------------------

    def _accounts(self) -> tuple[str, str, int, int]:
        """(internal user, login user, mail uid, mail gid)."""
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for name in ("dovecot", "dovenull"):
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    raise RuntimeError(f"user {name!r} is missing; it comes with Debian's dovecot-core") from None
            return "dovecot", "dovenull", nobody.pw_uid, nobody.pw_gid
        me = getpass.getuser()
        return me, me, os.getuid(), os.getgid()

    def _write_config(self) -> None:
        d = self.directory
        internal, login, uid, gid = self._accounts()
        for sub in ("run", "state"):
            (d / sub).mkdir()
        self.mail_root.mkdir()
        os.chown(self.mail_root, uid, gid)
        (d / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        ssl = "no"
        tls_lines = ""
        if self.tls:
            self._make_certificate()
            ssl = "yes"
            tls_lines = f"ssl_cert = <{self.ca_file}\nssl_key = <{d / 'key.pem'}\nssl_min_protocol = TLSv1.2\n"
        caps = ""
        if self.without:
            caps = "imap_capability = " + " ".join(c for c in DEFAULT_CAPABILITIES if c.upper() not in self.without)
        chroot = "" if os.geteuid() == 0 else "  chroot =\n"
        # Without root, Dovecot cannot hand its sockets to the dovecot group.
        group = "" if os.geteuid() == 0 else f"default_internal_group = {grp.getgrgid(gid).gr_name}\n"
        (d / "dovecot.conf").write_text(f"""\
# Written by tests/dovecot.py: a private instance, nothing shared with the system's Dovecot.
base_dir = {d / 'run'}
state_dir = {d / 'state'}
instance_name = torii-test-{self.port}
listen = 127.0.0.1
protocols = imap
log_path = {self.log_path}
ssl = {ssl}
{tls_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
{group}first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{self.mail_root}/%u
# Test mail, not real mail: no fsync (appends are ~10x faster).
mail_fsync = never
{caps}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d / 'users'}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.mail_root}/%u
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
""")

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(self.directory / "key.pem"), "-out", str(self.ca_file)],
            check=True, capture_output=True,
        )

    # -- process -------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> Dovecot:
        with open(self.directory / "stderr.log", "ab") as stderr:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.directory / "dovecot.conf")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True,  # stop() signals the whole group, IMAP processes included
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return self
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # Children outlive the master by a moment; the port must be free before a restart.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- the mailbox, as a mail client sees it -------------------------------------------------

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()

    def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()) -> int:
        """Deliver one message; returns its UID."""
        with self.client() as client:
            return self._append(client, raw, folder, flags)

    def append_many(self, messages: Iterable[bytes], folder: str = "INBOX") -> list[int]:
        with self.client() as client:
            return [self._append(client, raw, folder, ()) for raw in messages]

    @staticmethod
    def _append(client: IMAPClient, raw: bytes, folder: str, flags: Iterable[str]) -> int:
        answer = client.append(folder, raw, flags=tuple(flags))
        # [APPENDUID <uidvalidity> <uid>] (UIDPLUS)
        return int(answer.split(b"APPENDUID", 1)[1].split()[1].rstrip(b"]"))

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """Every message's UID and flags (as text)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            found: dict[int, Any] = client.get_flags(client.search(["ALL"]))
        return {uid: {f.decode() if isinstance(f, bytes) else str(f) for f in fl} for uid, fl in found.items()}

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def folders(self) -> list[str]:
        with self.client() as client:
            return [name for _flags, _delim, name in client.list_folders()]

    def create_folder(self, folder: str) -> None:
        with self.client() as client:
            client.create_folder(folder)

    def recreate_folder(self, folder: str) -> int:
        """Delete and create ``folder`` again, as an admin restoring a backup would: a new UIDVALIDITY."""
        with self.client() as client:
            before = int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])
            client.delete_folder(folder)
            client.create_folder(folder)
            after = int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])
        assert after != before, "Dovecot gave the recreated folder its old UIDVALIDITY"
        return after
