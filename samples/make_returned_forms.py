"""Make returned fax-back forms under samples/faxback/ from the sample letter, with the project's own tools.

    .venv/bin/python -m samples.make_returned_forms

Each is the sample FAX letter (samples/letters/, reference secret ``DEMO_SECRET``)
as a partner returns it: marked, signed, then rasterized at fax resolution and
degraded (skew, speckle, sometimes upside down), as PDF or G4 TIFF; one has its QR
code and printed reference scribbled over, so that only the temporary ID at the bottom
of the page names its invitation. The manifest says what each page should read as.
"""

from __future__ import annotations

import json
import random

from samples import faxsim
from samples.compose import SAMPLES
from samples.make_letters import DEMO_ID
from workflows.letters import faxback_geometry

FORMS = [
    # file, marks, style, resolution, skew, upside down, expected answer, code and reference defaced
    ("01-approve-tick-normal.pdf", ("approve",), "tick", "normal", 1.5, False, "approve", False),
    ("02-reject-cross-upside-down.pdf", ("reject",), "cross", "normal", -2.0, True, "reject", False),
    ("03-hold-circle-fine.tiff", ("hold",), "circle", "fine", 2.5, False, "hold", False),
    ("04-approve-fill-fine.pdf", ("approve",), "fill", "fine", -0.8, False, "approve", False),
    ("05-double-ticked.pdf", ("approve", "reject"), "tick", "normal", 1.0, False, None, False),
    ("06-blank.pdf", (), "tick", "normal", -1.5, False, None, False),
    ("07-approve-code-defaced-upside-down.pdf", ("approve",), "tick", "normal", 1.2, True, "approve", True),
]


def main() -> None:
    geometry = faxback_geometry()
    letter = (SAMPLES / "letters" / "invitation-1001-fax.ja.pdf").read_bytes()
    out = SAMPLES / "faxback"
    out.mkdir(exist_ok=True)
    manifest = []
    for number, (name, marks, style, resolution, skew, upside_down, expect, defaced) in enumerate(FORMS):
        rng = random.Random(number)
        page = faxsim.rasterize(letter, 200)
        for answer in marks:
            page = faxsim.mark(page, geometry, answer, style, rng)
        page = faxsim.write_name(page, geometry, "田中", rng)
        if defaced:
            page = faxsim.deface(faxsim.deface(page, geometry, "qr", rng), geometry, "reference_text", rng)
        fax = faxsim.degrade(page, resolution=resolution, skew_deg=skew, noise=0.5,  # type: ignore[arg-type]
                             upside_down=upside_down, rng=rng)
        data = faxsim.to_tiff([fax]) if name.endswith(".tiff") else faxsim.to_pdf([fax])
        (out / name).write_bytes(data)
        # A defaced form names its invitation only by the temporary ID printed at the bottom.
        manifest.append({"file": name, "invitation": 1001, "expect_answer": expect}
                        | ({"reference": None, "temp_id": DEMO_ID} if defaced else {}))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} returned forms to {out}")


if __name__ == "__main__":
    main()
