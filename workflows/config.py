"""Settings, read once from the environment.

Every knob the gateway has is here, with its default for one machine and no setup;
nothing else in the code reads ``os.environ``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from parsers.limits import MIB, Limits


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _json_map(name: str) -> dict[str, str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError(f"{name} must be a JSON object")
    return {str(k).rstrip(".").lower(): str(v) for k, v in parsed.items()}


def _secret_key(home: Path) -> bytes:
    """TORII_SECRET_KEY, or a random key kept in TORII_HOME/secret.key (made on first use)."""
    value = os.environ.get("TORII_SECRET_KEY")
    if value:
        return value.encode()
    path = home / "secret.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str | None  # None: the gateway starts its own redis-server under home
    redis_namespace: str
    smtp_url: str | None  # None: outbound mail is captured in the spool directory
    smtp_host: str
    smtp_port: int
    http_host: str
    http_port: int
    mail_domain: str
    from_address: str
    max_message_bytes: int
    smtp_timeout: float  # seconds a silent SMTP client is given before it is disconnected
    smtp_tls_cert: Path | None  # with smtp_tls_key: STARTTLS is offered
    smtp_tls_key: Path | None
    worker_processes: int
    worker_threads: int
    # How often a worker looks in the database for work that Redis lost.
    sweep_interval: float
    # Rows untouched for this long are considered lost and sent again.
    sweep_grace: float
    # A delivery claimed this long ago and not finished is taken to have died mid-send.
    delivery_lease: float
    # Replies read with less confidence than this go to review instead of changing state.
    min_confidence: float
    # Unknown reply tokens tolerated from one sender per hour before it is locked out.
    token_guess_limit: int
    # Automatic mails to any one address per hour; more are recorded and not sent (loop safety).
    mail_hourly_limit: int
    heartbeat_timeout_ms: int
    # Inbound sender checks: DKIM with dkimpy, and Authentication-Results from these servers only.
    dkim_verify: bool
    trusted_authserv_ids: frozenset[str]
    # Static DKIM key records ("sel._domainkey.example.com" → TXT); when set, DNS is not asked.
    dkim_txt_records: dict[str, str] | None
    # Outbound DKIM signing, on when a key file is given; publish gateway.dkim.public_txt_record(key)
    # at <selector>._domainkey.<domain>.
    dkim_sign_key: Path | None
    dkim_sign_selector: str
    dkim_sign_domain: str
    # How long a soft-bounced mail waits before it is sent again (on top of the sweep's grace).
    soft_bounce_delay: float
    # Keys the HMACs of temporary IDs and printed references; the same on every machine of a deployment.
    secret_key: bytes
    # Where paper invitations are answered by mail, with the temporary ID and password.
    invite_address: str
    # The gateway's own fax number, printed on letters for the fax-back form.
    fax_number: str | None
    # Wrong temporary credentials tolerated per sender and per ID within an hour, then locked for an hour.
    credential_failure_limit: int
    # Email-to-fax service: faxes are mailed to <number>@<this domain>; unset: PDFs go to spool/fax.
    fax_gateway_domain: str | None
    # Whitespace-separated imap:// / imaps:// URLs, one per mailbox (see gateway/imap/config.py); "" for none.
    imap_mailboxes: str
    # Waits between fax attempts on a busy line or no answer (TORII_FAX_RETRY_MINUTES="5,15,45").
    fax_retry_backoff: tuple[timedelta, ...]
    # Hours a supplier has to answer an order before it is reminded and the buyer told.
    order_answer_hours: float
    # Where the fax-to-email service delivers faxes sent to the gateway's order fax number.
    fax_order_address: str
    # A JSON file of fax-to-email service profiles (parsers/fax_sender.py); None: the built-in generic one.
    fax_services_file: Path | None
    # What reading one message may cost (parsers/limits.py; TORII_MAX_*): over a limit, it goes to review
    # with the reason "too large: ...".
    limits: Limits = Limits()
    # A message whose processing began this many times without ending (the worker died: out of memory,
    # kill -9) is failed, not tried again (workflows/inbound/attempts.py).
    inbound_max_attempts: int = 3
    # Seconds intake waits for the database (SQLite's write lock) before it answers 451 instead of 250.
    intake_patience: float = 10.0
    # Console sessions end after this long without a request, and after session_max_hours in any case.
    session_idle_minutes: float = 120.0
    session_max_hours: float = 12.0
    # Wrong passwords in a row before an operator's login is locked, and for how long.
    login_failure_limit: int = 5
    login_lock_minutes: float = 15.0
    # Session cookies carry Secure: "auto" when the request came over https, "1" always, "0" never.
    cookie_secure: str = "auto"
    # Webhooks: the waits before each new try after a refused one (then the delivery has failed), how long
    # an endpoint has to answer, and how long a rotated-out secret still signs beside the new one.
    webhook_retry_delays: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    webhook_timeout: float = 10.0
    webhook_secret_overlap: timedelta = timedelta(hours=24)
    # Registration (manual 001): where requests are mailed, how the gateway's public pages are reached,
    # where a registered company logs in, and the free-mail domains an ID administrator may not use.
    registration_address: str = "register@torii.localhost"
    public_url: str = "http://127.0.0.1:8025"
    platform_login_url: str = "http://127.0.0.1:8025/"
    free_mail_domains: frozenset[str] = frozenset()
    registration_link_days: float = 10.0  # the application link
    registration_approval_days: float = 5.0  # the wholesaler has this long, then a reminder, then as long again
    password_link_hours: float = 72.0  # the administrator's one-time link to set the password
    public_form_limit: int = 20  # posts to the public pages per client address and hour
    # Buyers' users (manual 004): the invitation link's life, the new address's confirmation link, the password
    # reset link, and how many reset mails one address gets an hour (more are not sent; the page says the same).
    user_invite_hours: float = 48.0
    email_change_hours: float = 48.0
    password_reset_hours: float = 1.0
    password_reset_mail_limit: int = 3
    spool_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spool_dir", self.home / "spool")

    @property
    def redis_socket_dir(self) -> Path:
        return self.home / "redis"


# Free mail: anyone can open an address there, so it proves nothing about a company (manual 001).
FREE_MAIL_DOMAINS = ("gmail.com,googlemail.com,yahoo.co.jp,ymail.ne.jp,yahoo.com,hotmail.com,hotmail.co.jp,"
                     "outlook.com,outlook.jp,live.jp,live.com,msn.com,icloud.com,me.com,mac.com,aol.com,"
                     "mail.com,gmx.com,protonmail.com,proton.me,excite.co.jp,nifty.com,docomo.ne.jp,"
                     "ezweb.ne.jp,au.com,softbank.ne.jp,i.softbank.jp,ybb.ne.jp")


def load_limits() -> Limits:
    """The reading limits from TORII_MAX_* (sizes in MiB or KiB as named, times in seconds)."""
    default = Limits()
    return Limits(
        inflated_bytes=_int("TORII_MAX_INFLATED_MIB", default.inflated_bytes // MIB) * MIB,
        inflated_total_bytes=_int("TORII_MAX_INFLATED_TOTAL_MIB", default.inflated_total_bytes // MIB) * MIB,
        page_pixels=_int("TORII_MAX_PAGE_PIXELS", default.page_pixels),
        image_pixels=_int("TORII_MAX_IMAGE_PIXELS", default.image_pixels),
        pages=_int("TORII_MAX_PAGES", default.pages),
        mime_parts=_int("TORII_MAX_MIME_PARTS", default.mime_parts),
        mime_depth=_int("TORII_MAX_MIME_DEPTH", default.mime_depth),
        header_bytes=_int("TORII_MAX_HEADER_KIB", default.header_bytes // 1024) * 1024,
        ocr_page_seconds=_float("TORII_MAX_OCR_PAGE_SECONDS", default.ocr_page_seconds),
        reading_seconds=_float("TORII_MAX_READING_SECONDS", default.reading_seconds),
        pdf_seconds=_float("TORII_MAX_PDF_SECONDS", default.pdf_seconds),
        pdf_memory_bytes=_int("TORII_MAX_PDF_MEMORY_MIB", default.pdf_memory_bytes // MIB) * MIB,
    )


def load_settings() -> Settings:
    home = Path(os.environ.get("TORII_HOME", "var")).resolve()
    domain = os.environ.get("TORII_MAIL_DOMAIN", "torii.localhost").lower()
    http_host, http_port = os.environ.get("TORII_HTTP_HOST", "127.0.0.1"), _int("TORII_HTTP_PORT", 8025)
    public_url = os.environ.get("TORII_PUBLIC_URL", f"http://{http_host}:{http_port}").rstrip("/")
    limits = load_limits()
    return Settings(
        home=home,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'torii.sqlite3'}",
        redis_url=os.environ.get("REDIS_URL") or None,
        redis_namespace=os.environ.get("TORII_REDIS_NAMESPACE", "torii"),
        smtp_url=os.environ.get("SMTP_URL") or None,
        smtp_host=os.environ.get("TORII_SMTP_HOST", "127.0.0.1"),
        smtp_port=_int("TORII_SMTP_PORT", 2525),
        http_host=http_host,
        http_port=http_port,
        mail_domain=domain,
        from_address=os.environ.get("TORII_FROM_ADDRESS", f"noreply@{domain}"),
        max_message_bytes=_int("TORII_MAX_MESSAGE_BYTES", 25 * 1024 * 1024),
        limits=limits,
        inbound_max_attempts=_int("TORII_INBOUND_MAX_ATTEMPTS", 3),
        intake_patience=_float("TORII_INTAKE_PATIENCE", 10.0),
        smtp_timeout=_float("TORII_SMTP_TIMEOUT", 60.0),
        smtp_tls_cert=Path(os.environ["TORII_SMTP_TLS_CERT"]) if os.environ.get("TORII_SMTP_TLS_CERT") else None,
        smtp_tls_key=Path(os.environ["TORII_SMTP_TLS_KEY"]) if os.environ.get("TORII_SMTP_TLS_KEY") else None,
        worker_processes=_int("TORII_WORKER_PROCESSES", 1),
        worker_threads=_int("TORII_WORKER_THREADS", 4),
        sweep_interval=_float("TORII_SWEEP_INTERVAL", 30.0),
        sweep_grace=_float("TORII_SWEEP_GRACE", 60.0),
        delivery_lease=_float("TORII_DELIVERY_LEASE", 120.0),
        min_confidence=_float("TORII_MIN_CONFIDENCE", 0.8),
        token_guess_limit=_int("TORII_TOKEN_GUESS_LIMIT", 10),
        mail_hourly_limit=_int("TORII_MAIL_HOURLY_LIMIT", 20),
        heartbeat_timeout_ms=_int("TORII_HEARTBEAT_TIMEOUT_MS", 15000),
        dkim_verify=os.environ.get("TORII_DKIM_VERIFY", "1") not in ("0", "false", "no"),
        trusted_authserv_ids=frozenset(
            v.strip().lower() for v in os.environ.get("TORII_TRUSTED_AUTHSERV_IDS", "").split(",") if v.strip()
        ),
        dkim_txt_records=_json_map("TORII_DKIM_TXT_RECORDS"),
        imap_mailboxes=os.environ.get("TORII_IMAP_MAILBOXES", ""),
        dkim_sign_key=Path(os.environ["TORII_DKIM_SIGN_KEY"]) if os.environ.get("TORII_DKIM_SIGN_KEY") else None,
        dkim_sign_selector=os.environ.get("TORII_DKIM_SIGN_SELECTOR", "torii"),
        dkim_sign_domain=os.environ.get("TORII_DKIM_SIGN_DOMAIN", domain).lower(),
        soft_bounce_delay=_float("TORII_SOFT_BOUNCE_DELAY", 600.0),
        fax_gateway_domain=os.environ.get("TORII_FAX_GATEWAY_DOMAIN") or None,
        secret_key=_secret_key(home),
        invite_address=os.environ.get("TORII_INVITE_ADDRESS", f"invite@{domain}").lower(),
        fax_number=os.environ.get("TORII_FAX_NUMBER") or None,
        credential_failure_limit=_int("TORII_CREDENTIAL_FAILURE_LIMIT", 5),
        fax_retry_backoff=tuple(timedelta(minutes=float(m)) for m in
                                os.environ.get("TORII_FAX_RETRY_MINUTES", "5,15,45").split(",") if m.strip()),
        order_answer_hours=_float("TORII_ORDER_ANSWER_HOURS", 24.0),
        fax_order_address=os.environ.get("TORII_FAX_ORDER_ADDRESS", f"fax-orders@{domain}").lower(),
        fax_services_file=Path(os.environ["TORII_FAX_SERVICES"]) if os.environ.get("TORII_FAX_SERVICES") else None,
        session_idle_minutes=_float("TORII_SESSION_IDLE_MINUTES", 120.0),
        session_max_hours=_float("TORII_SESSION_MAX_HOURS", 12.0),
        login_failure_limit=_int("TORII_LOGIN_FAILURE_LIMIT", 5),
        login_lock_minutes=_float("TORII_LOGIN_LOCK_MINUTES", 15.0),
        cookie_secure=os.environ.get("TORII_COOKIE_SECURE", "auto"),
        webhook_retry_delays=tuple(float(s) for s in os.environ.get(
            "TORII_WEBHOOK_RETRY_SECONDS", "5,300,1800,7200,18000,36000,36000").split(",") if s.strip()),
        webhook_timeout=_float("TORII_WEBHOOK_TIMEOUT", 10.0),
        webhook_secret_overlap=timedelta(hours=_float("TORII_WEBHOOK_SECRET_OVERLAP_HOURS", 24.0)),
        registration_address=os.environ.get("TORII_REGISTRATION_ADDRESS", f"register@{domain}").lower(),
        public_url=public_url,
        platform_login_url=os.environ.get("TORII_PLATFORM_LOGIN_URL", f"{public_url}/"),
        free_mail_domains=frozenset(d.strip().lower() for d in os.environ.get(
            "TORII_FREE_MAIL_DOMAINS", FREE_MAIL_DOMAINS).split(",") if d.strip()),
        registration_link_days=_float("TORII_REGISTRATION_LINK_DAYS", 10.0),
        registration_approval_days=_float("TORII_REGISTRATION_APPROVAL_DAYS", 5.0),
        password_link_hours=_float("TORII_PASSWORD_LINK_HOURS", 72.0),
        public_form_limit=_int("TORII_PUBLIC_FORM_LIMIT", 20),
        user_invite_hours=_float("TORII_USER_INVITE_HOURS", 48.0),
        email_change_hours=_float("TORII_EMAIL_CHANGE_HOURS", 48.0),
        password_reset_hours=_float("TORII_PASSWORD_RESET_HOURS", 1.0),
        password_reset_mail_limit=_int("TORII_PASSWORD_RESET_MAIL_LIMIT", 3),
    )
