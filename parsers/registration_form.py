"""The fields of a company ID application (manual 001), as written in a mail: one ``label: value`` a line.

The gateway's mail prints the form with these labels (Japanese or English); a reply fills them in.
Labels are matched after width normalization and without spaces, with a full- or half-width colon;
quoted lines (``>``) and empty values are skipped, so the form quoted back blank changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.normalize import normalize_text


@dataclass(frozen=True)
class Field:
    key: str
    label_ja: str
    label_en: str
    aliases: tuple[str, ...] = ()
    required: bool = True


FIELDS: tuple[Field, ...] = (
    Field("company_name", "企業名", "Company name", ("会社名", "company")),
    Field("company_address", "本社所在地", "Head office address", ("所在地", "住所", "address")),
    Field("company_phone", "電話番号", "Phone", ("tel", "電話", "telephone")),
    Field("jan_maker_code", "代表JANメーカーコード", "JAN maker code",
          ("janメーカーコード", "janコード", "jan", "gs1事業者コード", "jan code")),
    Field("wholesaler_company", "認証先卸企業名", "Wholesaler company", ("卸企業名", "認証先卸", "wholesaler")),
    Field("wholesaler_department", "認証先卸部署名", "Wholesaler department", ("卸部署名",)),
    Field("wholesaler_contact", "認証先卸担当者名", "Wholesaler contact", ("卸担当者名", "wholesaler contact name")),
    Field("wholesaler_email", "認証先卸担当者メールアドレス", "Wholesaler contact email",
          ("卸担当者メールアドレス", "卸メールアドレス", "wholesaler email")),
    Field("admin_name", "ID管理者名", "ID administrator name", ("id管理者氏名", "管理者名", "administrator name")),
    Field("admin_email", "ID管理者メールアドレス", "ID administrator email",
          ("管理者メールアドレス", "administrator email")),
)
_LINE = re.compile(r"^\s*[■●・*\-]?\s*(?P<label>[^:：]{1,40}?)\s*[:：]\s*(?P<value>.*?)\s*$")


def _label_key(label: str) -> str:
    return re.sub(r"[\s()（）【】\[\]]", "", normalize_text(label)).casefold()


_BY_LABEL = {_label_key(label): f.key for f in FIELDS for label in (f.label_ja, f.label_en, *f.aliases)}


def read_fields(text: str) -> dict[str, str]:
    """The fields found, by key; the first non-empty value of each counts."""
    found: dict[str, str] = {}
    for line in normalize_text(text).split("\n"):
        if line.lstrip().startswith(">"):
            continue
        match = _LINE.match(line)
        if not match:
            continue
        key = _BY_LABEL.get(_label_key(match.group("label")))
        value = match.group("value").strip()
        if key and value and key not in found:
            found[key] = value
    return found


def missing(found: dict[str, str]) -> list[Field]:
    return [f for f in FIELDS if f.required and not found.get(f.key)]
