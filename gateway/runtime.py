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
import httpx
import redis

from gateway.broker import make_broker
from gateway.delivery import deliver, send_fax
from gateway.dkim import DkimSigner
from gateway.fax import EmailToFaxTransport, FaxSpoolTransport, FaxTransport
from gateway.logs import log_context
from gateway.metrics import install_observers, observe_webhook_attempt, process_observed
from gateway.senderauth import make_verifier
from gateway.sweep import SweepResult, sweep
from gateway.transports import MailTransport, transport_from_env
from gateway.webhooks import deliver_webhook
from workflows import clock, inbound
from workflows.config import Settings
from workflows.db import Database
from workflows.models import FaxJob, Order, OutboundMessage
from workflows.order.follow_up import remind
from workflows.registration import Registration
from workflows.registration.timers import run_timer
from workflows.webhooks import WebhookDelivery

log = logging.getLogger(__name__)

INBOUND_QUEUE = "inbound"
OUTBOUND_QUEUE = "outbound"
# Webhooks wait on the platform's endpoints (up to the timeout each): their own queue, so a slow
# endpoint never holds up the mail and faxes to partners.
WEBHOOK_QUEUE = "webhooks"


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
                           dispatch={OutboundMessage: self.enqueue_outbound, FaxJob: self.enqueue_fax,
                                     WebhookDelivery: self.enqueue_webhook})
        self.http = httpx.Client(follow_redirects=False)
        self.verify_sender = make_verifier(settings)
        install_observers()
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

        self.registration_timer = dramatiq.Actor(
            self._registration_timer, broker=self.broker, actor_name="registration_timer",
            queue_name=OUTBOUND_QUEUE, priority=0, options={"max_retries": 5},
        )
        self.deliver_webhook = dramatiq.Actor(
            self._deliver_webhook, broker=self.broker, actor_name="deliver_webhook",
            queue_name=WEBHOOK_QUEUE, priority=0, options={"max_retries": 3},
        )

    @classmethod
    def with_redis_url(cls, settings: Settings, redis_url: str) -> Runtime:
        return cls(replace(settings, redis_url=redis_url))

    # Each actor names what it works on for the log lines of its task (gateway.logs).
    def _process_inbound(self, inbound_id: int) -> None:
        with log_context(inbound_id=inbound_id):
            process_observed(lambda: inbound.process(self.db, self.settings, inbound_id, self.verify_sender))

    def _deliver(self, outbound_id: int) -> None:
        with log_context(outbound_id=outbound_id):
            deliver(self.db, self.settings, self.transport, outbound_id)

    def _deliver_webhook(self, delivery_id: int) -> None:
        with log_context(webhook_delivery_id=delivery_id):
            deliver_webhook(self.db, self.settings, self.http, delivery_id, self.retry_webhook,
                            observe=observe_webhook_attempt)

    def _send_fax(self, job_id: int) -> None:
        with log_context(fax_job_id=job_id):
            send_fax(self.db, self.settings, self.fax_transport, job_id)

    def _order_timer(self, order_id: int) -> None:
        with log_context(object_type="order", object_id=order_id), self.db.transaction() as session:
            order = session.get(Order, order_id, with_for_update=True)
            if order is not None and remind(session, self.settings, order):
                log.info("order %s: no answer by its deadline; supplier reminded, buyer told", order_id)

    def enqueue_order_timer(self, order_id: int) -> None:
        self.order_timer.send(order_id)

    def _registration_timer(self, registration_id: int) -> None:
        with log_context(object_type="registration", object_id=registration_id), self.db.transaction() as session:
            found = session.get(Registration, registration_id, with_for_update=True)
            fired = run_timer(session, self.settings, found, clock.now()) if found is not None else None
        if fired:
            log.info("registration %s: %s", registration_id, fired)

    def enqueue_registration_timer(self, registration_id: int) -> None:
        self.registration_timer.send(registration_id)

    def enqueue_fax(self, job_id: int) -> None:
        self.send_fax.send(job_id)

    def enqueue_inbound(self, inbound_id: int) -> None:
        self.process_inbound.send(inbound_id)

    def enqueue_outbound(self, outbound_id: int) -> None:
        self.deliver.send(outbound_id)

    def enqueue_webhook(self, delivery_id: int) -> None:
        self.deliver_webhook.send(delivery_id)

    def retry_webhook(self, delivery_id: int, seconds: float) -> None:
        self.deliver_webhook.send_with_options(args=(delivery_id,), delay=round(seconds * 1000))

    def sweep_once(self) -> SweepResult:
        return sweep(self.db, self.settings, self.enqueue_inbound, self.enqueue_outbound, self.enqueue_fax,
                     self.enqueue_order_timer, self.enqueue_webhook, self.enqueue_registration_timer)

    def close(self) -> None:
        close_transport = getattr(self.transport, "close", None)
        if callable(close_transport):
            close_transport()  # relay connections get their QUIT
        self.http.close()
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
