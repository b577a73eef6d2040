"""One process's wiring: settings, database, broker, actors and transport, built in one place.

Actors are thin: they take IDs and call a plain function that loads rows and
commits. They are declared on this runtime's broker explicitly, never on a
module-level default broker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import dramatiq
import redis

from gateway.broker import make_broker
from gateway.delivery import deliver, send_fax
from gateway.dkim import DkimSigner
from gateway.fax import EmailToFaxTransport, FaxSpoolTransport, FaxTransport
from gateway.senderauth import make_verifier
from gateway.sweep import SweepResult, sweep
from gateway.transports import MailTransport, transport_from_env
from workflows import inbound
from workflows.config import Settings
from workflows.db import Database
from workflows.models import FaxJob, Order, OutboundMessage
from workflows.order.follow_up import remind

log = logging.getLogger(__name__)

INBOUND_QUEUE = "inbound"
OUTBOUND_QUEUE = "outbound"


def fax_transport_from_settings(settings: Settings, mail: MailTransport) -> FaxTransport:
    if settings.fax_gateway_domain:
        return EmailToFaxTransport(mail, settings.fax_gateway_domain, f"fax@{settings.mail_domain}",
                                   settings.mail_domain)
    return FaxSpoolTransport(settings.spool_dir / "fax")


class Runtime:
    def __init__(self, settings: Settings, transport: MailTransport | None = None) -> None:
        if not settings.redis_url:
            raise ValueError("Runtime needs settings.redis_url (torii up starts a private Redis first)")
        self.settings = settings
        self.broker = make_broker(settings.redis_url, settings.redis_namespace, settings.heartbeat_timeout_ms)
        signer = (DkimSigner.from_files(settings.dkim_sign_domain, settings.dkim_sign_selector, settings.dkim_sign_key)
                  if settings.dkim_sign_key else None)
        self.transport = transport or transport_from_env(settings.spool_dir, settings.smtp_url, signer)
        self.db = Database(settings.database_url,
                           dispatch={OutboundMessage: self.enqueue_outbound, FaxJob: self.enqueue_fax})
        self.verify_sender = make_verifier(settings)
        self.fax_transport = fax_transport_from_settings(settings, self.transport)
        self.send_fax = dramatiq.Actor(
            self._send_fax, broker=self.broker, actor_name="send_fax",
            queue_name=OUTBOUND_QUEUE, priority=0, options={"max_retries": 5},
        )
        self.process_inbound = dramatiq.Actor(
            self._process_inbound, broker=self.broker, actor_name="process_inbound",
            queue_name=INBOUND_QUEUE, priority=0, options={"max_retries": 10},
        )
        self.order_timer = dramatiq.Actor(
            self._order_timer, broker=self.broker, actor_name="order_timer",
            queue_name=OUTBOUND_QUEUE, priority=0, options={"max_retries": 5},
        )
        self.deliver = dramatiq.Actor(
            self._deliver, broker=self.broker, actor_name="deliver",
            queue_name=OUTBOUND_QUEUE, priority=0, options={"max_retries": 12, "min_backoff": 5000},
        )

    @classmethod
    def with_redis_url(cls, settings: Settings, redis_url: str) -> Runtime:
        return cls(replace(settings, redis_url=redis_url))

    def _process_inbound(self, inbound_id: int) -> None:
        inbound.process(self.db, self.settings, inbound_id, self.verify_sender)

    def _deliver(self, outbound_id: int) -> None:
        deliver(self.db, self.settings, self.transport, outbound_id)

    def _send_fax(self, job_id: int) -> None:
        send_fax(self.db, self.settings, self.fax_transport, job_id)

    def _order_timer(self, order_id: int) -> None:
        with self.db.transaction() as session:
            order = session.get(Order, order_id, with_for_update=True)
            if order is not None and remind(session, self.settings, order):
                log.info("order %s: no answer by its deadline; supplier reminded, buyer told", order_id)

    def enqueue_order_timer(self, order_id: int) -> None:
        self.order_timer.send(order_id)

    def enqueue_fax(self, job_id: int) -> None:
        self.send_fax.send(job_id)

    def enqueue_inbound(self, inbound_id: int) -> None:
        self.process_inbound.send(inbound_id)

    def enqueue_outbound(self, outbound_id: int) -> None:
        self.deliver.send(outbound_id)

    def sweep_once(self) -> SweepResult:
        return sweep(self.db, self.settings, self.enqueue_inbound, self.enqueue_outbound, self.enqueue_fax,
                     self.enqueue_order_timer)

    def close(self) -> None:
        close_transport = getattr(self.transport, "close", None)
        if callable(close_transport):
            close_transport()  # relay connections get their QUIT
        self.broker.close()
        self.db.dispose()


class SweepLoop(threading.Thread):
    """Runs the sweep every ``sweep_interval`` seconds; one process at a time across all workers."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(name="torii-sweep", daemon=True)
        self.runtime = runtime
        self.stopping = threading.Event()
        assert runtime.settings.redis_url
        self.redis = redis.Redis.from_url(runtime.settings.redis_url)
        self.lock_key = f"{runtime.settings.redis_namespace}:sweep-lock"

    def run(self) -> None:
        interval = self.runtime.settings.sweep_interval
        while not self.stopping.wait(interval):
            try:
                # The lock expires before the next round, so a dead holder never blocks the sweep.
                if self.redis.set(self.lock_key, "1", nx=True, px=max(int(interval * 900), 100)):
                    self.runtime.sweep_once()
            except Exception:
                log.exception("sweep failed; trying again in %.0f s", interval)

    def stop(self) -> None:
        self.stopping.set()
