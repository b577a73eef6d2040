"""match_product: a buyer's or OCR's spelling of an item to the supplier's product master."""

from __future__ import annotations

import pytest

from parsers.products import SURE, CatalogEntry, alias_key, item_key, match_product
from samples import fax_orders as samples

CATALOG = [CatalogEntry(i, product.name, product.unit) for i, product in enumerate(samples.PRODUCTS)]


def sure(match_name: str) -> str | None:
    match = match_product(match_name, CATALOG)
    return match.name if match.product_id is not None and match.confidence >= SURE and not match.reason else None


@pytest.mark.parametrize(("written", "product"), [
    ("しめし", "しめじ"),  # a dakuten lost
    ("にんしん", "人参"),  # and compared by reading
    ("長ねき", "長ねぎ"),
    ("パセリ東", "パセリ"),  # 束 read as 東, a unit word after the name
    ("キャペツ", "キャベツ"),  # a handakuten for a dakuten
])
def test_what_fax_ocr_does_to_a_name_still_names_its_product(written: str, product: str) -> None:
    assert sure(written) == product


@pytest.mark.parametrize("written", ["プチトマト", "ぶなしめじ", "長無", "豆腐 (本締)"])
def test_a_name_only_like_a_product_is_no_sure_match(written: str) -> None:
    match = match_product(written, CATALOG)
    assert sure(written) is None and (match.product_id is None or match.reason)


def test_no_spelling_the_samples_use_is_matched_to_the_wrong_product() -> None:
    wrong, right = [], 0
    for product in samples.PRODUCTS:
        for written in {*samples.written_variants(product.name), *samples.written_variants(product.name, "english")}:
            found = sure(written)
            if found is not None and found != product.name:
                wrong.append((written, found, product.name))
            right += found == product.name
    assert wrong == []
    assert right >= 200  # the rest go to review; their aliases are learnt there


def test_a_remembered_alias_names_its_product_only_for_the_same_bracketed_spec() -> None:
    kinu, momen = (next(e.product_id for e in CATALOG if e.name == name) for name in ("絹ごし豆腐", "木綿豆腐"))
    aliases = {alias_key("豆腐 (絹)"): kinu}

    assert match_product("豆腐（絹）", CATALOG, aliases).product_id == kinu  # full-width brackets, no space
    momen_match = match_product("豆腐 (木綿)", CATALOG, aliases)
    assert momen_match.via != "alias" and momen_match.product_id in (momen, None)


def test_what_is_left_of_a_rule_or_a_dotted_leader_is_no_part_of_a_name() -> None:
    assert item_key("- レタス") == item_key("レタス")
    assert item_key("にんにく ーー 青森") == item_key("にんにく青森")
    assert item_key("ミネラルウォーター") != item_key("ミネラルウォタ")  # a long vowel inside a name stays
