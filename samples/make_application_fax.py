"""Make samples/registration/application.fax.ja.pdf: the blank application form, filled in by hand and faxed.

    .venv/bin/python -m samples.make_application_fax

The form is the project's own (``workflows.registration.application_form``, reference secret
``DEMO_SECRET``), rasterized at fax resolution, every field written in a handwriting-like font
(Klee One, ``fonts-klee``, as ``samples.make_returned_forms`` signs its forms), the JAN maker code
one digit a box, the consent box ticked with a レ, then degraded by ``samples.faxsim`` (skew,
speckle). ``./torii demo`` fills the form the running gateway serves (``GET /register/form.pdf``)
the same way, with its run's company.
"""

from __future__ import annotations

import random
from datetime import date

from samples import faxsim
from samples.compose import SAMPLES
from samples.make_letters import DEMO_SECRET
from workflows.registration.application_form import CONSENT_FIELD, FORM, jan_field_name, render_application_form

FORM_DATE = date(2026, 12, 1)  # printed on the form: fixed, so that the sample is made the same every time
# What the applicant writes, by field (the consent box is ticked when "yes").
APPLICATION = {
    "company_name": "信州りんご園合同会社",
    "company_address": "長野県長野市若里1-2-3",
    "company_phone": "026-123-4567",
    "fax_number": "026-123-4568",
    "jan_maker_code": "4512345",
    "wholesaler_company": "北信食品卸株式会社",
    "wholesaler_department": "営業部",
    "wholesaler_contact": "加藤",
    "wholesaler_email": "kato@hokushin.example",
    "admin_name": "小林",
    "admin_email": "kobayashi@ringo.example",
    "consent": "yes",
}


def filled_fax(form_pdf: bytes, values: dict[str, str], *, seed: int = 21, skew_deg: float = 0.9) -> bytes:
    """The form as the applicant faxes it: every value handwritten in its field, rasterized and degraded."""
    rng = random.Random(seed)
    page = faxsim.rasterize(form_pdf, 200)
    for name, value in values.items():
        if name == "jan_maker_code":
            for position, digit in enumerate(value, start=1):
                page = faxsim.write_field(page, FORM, jan_field_name(position), digit, rng)
        elif name == CONSENT_FIELD:
            if value == "yes":
                page = faxsim.write_field(page, FORM, CONSENT_FIELD, "レ", rng)
        elif value:
            page = faxsim.write_field(page, FORM, name, value, rng)
    fax = faxsim.degrade(page, resolution="normal", skew_deg=skew_deg, noise=0.5, upside_down=False, rng=rng)
    return faxsim.to_pdf([fax])


def main() -> None:
    out = SAMPLES / "registration" / "application.fax.ja.pdf"
    form = render_application_form(DEMO_SECRET, language="ja", fax_number="03-5555-0100", issued_on=FORM_DATE)
    out.write_bytes(filled_fax(form, APPLICATION))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
