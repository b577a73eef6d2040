"""The registration part of ``./torii demo`` (manual 001): suppliers off the platform apply for company IDs.

Played over real SMTP and HTTP against the running gateway, with the mails and the application in
samples/registration/ (made by ``samples.make_registrations``), ``__RUN__`` in them filled with the run's
tag so that every run applies for companies of its own:

1. a supplier mails register@ in Japanese, applies on the page its link mail leads to, and its wholesaler
   approves by replying 「承認します」: the company ID and the ID administrator's account ID are issued;
2. a supplier asks in English and applies by replying to the link mail, with a gmail.com address for its
   ID administrator: refused and told why (registration_fix); the registration stays requested;
3. a colleague of the first asks again for the same company, written ﾐﾄﾞﾘ食品 … ㈱: pointed to the
   company's ID administrator, the address masked (registration_existing);
4. the platform starts one through the API, the supplier applies on the page, and its wholesaler prints
   the approval sheet that came with the request, ticks 済 and faxes it back: issued;
5. a supplier prints the blank application form the gateway serves (``GET /register/form.pdf``), fills
   it in by hand and faxes it (``samples.make_application_fax``): it waits in review until the operator,
   logged in to the console, compares the fields with their crops and confirms them; the wholesaler
   approves by reply: issued.

Each scenario is a function in ``SCENARIOS``, played in turn with the API client, the settings, the run's
tag and a console session of the ``demo`` operator; each returns the registration it played and where that
should end, and the table at the end checks them all.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.utils import parseaddr
from typing import Any

import httpx

from parsers.registration_form import read_fields
from samples.demo import SAMPLES, _processed, _send, _wait, fax_delivery, fill_sample, pad, returned_fax_mail
from workflows.config import Settings

# The demo run's tag in samples/registration/ (company names, addresses).
RUN = "__RUN__"
COMPLETE_SUBJECT = "会員登録完了のお知らせ"


@dataclass(frozen=True)
class Played:
    """A registration the demo played: where it should end, and whether what was checked on the way held."""

    registration_id: int
    expect_state: str
    expect_company: str | None  # the company ID it should end with
    ok: bool


def sample(name: str, run: str) -> bytes:
    return (SAMPLES / "registration" / name).read_bytes().replace(RUN.encode(), run.encode())


def mail_sample(settings: Settings, name: str, run: str, *, to: str, in_reply_to: str = "") -> str:
    """Send a sample from the address in its From to ``to``, dated now; its Message-ID."""
    raw = sample(name, run)
    sender = parseaddr(str(message_from_bytes(raw)["From"]))[1]
    message_id = f"{uuid.uuid4().hex}@{sender.rpartition('@')[2]}"
    _send(settings, sender, to, fill_sample(raw, reply_to=to, in_reply_to=in_reply_to, partner=sender,
                                            message_id=message_id))
    return message_id


def sent_mail(api: httpx.Client, registration_id: int, kind: str) -> dict[str, Any]:
    """The registration's mail of that kind, once it has left."""
    def sent() -> dict[str, Any] | None:
        mails = api.get("/api/outbox", params={"object_type": "registration", "object_id": registration_id}).json()
        return next((m for m in mails if m["kind"] == kind and m["status"] == "sent"), None)

    found: dict[str, Any] = _wait(sent)
    return found


def show(label: str, message: dict[str, Any]) -> None:
    print(f"   {pad(label, 42)} → {message['status']:<9} {message['reason'] or ''}")


def the_company(api: httpx.Client, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The company of that name (GET /api/companies?q=) and its ID administrator's account."""
    found = api.get("/api/companies", params={"q": name}).json()
    assert len(found) == 1, found
    detail = api.get(f"/api/companies/{found[0]['id']}").json()
    return detail, next(a for a in detail["accounts"] if a["role"] == "admin")


def request(api: httpx.Client, settings: Settings, run: str, name: str) -> tuple[int, dict[str, Any]]:
    """A sample mailed to register@: the registration it started, and how the gateway took the mail."""
    message = _processed(api, mail_sample(settings, name, run, to=settings.registration_address))
    show(name, message)
    return int(message["object"]["id"]), message


def apply_on_page(link: str, fields: dict[str, str]) -> httpx.Response:
    with httpx.Client(timeout=30) as browser:  # a browser of its own: the form's CSRF cookie, no API token
        page = browser.get(link).raise_for_status()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        return browser.post(link, data={**fields, "csrf_token": token.group(1), "agree": "yes"})


def approved_on_page(api: httpx.Client, settings: Settings, run: str, _console: httpx.Client) -> Played:
    reg_id, requested = request(api, settings, run, "request.ja.eml")
    link_mail = sent_mail(api, reg_id, "registration_link")
    link = re.search(rf"{re.escape(settings.public_url)}/register/[\w-]+", link_mail["text"])
    assert link, link_mail["text"]
    fields = read_fields(sample("application.ja.txt", run).decode())
    answer = apply_on_page(link.group(0), fields)
    applied = api.get(f"/api/registrations/{reg_id}").json()
    print(f"   {'(application.ja.txt on the linked page)':<42} → {applied['state']:<9} HTTP {answer.status_code}; "
          f"{applied['wholesaler']['email']} is asked to approve")

    ask = sent_mail(api, reg_id, "registration_wholesaler_request")
    approval = _processed(api, mail_sample(settings, "approval.ja.eml", run, to=ask["reply_to"],
                                           in_reply_to=ask["message_id"]))
    show("approval.ja.eml (承認します)", approval)
    complete = sent_mail(api, reg_id, "registration_complete")
    company, admin = the_company(api, fields["company_name"])
    print(f"   company ID {company['company_id']}, ID administrator {admin['name']} account ID {admin['account_id']}; "
          f"{complete['subject']} to {complete['to']}")
    ok = (requested["status"] == approval["status"] == "processed" and answer.status_code == 200
          and COMPLETE_SUBJECT in complete["subject"] and complete["to"] == fields["admin_email"]
          and company["company_id"] in complete["text"] and admin["account_id"] in complete["text"])
    return Played(reg_id, "issued", company["company_id"], ok)


def refused_free_mail(api: httpx.Client, settings: Settings, run: str, _console: httpx.Client) -> Played:
    reg_id, requested = request(api, settings, run, "request.en.eml")
    link_mail = sent_mail(api, reg_id, "registration_link")
    refused = _processed(api, mail_sample(settings, "application.free-mail.en.eml", run, to=link_mail["reply_to"],
                                          in_reply_to=link_mail["message_id"]))
    show("application.free-mail.en.eml", refused)
    fix = sent_mail(api, reg_id, "registration_fix")
    # The reasons are the first section's bullets: "■ Why it could not be accepted", "- …".
    section = re.search(r"■[^\n]*\n((?:[-・] [^\n]*\n)+)", fix["text"])
    reasons = [line[2:] for line in section.group(1).splitlines()] if section else []
    print(f"   registration_fix to {fix['to']}: {'; '.join(reasons) or '(no reason found)'}")
    ok = (requested["status"] == "processed" and refused["status"] == "refused" and "free-mail" in refused["reason"]
          and any("gmail.com" in reason for reason in reasons))
    return Played(reg_id, "requested", None, ok)


def existing_company(api: httpx.Client, settings: Settings, run: str, _console: httpx.Client) -> Played:
    reg_id, requested = request(api, settings, run, "request.existing.ja.eml")
    told = sent_mail(api, reg_id, "registration_existing")
    company, admin = the_company(api, read_fields(sample("application.ja.txt", run).decode())["company_name"])
    masked = re.search(r"[\w.+-]*\*\*\*@[\w.-]+", told["text"])
    print(f"   registration_existing to {told['to']}: {company['company_id']}, ID管理者 {admin['name']} "
          f"{masked.group(0) if masked else '(no address)'}")
    ok = (requested["status"] == "processed" and masked is not None and company["company_id"] in told["text"]
          and masked.group(0) == f"{admin['email'][:2]}***@{admin['email'].partition('@')[2]}"
          and admin["email"] not in told["text"])
    return Played(reg_id, "existing", company["company_id"], ok)


def approved_by_fax(api: httpx.Client, settings: Settings, run: str, _console: httpx.Client) -> Played:
    """Started by the platform's API; the wholesaler prints the approval sheet, ticks 済 and faxes it back."""
    fields = {**read_fields(sample("application.ja.txt", run).decode()), "company_name": f"信州りんご園{run}合同会社",
              "jan_maker_code": "4512340", "admin_email": f"admin-{run}@shinshu-ringo.example"}
    made = api.post("/api/registrations", json={"applicant_email": f"ringo-{run}@shinshu-ringo.example",
                                                "company_name": fields["company_name"]}).raise_for_status().json()
    answer = apply_on_page(made["application_link"], fields)
    ask = sent_mail(api, made["id"], "registration_wholesaler_request")
    raw = api.get(f"/api/outbox/{ask['id']}/raw").content
    [sheet] = [part.get_payload(decode=True) for part in message_from_bytes(raw).walk()
               if (part.get_filename() or "").startswith("approval-REG-")]
    fax_id = f"{uuid.uuid4().hex}@fax.example.net"
    _send(settings, "fax-service@fax.example.net", f"fax@{settings.mail_domain}",
          returned_fax_mail(sheet, "approve", "加藤", fax_id, settings.mail_domain))
    faxed = _processed(api, fax_id, timeout=90)
    show("(the approval sheet, ticked 済, faxed back)", faxed)
    company, admin = the_company(api, fields["company_name"])
    print(f"   company ID {company['company_id']}, account ID {admin['account_id']} (approved by fax)")
    ok = answer.status_code == 200 and faxed["status"] == "processed"
    return Played(made["id"], "issued", company["company_id"], ok)


def applied_by_fax_form(api: httpx.Client, settings: Settings, run: str, console: httpx.Client) -> Played:
    """The blank form printed, filled in by hand and faxed; the operator confirms it; the wholesaler approves."""
    from samples.make_application_fax import APPLICATION, filled_fax

    # the wholesaler's contact of the first scenario, who approves by replying approval.ja.eml from its address
    wholesaler = read_fields(sample("application.ja.txt", run).decode())["wholesaler_email"]
    written = {**APPLICATION, "company_name": f"安曇野わさび{run}合同会社", "wholesaler_email": wholesaler,
               "admin_email": f"kobayashi-{run}@wasabi.example"}
    form = console.get("/register/form.pdf").raise_for_status().content  # public: any browser gets it
    fax_id = f"{uuid.uuid4().hex}@fax.example.net"
    _send(settings, "fax-service@fax.example.net", f"fax@{settings.mail_domain}",
          fax_delivery(filled_fax(form, written), fax_id, settings.mail_domain))
    faxed = _processed(api, fax_id, timeout=90)
    show("(the application form, filled in and faxed)", faxed)
    # The operator, on the console: each field beside its crop, corrected where the reading is wrong.
    path = f"/messages/{faxed['id']}/application"
    page = console.get(path).raise_for_status().text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    proposed = {key: html.unescape(value) for key, value in re.findall(r'<input name="(\w+)" value="([^"]*)"', page)}
    proposed["consent"] = "yes" if 'name="consent" value="yes" checked' in page else ""
    right = [key for key, value in written.items() if proposed.get(key) == value]
    confirmed = console.post(path, data={**written, "csrf_token": token.group(1)})
    location = confirmed.headers.get("location", "")
    print(f"   operator confirms {path}: {len(right)} of {len(written)} fields read as written, the rest corrected "
          f"→ HTTP {confirmed.status_code} {location}")
    reg_id = int(location.rsplit("/", 1)[1]) if location.startswith("/registrations/") else 0
    ask = sent_mail(api, reg_id, "registration_wholesaler_request")
    approval = _processed(api, mail_sample(settings, "approval.ja.eml", run, to=ask["reply_to"],
                                           in_reply_to=ask["message_id"]))
    show("approval.ja.eml (承認します)", approval)
    company, admin = the_company(api, written["company_name"])
    print(f"   company ID {company['company_id']}, account ID {admin['account_id']} (applied by fax)")
    ok = (faxed["status"] == "review" and faxed["kind"] == "registration_application" and confirmed.status_code == 303
          and approval["status"] == "processed" and api.get(f"/api/registrations/{reg_id}").json()["channel"] == "fax")
    return Played(reg_id, "issued", company["company_id"], ok)


SCENARIOS: tuple[Callable[[httpx.Client, Settings, str, httpx.Client], Played], ...] = (
    approved_on_page, refused_free_mail, existing_company, approved_by_fax, applied_by_fax_form)


def console_session(settings: Settings, password: str) -> httpx.Client:
    """The console, logged in as the demo's operator (the login form's CSRF token first, as a browser does)."""
    console = httpx.Client(base_url=f"http://{settings.http_host}:{settings.http_port}", timeout=30)
    login = console.get("/login").raise_for_status().text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert token, login
    done = console.post("/login", data={"name": "demo", "password": password, "csrf_token": token.group(1),
                                        "next": "/"})
    assert done.status_code == 303, done.text
    page = console.get("/account").text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert csrf, page
    console.headers["X-CSRF-Token"] = csrf.group(1)
    return console


def play_registrations(api: httpx.Client, settings: Settings, run: str, password: str) -> tuple[bool, list[int]]:
    """Suppliers apply for company IDs by mail, on the linked page and by fax; (all as expected, the registrations)."""
    print(f"\n== 5. Suppliers off the platform apply for a company ID (mail to {settings.registration_address})")
    console = console_session(settings, password)
    try:
        played = [scenario(api, settings, run, console) for scenario in SCENARIOS]
    finally:
        console.close()
    print(f"\n   {'':<8} {pad('company', 32)} {'state':<10} {'company ID':<10}")
    ok = True
    for item in played:
        reg = api.get(f"/api/registrations/{item.registration_id}").json()
        code = api.get(f"/api/companies/{reg['company_id']}").json()["company_id"] if reg["company_id"] else None
        right = item.ok and reg["state"] == item.expect_state and code == item.expect_company
        mark = "ok" if right else (f"EXPECTED {item.expect_state} {item.expect_company or '-'}"
                                   + ("" if item.ok else ", and see above"))
        ok &= right
        print(f"   {reg['reference']:<8} {pad(reg['company_name'], 32)} {reg['state']:<10} {code or '-':<10} {mark}")
    return ok, [item.registration_id for item in played]
