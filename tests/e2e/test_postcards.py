"""Postcard invitations: printed from the letter PDF, posted by an operator, then answered."""

from __future__ import annotations

import io
import uuid

import pypdfium2 as pdfium
import pytest

from harness import GatewayProcess

pytestmark = pytest.mark.slow


def test_a_postcard_is_sent_once_an_operator_posts_it(gw: GatewayProcess) -> None:
    tag = uuid.uuid4().hex[:8]
    inv = gw.invite(channel="postcard", partner={"company": "有限会社さくら青果", "name": "田中 一郎",
                                                  "email": f"t-{tag}@sakura.example"})
    assert inv["state"] == "issued"
    pdf = gw.http.get(f"/api/invitations/{inv['id']}/letter").content
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    width, height = doc[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (100, 148)  # はがき size
    posted = gw.api("POST", f"/api/invitations/{inv['id']}/posted")
    assert posted["state"] == "sent" and any(e["kind"] == "posted" for e in posted["timeline"])
    again = gw.http.post(f"/api/invitations/{inv['id']}/posted")
    assert again.status_code == 422 and "only an issued postcard" in again.text
    fax = gw.invite(channel="fax", partner={"company": "F", "name": "F", "email": f"f-{tag}@f.example",
                                            "fax": "03-1111-2222"})
    refused = gw.http.post(f"/api/invitations/{fax['id']}/posted")
    assert refused.status_code == 422 and "not by post" in refused.text
