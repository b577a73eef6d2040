"""Fax orders from legacy buyers, on their own order sheets, with the truth of what each one says.

Restaurants and shops off the platform order from a supplier by fax, on sheets they
made themselves: an Excel sheet with ruled lines, a typed letter, an English
purchase order, a printed blank form filled in by hand, a long order over two
pages. This module writes such orders the way they arrive, and keeps what was meant:

    truth = make_order(rng)                          # or make_order(rng, "handwritten", date_style="md")
    pdf = render_pdf(truth, rng)                     # a PDF with its text layer, as a buyer's PC sends it
    data = fax(truth, rng, kind="tiff", resolution="normal", skew_deg=1.5, noise=0.4)   # as faxed
    for sample in dataset(120, seed=1): ...          # a benchmark: mixed layouts and sources, same every run

The truth names each line's product as in the supplier's catalog (``PRODUCTS``) and
as the buyer wrote it ("ﾄﾏﾄ", "たまねぎ 10kg", "絹豆腐"), the unit as in the catalog
and as written ("ｹｰｽ", "c/s", "ヶ"), the delivery date meant and the words that
say it ("令和8年11月25日", "11/25(水)", "明日", "来週火曜"), resolved against the
time the fax was received (Asia/Tokyo).

Text layouts are HTML set by WeasyPrint in IPAex fonts, fetching nothing; the
handwritten one is a printed blank form rasterized at 200 dpi and written on in a
handwriting-like font (``faxsim.handwriting_font()``: Klee One when installed, else
IPAex Gothic), so it has no text layer. Scans go through ``faxsim.degrade``: 1 bit,
200×200 or 200×100 dpi, CCITT G4 in PDF or TIFF.

Everything random comes from the ``random.Random`` passed in. The same seed gives
the same bytes: WeasyPrint writes no date into its PDFs, and the image PDFs carry
the time the fax was received, not the time they were made (``faxsim.to_pdf``
stamps the current time, so this module writes its PDFs itself).
"""

from __future__ import annotations

import html
import io
import random
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from parsers.dates import TOKYO
from samples import faxsim

__all__ = [
    "TOKYO", "SUPPLIER", "SUPPLIER_NAME", "SUPPLIER_FAX", "Product", "PRODUCTS", "Buyer", "BUYERS", "LAYOUTS",
    "TEXT_LAYOUTS", "DATE_STYLES", "TruthLine", "FaxOrderTruth", "Transmission", "Planned", "Sample",
    "written_variants", "unit_spellings", "product", "buyer", "e164", "line_amount", "order_total",
    "reiwa_year", "month_day_date", "next_week_date", "write_date", "make_order", "render_pdf", "render_pages",
    "fax", "plan", "dataset", "truth_json", "truth_from_json",
]

DPI = 200
A4 = (210.0, 297.0)  # mm
PT_MM = 25.4 / 72

Layout = Literal["ruled", "plain", "english", "handwritten", "two_page"]
LAYOUTS: tuple[str, ...] = ("ruled", "plain", "english", "handwritten", "two_page")
TEXT_LAYOUTS: tuple[str, ...] = ("ruled", "plain", "english", "two_page")  # the ones with a text layer

DATE_STYLES: tuple[str, ...] = ("reiwa", "ymd_kanji", "ymd_slash", "md", "tomorrow", "day_after", "next_week",
                                "en_month")
# Which ways of writing the date each kind of sheet uses (a typed letter says 明日, a form rarely does).
_LAYOUT_DATE_STYLES: dict[str, tuple[str, ...]] = {
    "ruled": ("reiwa", "ymd_kanji", "ymd_slash", "md", "md"),
    "two_page": ("reiwa", "ymd_kanji", "ymd_slash", "md"),
    "plain": ("md", "md", "tomorrow", "day_after", "next_week", "ymd_kanji"),
    "english": ("ymd_slash", "en_month"),
    "handwritten": ("md", "md", "md", "ymd_slash", "tomorrow", "next_week"),
}


# --- the supplier's catalog and its buyers -------------------------------------------------------------


def e164(number: str) -> str:
    """A Japanese number as dialled at home ("03-5555-0101") in E.164 ("+81355550101")."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits.startswith("0"):
        raise ValueError(f"not a Japanese national number: {number!r}")
    return "+81" + digits[1:]


SUPPLIER_NAME = "有限会社 八百新青果"
SUPPLIER_FAX_LOCAL = "03-1234-5678"
SUPPLIER_FAX = e164(SUPPLIER_FAX_LOCAL)
SUPPLIER_TEL = "03-1234-5670"
SUPPLIER = (SUPPLIER_NAME, SUPPLIER_FAX)
# How buyers address the supplier at the top of their sheets.
SUPPLIER_ADDRESSED = ("有限会社 八百新青果 御中", "八百新青果 御中", "(有)八百新青果 御中", "八百新青果 様",
                      "八百新 御中", "有限会社八百新青果 御中")


class Product(NamedTuple):
    name: str  # as in the supplier's product master
    unit: str
    price: int  # yen per unit, tax excluded; even where halves are sold, so amounts stay whole yen


# name, unit, price, how buyers write it besides the name itself, English names (the English sheet)
_CATALOG: tuple[tuple[str, str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    ("トマト (桃太郎)", "ケース", 3200, ("トマト", "トマト（桃太郎）", "桃太郎トマト", "とまと", "トマト 桃太郎"),
     ("Tomato (Momotaro)", "Tomatoes")),
    ("ミニトマト", "パック", 280, ("プチトマト", "ミニトマト パック", "ミニトマト(赤)"), ("Cherry tomato",)),
    ("キャベツ", "玉", 180, ("きゃべつ", "キャベツ(玉)", "キャベツ 玉"), ("Cabbage",)),
    ("レタス", "玉", 220, ("れたす", "玉レタス"), ("Lettuce",)),
    ("大葉", "束", 100, ("青じそ", "大葉(青じそ)", "しそ", "大葉 10枚"), ("Shiso", "Ooba (shiso)")),
    ("長ねぎ", "本", 98, ("長ネギ", "ねぎ", "白ネギ", "長葱", "ネギ"), ("Leek", "Negi")),
    ("玉ねぎ 10kg", "袋", 2400, ("たまねぎ 10kg", "玉ねぎ10kg", "玉葱 10kg", "タマネギ 10キロ", "玉ねぎ"),
     ("Onion 10kg", "Onions (10kg)")),
    ("じゃがいも (メークイン)", "kg", 260, ("じゃがいも", "ジャガイモ", "メークイン", "じゃが芋 メークイン"),
     ("Potato (May Queen)", "Potatoes")),
    ("人参", "kg", 300, ("にんじん", "ニンジン", "人参 (にんじん)"), ("Carrot", "Carrots")),
    ("大根", "本", 160, ("だいこん", "ダイコン", "青首大根"), ("Daikon",)),
    ("きゅうり", "本", 46, ("キュウリ", "胡瓜"), ("Cucumber",)),
    ("なす (3本入)", "袋", 198, ("なす", "ナス", "茄子", "なす3本入", "ナス 3本"), ("Eggplant (3 pcs)", "Eggplant")),
    ("ピーマン", "袋", 150, ("ぴーまん", "ピーマン 袋"), ("Green pepper",)),
    ("ほうれん草", "束", 180, ("ほうれんそう", "ホウレン草", "ほうれん草 束"), ("Spinach",)),
    ("小松菜", "束", 150, ("こまつな", "コマツナ"), ("Komatsuna",)),
    ("ブロッコリー", "個", 230, ("ブロッコリ", "ぶろっこりー", "ブロッコリー (国産)"), ("Broccoli",)),
    ("しめじ", "パック", 120, ("シメジ", "ぶなしめじ", "ブナシメジ"), ("Shimeji",)),
    ("生椎茸", "パック", 250, ("椎茸", "しいたけ", "シイタケ", "生しいたけ"), ("Shiitake",)),
    ("生姜", "kg", 1200, ("しょうが", "ショウガ", "生姜 (国産)"), ("Ginger",)),
    ("にんにく (青森産)", "個", 198, ("にんにく", "ニンニク", "大蒜", "にんにく 青森"), ("Garlic (Aomori)", "Garlic")),
    ("もやし", "袋", 36, ("モヤシ", "緑豆もやし"), ("Bean sprouts",)),
    ("白菜 1/2カット", "個", 198, ("白菜1/2", "白菜 半分", "はくさい 1/2", "白菜 1/2カット"), ("Napa cabbage 1/2",)),
    ("パセリ", "束", 150, ("ぱせり", "パセリ束"), ("Parsley",)),
    ("バジル", "パック", 220, ("スイートバジル", "生バジル", "ばじる"), ("Basil",)),
    ("レモン", "個", 80, ("れもん", "檸檬"), ("Lemon", "Lemons")),
    ("りんご (ふじ)", "個", 150, ("りんご", "リンゴ", "林檎", "ふじりんご"), ("Apple (Fuji)", "Apples")),
    ("バナナ", "箱", 2800, ("ばなな", "バナナ 箱"), ("Banana", "Bananas")),
    ("いちご (あまおう)", "パック", 680, ("いちご", "イチゴ", "苺", "あまおう"), ("Strawberry (Amaou)",)),
    ("グレープフルーツ", "個", 160, ("グレフル", "グレープフルーツ(白)"), ("Grapefruit",)),
    ("鶏卵 Mサイズ", "ケース", 3980, ("鶏卵M", "卵 M", "たまご M", "玉子 Mサイズ", "鶏卵 M"),
     ("Eggs (M)", "Eggs M size")),
    ("絹ごし豆腐", "個", 98, ("絹豆腐", "きぬ豆腐", "絹ごし", "豆腐 (絹)"), ("Silken tofu", "Tofu (kinu)")),
    ("木綿豆腐", "個", 98, ("もめん豆腐", "木綿", "豆腐 (木綿)"), ("Firm tofu", "Tofu (momen)")),
    ("油揚げ", "枚", 40, ("油揚", "あぶらあげ", "油あげ", "お揚げ"), ("Aburaage", "Fried tofu")),
    ("米 (コシヒカリ) 5kg", "袋", 2980, ("コシヒカリ 5kg", "米 5kg", "こしひかり5kg", "お米 5キロ", "米(コシヒカリ)"),
     ("Rice (Koshihikari) 5kg", "Rice 5kg")),
    ("サラダ油 1.5L", "本", 580, ("サラダ油", "サラダ油 1.5ℓ", "サラダオイル 1.5L", "サラダ油1.5L"),
     ("Salad oil 1.5L",)),
    ("濃口醤油 1L", "本", 420, ("濃口しょうゆ", "醤油 1L", "しょうゆ", "こいくち醤油 1L", "濃口醤油"),
     ("Soy sauce 1L", "Soy sauce (koikuchi)")),
    ("上白糖 1kg", "袋", 230, ("上白糖", "砂糖 1kg", "さとう", "砂糖"), ("Sugar 1kg",)),
    ("いりごま (白)", "g", 3, ("白ごま", "いりごま", "炒りごま 白", "白いりごま"), ("Sesame (white)",)),
    ("料理酒 (業務用)", "L", 320, ("料理酒", "料理用酒", "りょうり酒"), ("Cooking sake",)),
    ("ウーロン茶 2L", "cs", 1280, ("烏龍茶 2L", "ウーロン茶", "ウーロン茶 2ℓ", "ウーロン 2L"), ("Oolong tea 2L",)),
    ("ミネラルウォーター 2L", "cs", 980, ("ミネラルウォーター", "天然水 2L", "水 2L"), ("Mineral water 2L",)),
    ("オレンジジュース 1L", "本", 298, ("オレンジジュース", "オレンジJ 1L", "OJ 1L"), ("Orange juice 1L",)),
)

PRODUCTS: tuple[Product, ...] = tuple(Product(name, unit, price) for name, unit, price, _, _ in _CATALOG)
_PRODUCT = {p.name: p for p in PRODUCTS}
_VARIANTS = {name: variants for name, _, _, variants, _ in _CATALOG}
_ENGLISH = {name: english for name, _, _, _, english in _CATALOG}


class Buyer(NamedTuple):
    name: str  # canonical, as in the supplier's customer list
    fax: str  # as printed on the buyer's sheets
    tel: str
    person: str  # the family name on the stamp and under the letter
    address: str
    spellings: tuple[str, ...]  # how the buyer's sheets spell its own name (the first is the canonical name)
    tti: str  # the name the buyer's fax machine prints in the header line (ASCII only on many machines)

    @property
    def fax_e164(self) -> str:
        return e164(self.fax)


BUYERS: tuple[Buyer, ...] = (
    Buyer("居酒屋 まるよし", "03-5555-0101", "03-5555-0100", "吉田", "東京都台東区浅草2-11-4",
          ("居酒屋 まるよし", "居酒屋まるよし", "まるよし"), "MARUYOSHI"),
    Buyer("Bistro Lune", "03-5555-0202", "03-5555-0200", "月岡", "東京都目黒区中目黒1-8-3 1F",
          ("Bistro Lune", "BISTRO LUNE", "ビストロ・リュンヌ"), "BISTRO LUNE"),
    Buyer("株式会社さくら食堂", "045-555-0303", "045-555-0300", "桜井", "神奈川県横浜市中区元町3-5-12",
          ("株式会社さくら食堂", "(株)さくら食堂", "さくら食堂"), "SAKURA SHOKUDO"),
    Buyer("(有)山田商店", "0422-55-0404", "0422-55-0400", "山田", "東京都武蔵野市吉祥寺本町4-2-7",
          ("(有)山田商店", "有限会社 山田商店", "山田商店"), "YAMADA SHOTEN"),
)
_BUYER = {b.name: b for b in BUYERS}


def product(name: str) -> Product:
    """The catalog's product of that (canonical) name."""
    return _PRODUCT[name]


def buyer(name: str) -> Buyer:
    """The buyer of that (canonical) name."""
    return _BUYER[name]


# --- how buyers write items, units and quantities --------------------------------------------------------

# Half-width katakana from what NFKC makes of them; voiced ones are a base and a separate mark.
_HALF = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF61, 0xFFA0)}
_FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _halfwidth_katakana(text: str) -> str:
    out = []
    for ch in text:
        if ch in _HALF and "\u30a0" <= ch <= "\u30ff":
            out.append(_HALF[ch])
            continue
        base = unicodedata.normalize("NFD", ch)
        if len(base) == 2 and base[0] in _HALF and base[1] in "\u3099\u309a" and "\u30a0" <= ch <= "\u30ff":
            out.append(_HALF[base[0]] + _HALF[base[1]])
            continue
        out.append(ch)
    return "".join(out)


def _has_katakana(text: str) -> bool:
    return any("\u30a1" <= ch <= "\u30fa" for ch in text)


def _is_narrow_form(text: str) -> bool:
    """Half-width katakana or full-width ASCII: what a keyboard makes, never a hand."""
    return any("\uff01" <= ch <= "\uffef" or ch == "㎏" for ch in text)


def written_variants(name: str, layout: str | None = None) -> tuple[str, ...]:
    """How buyers write the product ``name`` on a sheet of ``layout`` (all layouts when None), the name first.

    The name itself, the buyer's own words for it (without the bracket part, hiragana,
    kanji, an abbreviation), half-width katakana as old PCs type it, and extra or
    missing spaces; English names on the English sheet. Nobody writes half-width
    katakana or double spaces by hand.
    """
    base = (name, *_VARIANTS[name])
    typed = [_halfwidth_katakana(v) for v in base if _has_katakana(v)]
    spaced = [v.replace(" ", "  ") for v in base if " " in v] + [v.replace(" (", "(") for v in base if " (" in v]
    if layout == "handwritten":
        out = list(base)
    elif layout == "english":
        out = [*base, *typed, *_ENGLISH[name]]
    elif layout is None:
        out = [*base, *typed, *spaced, *_ENGLISH[name]]
    else:
        out = [*base, *typed, *spaced]
    return tuple(dict.fromkeys(out))


_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "ケース": ("ケース", "cs", "c/s", "ｹｰｽ", "C/S"),
    "cs": ("cs", "ケース", "c/s", "CS", "ｹｰｽ"),
    "箱": ("箱", "ハコ"),
    "本": ("本",),
    "袋": ("袋",),
    "個": ("個", "ヶ", "コ"),
    "枚": ("枚",),
    "束": ("束",),
    "玉": ("玉",),
    "パック": ("パック", "ﾊﾟｯｸ", "pk"),
    "kg": ("kg", "ｋｇ", "キロ", "Kg", "㎏"),
    "g": ("g", "ｇ", "グラム"),
    "L": ("L", "ℓ", "リットル"),
}
_UNIT_ENGLISH: dict[str, tuple[str, ...]] = {
    "ケース": ("case", "cs", "ctn"), "cs": ("cs", "case"), "箱": ("box",), "袋": ("bag",), "個": ("pcs", "pc"),
    "パック": ("pack", "pk"), "束": ("bunch",), "玉": ("head",), "kg": ("kg",), "g": ("g",), "L": ("L",),
}


def unit_spellings(unit: str, layout: str | None = None) -> tuple[str, ...]:
    """How ``unit`` is written on a sheet of ``layout`` (every spelling when None), the catalog's own first."""
    own = _UNIT_SPELLINGS[unit]
    if layout == "handwritten":
        return tuple(s for s in own if not _is_narrow_form(s))
    if layout == "english":
        return tuple(dict.fromkeys((*_UNIT_ENGLISH.get(unit, ()), *own)))
    if layout is None:
        return tuple(dict.fromkeys((*own, *_UNIT_ENGLISH.get(unit, ()))))
    return own


def _quantity(item: Product, rng: random.Random) -> Decimal:
    if item.unit == "g":
        return Decimal(rng.choice((100, 200, 300, 500, 1000)))
    if item.unit in ("kg", "L"):
        if rng.random() < 0.3:
            return Decimal(rng.choice(("0.5", "1.5", "2.5")))
        return Decimal(rng.choices((rng.randint(1, 10), rng.randint(11, 20)), weights=(9, 1))[0])
    if item.price >= 2000:  # a case of eggs, a sack of rice: a few
        return Decimal(rng.choice((1, 1, 2, 2, 3, 4, 5)))
    if item.price < 100:  # bean sprouts, cucumbers, fried tofu: by the dozen
        return Decimal(rng.randint(5, 50))
    band = rng.choices(((1, 10), (11, 30), (31, 50)), weights=(70, 25, 5))[0]
    return Decimal(rng.randint(*band))


def _quantity_text(value: Decimal, fullwidth: bool = False) -> str:
    text = f"{value:f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.translate(_FULLWIDTH) if fullwidth else text


def _yen(value: int) -> str:
    return f"{value:,}"


# --- the truth ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruthLine:
    product: str  # canonical product name in PRODUCTS
    written: str  # what the sheet says for the item
    quantity: Decimal
    unit: str  # canonical unit (as in PRODUCTS)
    written_unit: str


@dataclass(frozen=True)
class FaxOrderTruth:
    layout: str
    buyer: str  # canonical buyer name (BUYERS)
    buyer_fax: str  # E.164 "+81355550101"
    received_at: datetime  # aware, Asia/Tokyo
    lines: tuple[TruthLine, ...]
    delivery_date: date | None
    date_written: str  # "" when none
    note: str


def line_amount(line: TruthLine) -> int:
    """Quantity × the catalog's unit price, in yen (whole: half units are sold only at even prices)."""
    value = line.quantity * product(line.product).price
    return int(value.to_integral_value(rounding=ROUND_DOWN))


def order_total(truth: FaxOrderTruth) -> int:
    return sum(line_amount(line) for line in truth.lines)


# --- dates -------------------------------------------------------------------------------------------------

WEEKDAYS_JA = "月火水木金土日"
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def reiwa_year(year: int) -> str:
    """The Reiwa era year of a Gregorian year as written: 2019 is 元 (the first year), 2026 is 8."""
    if year < 2019:
        raise ValueError(f"{year} is before Reiwa")
    return "元" if year == 2019 else str(year - 2018)


def month_day_date(month: int, day: int, received: date) -> date:
    """What "M/D" means on a sheet received on ``received``: that day this year, or next year if it is past."""
    for year in range(received.year, received.year + 9):  # Feb 29 waits for a leap year
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= received:
            return candidate
    raise ValueError(f"no date {month}/{day}")


def next_week_date(weekday: int, received: date) -> date:
    """What "来週X曜" means: weekday ``weekday`` (0 = Monday) of the calendar week after ``received``'s."""
    return received - timedelta(days=received.weekday()) + timedelta(days=7 + weekday)


def _weekday(day: date, rng: random.Random) -> str:
    return rng.choice(("({})", "({})", "（{}）")).format(WEEKDAYS_JA[day.weekday()])


def write_date(style: str, received: date, rng: random.Random, *, weekday_share: float = 0.7,
               same_day: bool = True) -> tuple[str, date]:
    """A delivery date written in ``style`` (one of ``DATE_STYLES``) on a sheet received on ``received``.

    Returns the words and the date they mean. Relative words count from the day
    received; absolute dates are 1 to 14 days ahead (0 too if ``same_day``), never a
    Sunday; a written weekday ("(水)") is the date's own, on ``weekday_share`` of the
    dates that may carry one.
    """
    if style == "tomorrow":
        return "明日", received + timedelta(days=1)
    if style == "day_after":
        return rng.choice(("明後日", "あさって")), received + timedelta(days=2)
    if style == "next_week":
        weekday = rng.choices(range(6), weights=(3, 4, 3, 3, 3, 2))[0]
        day = WEEKDAYS_JA[weekday]
        text = rng.choice((f"来週{day}曜", f"来週{day}曜日", f"来週の{day}曜日", f"来週({day})"))
        return text, next_week_date(weekday, received)
    if style not in DATE_STYLES:
        raise ValueError(f"unknown date style {style!r}")
    target = received + timedelta(days=rng.choices((0, 1, 2, 3, 4, 5, 6, 7, 10, 14),
                                                   weights=(3 if same_day else 0, 30, 20, 15, 8, 6, 5, 5, 4, 4))[0])
    if target.weekday() == 6:
        target += timedelta(days=1)
    y, m, d = target.year, target.month, target.day
    wd = _weekday(target, rng) if rng.random() < weekday_share else ""
    if style == "reiwa":
        return f"令和{reiwa_year(y)}年{m}月{d}日{wd}", target
    if style == "ymd_kanji":
        return f"{y}年{m}月{d}日{wd}", target
    if style == "ymd_slash":
        return f"{y}/{m:02d}/{d:02d}", target
    if style == "md":
        text = f"{m}/{d}{wd}"
        assert month_day_date(m, d, received) == target
        return text, target
    month = _MONTHS_EN[m - 1] if rng.random() < 0.3 else _MONTHS_EN[m - 1][:3]
    return f"{month} {d}, {y}", target


def _random_received(rng: random.Random) -> datetime:
    """When a buyer faxes: after closing (21-24 h) or early morning, on any day from 2026 to 2027."""
    day = date(2026, 1, 5) + timedelta(days=rng.randrange(720))
    hour = rng.choices((6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 21, 22, 23),
                       weights=(3, 5, 6, 6, 5, 3, 2, 2, 2, 2, 8, 8, 5))[0]
    return datetime.combine(day, clock(hour, rng.randrange(60), rng.randrange(60)), TOKYO)


_NOTES = ("いつもありがとうございます。", "午前中の納品でお願いします。", "裏口からお願いします。",
          "欠品の場合はご連絡ください。", "トマトは硬めのものでお願いします。", "10時までに納品お願いします。",
          "大葉は小分けにしてください。", "納品時にお電話ください。", "請求書は月末締めでお願いします。",
          "店が閉まっていたら勝手口に置いてください。")
_NOTES_SHORT = ("午前中に", "裏口へ", "欠品は連絡下さい", "急ぎです", "10時までに", "いつもありがとう")
_NOTES_EN = ("Please deliver before 10 am.", "Back door, please.", "Please call us if anything is out of stock.",
             "Thank you!", "Invoice at the end of the month, please.")


def make_order(rng: random.Random, layout: str | None = None, *, received_at: datetime | None = None,
               with_date: bool = True, date_style: str | None = None, buyer_name: str | None = None,
               line_count: int | None = None) -> FaxOrderTruth:
    """An order as a buyer would fax it: who, when received, what (written their way), the delivery date.

    ``layout`` (one of ``LAYOUTS``) is drawn when None; ``received_at`` (aware) too.
    ``with_date=False``: the sheet says no delivery date. ``date_style`` (``DATE_STYLES``)
    forces how the date is written. Single-page layouts get 1–12 lines, "two_page" 25–35.
    """
    if layout is None:
        layout = rng.choices(LAYOUTS, weights=(30, 20, 15, 20, 15))[0]
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    if received_at is None:
        received_at = _random_received(rng)
    elif received_at.tzinfo is None:
        raise ValueError("received_at must be aware")
    received_at = received_at.astimezone(TOKYO)
    if buyer_name is None:
        who = BUYERS[1] if layout == "english" and rng.random() < 0.6 else rng.choice(BUYERS)
    else:
        who = buyer(buyer_name)
    if line_count is None:
        line_count = rng.randint(25, 35) if layout == "two_page" else rng.choices(
            range(1, 13), weights=(4, 6, 8, 10, 10, 9, 8, 7, 6, 5, 4, 3))[0]
    items = rng.sample(PRODUCTS, line_count)
    lines = []
    for item in items:
        variants = written_variants(item.name, layout)
        written = item.name if rng.random() < 0.35 else rng.choice(variants[1:] or variants)
        spellings = unit_spellings(item.unit, layout)
        if layout == "english" and rng.random() < 0.4:
            spellings = _UNIT_SPELLINGS[item.unit]  # the Japanese unit, as on the supplier's price list
        written_unit = spellings[0] if rng.random() < 0.6 else rng.choice(spellings)
        lines.append(TruthLine(item.name, written, _quantity(item, rng), item.unit, written_unit))
    delivery: date | None = None
    written_date = ""
    if with_date:
        style = date_style or rng.choice(_LAYOUT_DATE_STYLES[layout])
        written_date, delivery = write_date(style, received_at.date(), rng,
                                            weekday_share=0.4 if layout == "handwritten" else 0.7,
                                            same_day=received_at.hour < 10)  # an early fax may ask for today
    if layout == "english":
        note = rng.choice(_NOTES_EN) if rng.random() < 0.5 else ""
    elif layout == "handwritten":
        note = rng.choice(_NOTES_SHORT) if rng.random() < 0.4 else ""
    else:
        note = rng.choice(_NOTES) if rng.random() < 0.5 else ""
    return FaxOrderTruth(layout=layout, buyer=who.name, buyer_fax=who.fax_e164, received_at=received_at,
                         lines=tuple(lines), delivery_date=delivery, date_written=written_date, note=note)


# --- HTML to PDF ---------------------------------------------------------------------------------------------


class _RefuseAll(URLFetcher):  # type: ignore[misc]
    """The sheets are self-contained: any URL in them is a bug, never something to fetch."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        raise ValueError(f"fax order sheets fetch nothing: {url[:80]!r}")


def _pdf(html_text: str) -> bytes:
    return bytes(HTML(string=html_text, base_url=None, url_fetcher=_RefuseAll()).write_pdf())


def _page_count(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


_FONTS = {"gothic": '"IPAexGothic", sans-serif', "mincho": '"IPAexMincho", "IPAexGothic", serif',
          "latin": '"DejaVu Sans", "IPAexGothic", sans-serif'}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _document(title: str, css: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{css}</style></head><body>{body}</body></html>")


def _base_css(font: str, size: float, margin_v: float, margin_h: float, line_height: float = 1.4) -> str:
    return f"""
@page {{ size: A4; margin: {margin_v:.1f}mm {margin_h:.1f}mm; }}
* {{ box-sizing: border-box; margin: 0; padding: 0; }}
html {{ font-family: {_FONTS[font]}; font-size: {size:.1f}pt; line-height: {line_height:.2f}; color: #000; }}
h1, b, th {{ font-weight: normal; }}
.pre {{ white-space: pre; }}
.num {{ text-align: right; }}
.c {{ text-align: center; }}
.hanko {{ position: absolute; width: 15mm; height: 15mm; border: 0.7mm solid #d0202a; border-radius: 50%;
  color: #d0202a; font-family: {_FONTS["mincho"]}; font-size: 15pt; line-height: 1.0; text-align: center;
  padding-top: 1.6mm; opacity: 0.9; }}
"""


def _hanko(name: str, rng: random.Random, left: float, top: float) -> str:
    chars = "<br>".join(_e(ch) for ch in name[:2])
    return (f'<div class="hanko" style="left:{left:.1f}mm; top:{top:.1f}mm; '
            f'transform: rotate({rng.uniform(-14, 10):.1f}deg)">{chars}</div>')


def _issue_date(day: date, rng: random.Random) -> str:
    """The date the sheet was written, as the buyer's sheet prints it (not the delivery date)."""
    return rng.choice((f"{day.year}年{day.month}月{day.day}日", f"{day.year}/{day.month:02d}/{day.day:02d}",
                       f"令和{reiwa_year(day.year)}年{day.month}月{day.day}日",
                       f"R{reiwa_year(day.year).replace('元', '1')}.{day.month}.{day.day}"))


_LABELS = {"no": "No.", "qty": "数量", "unit": "単位", "price": "単価", "amount": "金額"}
_WIDTHS = {"no": 7, "qty": 10, "unit": 10, "price": 12, "amount": 15}


def _ruled_table(lines: Sequence[TruthLine], first: int, columns: Sequence[str], labels: dict[str, str],
                 blank_rows: int, row_h: float, fullwidth: bool, number_blank_rows: bool) -> str:
    cols = "".join(f'<col style="width:{_WIDTHS[c]}%">' if c in _WIDTHS else "<col>" for c in columns)
    head = "".join(f"<th>{_e(labels[c])}</th>" for c in columns)
    rows = []
    for i, line in enumerate(lines):
        cells = {"no": str(first + i), "item": f'<span class="pre">{_e(line.written)}</span>',
                 "qty": _quantity_text(line.quantity, fullwidth), "unit": _e(line.written_unit),
                 "price": _yen(product(line.product).price), "amount": _yen(line_amount(line))}
        klass = {"no": "c", "item": "item", "qty": "num", "unit": "c", "price": "num", "amount": "num"}
        rows.append("<tr>" + "".join(f'<td class="{klass[c]}">{cells[c]}</td>' for c in columns) + "</tr>")
    for j in range(blank_rows):
        number = str(first + len(lines) + j) if number_blank_rows else ""
        rows.append("<tr>" + "".join(f'<td class="c">{number if c == "no" else ""}</td>' for c in columns) + "</tr>")
    return (f'<table class="items"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _ruled_html(truth: FaxOrderTruth, rng: random.Random, *, two_page: bool) -> str:
    who = buyer(truth.buyer)
    font = rng.choices(("gothic", "mincho"), weights=(4, 1))[0]
    size = rng.uniform(8.5, 9.8) if two_page else rng.uniform(9.0, 11.0)
    margin_v, margin_h = rng.uniform(10, 16), rng.uniform(12, 20)
    fullwidth = rng.random() < 0.15
    prices = rng.random() < (0.8 if two_page else 0.7)
    columns = (["no"] if rng.random() < 0.8 else []) + ["item"]
    columns += ["qty", "unit"] if rng.random() < 0.7 else ["unit", "qty"]
    columns += ["price", "amount"] if prices else []
    labels = {**_LABELS, "item": rng.choice(("品名", "品名", "品目", "商品名"))}
    row_h = rng.uniform(6.0, 6.8) if two_page else rng.uniform(7.0, 8.6)
    title = rng.choices(("FAX注文書", "ＦＡＸ注文書", "FAX 注文書", "注文書（FAX）", "FAX発注書"),
                        weights=(6, 2, 2, 1, 1))[0]
    align = rng.choice(("center", "center", "left"))
    css = _base_css(font, size, margin_v, margin_h) + f"""
h1 {{ font-size: {rng.uniform(16, 23):.1f}pt; text-align: {align}; letter-spacing: {rng.choice((0, 0, 2, 4))}pt;
  margin-bottom: {rng.uniform(3, 7):.1f}mm; }}
.head {{ display: flex; justify-content: space-between; align-items: flex-start; }}
.to {{ width: 52%; }}
.addressee {{ font-size: 1.35em; border-bottom: 0.3mm solid #000; padding-bottom: 0.5mm; margin-bottom: 1.5mm; }}
.from {{ width: 42%; position: relative; }}
.buyer {{ position: relative; border: {rng.choice(("0.3mm solid #000", "none"))}; padding: 1.5mm 2mm; }}
.bname {{ font-size: 1.25em; }}
.when {{ margin: {rng.uniform(3, 6):.1f}mm 0 2mm; display: flex; }}
.when .label {{ border: 0.3mm solid #000; padding: 1mm 3mm; background: #eee; white-space: nowrap; }}
.when .val {{ border: 0.3mm solid #000; border-left: none; padding: 1mm 3mm; min-width: 40mm; flex: 1;
  white-space: nowrap; }}
table.items {{ border-collapse: collapse; width: 100%; margin-top: 2mm; }}
table.items th {{ border: 0.35mm solid #000; background: #e8e8e8; padding: 0.8mm 1mm; height: 7mm; }}
table.items td {{ border: 0.25mm solid #000; padding: 0 1.5mm; height: {row_h:.1f}mm; }}
table.items td.item {{ padding-left: 2mm; }}
.totals {{ display: flex; justify-content: flex-end; margin-top: 1.5mm; }}
.totals div {{ border: 0.35mm solid #000; padding: 1mm 3mm; min-width: 50mm; text-align: right; }}
.notes {{ border: 0.3mm solid #000; margin-top: 3mm; padding: 1mm 2mm; min-height: {rng.uniform(12, 20):.1f}mm; }}
.footer {{ margin-top: 2mm; font-size: 0.85em; }}
.pageno {{ text-align: right; font-size: 0.9em; }}
.cont {{ break-before: page; }}
"""
    buyer_name = rng.choice(who.spellings) if rng.random() < 0.4 else who.name
    # the seal pressed over the end of the shop's name, as people do
    name_mm = _width_em(buyer_name) * size * 1.25 * PT_MM
    buyer_block = (f'<div class="buyer"><div class="bname">{_e(buyer_name)}</div>'
                   f"<div>{_e(who.address)}</div><div>TEL {_e(who.tel)}</div><div>FAX {_e(who.fax)}</div>"
                   f"<div>{rng.choice(('担当', 'ご担当', '発注者'))}：{_e(who.person)}</div>"
                   f"{_hanko(who.person, rng, 2 + name_mm + rng.uniform(-9, 1), rng.uniform(-4, 3))}</div>")
    issue = f"{rng.choice(('発行日', '注文日', '日付', '送信日'))}：{_e(_issue_date(truth.received_at.date(), rng))}"
    greeting = rng.choice(("下記の通り注文いたします。",
                           "いつもお世話になっております。下記の通りご手配をお願いします。",
                           "下記の通り発注します。よろしくお願いします。"))
    to_block = (f'<div class="to"><div class="addressee">{_e(rng.choice(SUPPLIER_ADDRESSED))}</div>'
                f"<div>FAX {SUPPLIER_FAX_LOCAL}{rng.choice(('', f'　TEL {SUPPLIER_TEL}'))}</div>"
                f'<p style="margin-top:2mm">{_e(greeting)}</p></div>')
    label = rng.choice(("納品希望日", "納品希望日", "納品日", "希望納品日", "お届け日"))
    blank_date = rng.choice(("", "　　年　　月　　日"))
    when = (f'<div class="when"><span class="label">{label}</span>'
            f'<span class="val">{_e(truth.date_written) if truth.date_written else blank_date}</span></div>')
    arrangement = rng.randrange(3)
    if arrangement == 0:
        top = (f"<h1>{_e(title)}</h1><div class='head'>{to_block}<div class='from'><div class='num'>{issue}</div>"
               f"{buyer_block}</div></div>{when}")
    elif arrangement == 1:
        top = (f"<div class='num'>{issue}</div><h1>{_e(title)}</h1><div class='head'>{to_block}"
               f"<div class='from'>{buyer_block}</div></div>{when}")
    else:
        top = (f"<div class='head'><div class='from' style='width:55%'>{buyer_block}</div>"
               f"<div class='num'>{issue}</div></div><h1 style='margin-top:4mm'>{_e(title)}</h1>"
               f"<div class='head'>{to_block}<div style='width:40%'>{when}</div></div>")
    totals = (f'<div class="totals"><div>合計{rng.choice(("", "（税抜）"))}　'
              f'{rng.choice(("¥{}", "{}円"))}</div></div>').format(_yen(order_total(truth))) if prices else ""
    notes = f'<div class="notes">備考：{_e(truth.note)}</div>'
    footer = ('<div class="footer">※ 欠品・変更がある場合はお電話にてご連絡ください。</div>'
              if rng.random() < 0.4 else "")
    lines = truth.lines
    if not two_page:
        blank = max(0, rng.randint(8, 14) - len(lines))
        table = _ruled_table(lines, 1, columns, labels, blank, row_h, fullwidth, rng.random() < 0.5)
        return _document(title, css, top + table + totals + notes + footer)
    first = rng.randint(19, 23)
    page1 = _ruled_table(lines[:first], 1, columns, labels, 0, row_h, fullwidth, False)
    rest = lines[first:]
    page2 = _ruled_table(rest, first + 1, columns, labels, rng.randint(0, 3), row_h, fullwidth, True)
    cont_title = rng.choice((f"{title}（続き）", "続き", f"{title} 2枚目"))
    return _document(title, css, top + page1 + '<div class="pageno">1/2　次頁へ続く</div>'
                     + '<div class="cont"><div class="pageno">2/2</div>'
                     + f'<h1 style="font-size:1.5em">{_e(cont_title)}</h1>'
                     + page2 + totals + notes + footer + "</div>")


def _width_em(text: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(ch) in "FWA" else 0.5 for ch in text)


def _plain_html(truth: FaxOrderTruth, rng: random.Random) -> str:
    who = buyer(truth.buyer)
    font = rng.choice(("gothic", "mincho"))
    size = rng.uniform(10.5, 12.5)
    css = _base_css(font, size, rng.uniform(20, 30), rng.uniform(20, 30), rng.uniform(1.5, 1.9)) + f"""
.right {{ text-align: right; }}
.items {{ margin: 4mm 0 4mm {rng.uniform(4, 20):.1f}mm; }}
.sign {{ margin-top: 10mm; margin-left: {rng.uniform(80, 100):.0f}mm; }}
p {{ margin-bottom: 1mm; }}
"""
    fullwidth = rng.random() < 0.2
    body = []
    if rng.random() < 0.6:
        day = truth.received_at.date()
        written = rng.choice((f"{day.year}年{day.month}月{day.day}日", f"{day.month}月{day.day}日"))
        body.append(f'<p class="right">{written}</p>')
    body.append(f"<p style='font-size:1.15em'>{_e(rng.choice(SUPPLIER_ADDRESSED))}</p><p>&nbsp;</p>")
    body.append("<p>いつもお世話になっております。</p>")
    body.append("<p>{}</p>".format(rng.choice(("下記の通り注文します。", "以下、注文お願いします。",
                                               "下記の通り発注いたします。よろしくお願いいたします。"))))
    formal = rng.random() < 0.4
    if formal:
        body.append('<p class="c">記</p>')
    gap_style = rng.choice(("spaces", "column"))
    column = max(_width_em(line.written) for line in truth.lines) + rng.randint(2, 5)
    bullet = rng.choice(("", "", "・", "numbered"))
    rows = []
    for i, line in enumerate(truth.lines, start=1):
        qty = _quantity_text(line.quantity, fullwidth)
        amount = rng.choice((f"{qty}{line.written_unit}", f"{qty}{line.written_unit}", f"{qty} {line.written_unit}"))
        lead = f"{i}. " if bullet == "numbered" else bullet
        if gap_style == "spaces":
            pad = "　" * max(2, round(column - _width_em(line.written)))
            rows.append(f'<div class="pre">{_e(lead + line.written)}{pad}{_e(amount)}</div>')
        else:
            rows.append(f'<div><span class="pre" style="display:inline-block; width:{column + 1:.1f}em">'
                        f"{_e(lead + line.written)}</span>{_e(amount)}</div>")
    body.append(f'<div class="items">{"".join(rows)}</div>')
    if formal:
        body.append('<p class="right">以上</p>')
    if truth.date_written:
        dw = _e(truth.date_written)
        if truth.date_written in ("明日", "明後日", "あさって"):
            sentence = rng.choice((f"{dw}の朝着でお願いします。", f"{dw}の午前中にお願いします。",
                                   f"納品は{dw}でお願いします。"))
        elif truth.date_written.startswith("来週"):
            sentence = rng.choice((f"{dw}納品でお願いします。", f"納品は{dw}にお願いします。"))
        else:
            sentence = rng.choice((f"{dw}着でお願いします。", f"納品は{dw}でお願いします。", f"{dw}納品希望です。"))
        body.append(f"<p>{sentence}</p>")
    if truth.note:
        body.append(f"<p>{_e(truth.note)}</p>")
    body.append("<p>よろしくお願いします。</p>")
    name = rng.choice(who.spellings) if rng.random() < 0.4 else who.name
    body.append(f'<div class="sign"><div>{_e(name)}　{_e(who.person)}</div><div>TEL {_e(who.tel)}</div>'
                f"<div>FAX {_e(who.fax)}</div></div>")
    return _document("注文", css, "".join(body))


def _english_html(truth: FaxOrderTruth, rng: random.Random) -> str:
    who = buyer(truth.buyer)
    font = rng.choice(("latin", "gothic"))
    prices = rng.random() < 0.6
    css = _base_css(font, rng.uniform(9.5, 11), rng.uniform(15, 22), rng.uniform(15, 22)) + f"""
h1 {{ font-size: {rng.uniform(18, 24):.0f}pt; letter-spacing: 1pt; }}
.top {{ display: flex; justify-content: space-between; align-items: flex-end; border-bottom: 0.5mm solid #000;
  padding-bottom: 2mm; margin-bottom: 4mm; }}
table.parties td {{ vertical-align: top; padding: 1mm 4mm 1mm 0; }}
table.items {{ border-collapse: collapse; width: 100%; margin: 4mm 0; }}
table.items th {{ text-align: left; border-bottom: 0.4mm solid #000; padding: 1mm; }}
table.items td {{ border-bottom: 0.2mm solid #777; padding: 1.4mm 1mm; }}
table.items .num {{ text-align: right; padding-right: 3mm; }}
.delivery {{ margin-top: 4mm; font-size: 1.1em; }}
"""
    day = truth.received_at.date()
    issue = rng.choice((f"{day.year}/{day.month:02d}/{day.day:02d}",
                        f"{_MONTHS_EN[day.month - 1][:3]} {day.day}, {day.year}"))
    po = f"{day:%Y%m%d}-{rng.randint(1, 30):02d}"
    name = rng.choice(who.spellings[:2]) if rng.random() < 0.5 else who.name
    supplier = rng.choice(("Yaoshin Seika Co., Ltd.<br>(有限会社 八百新青果)", "有限会社 八百新青果 御中",
                           "Yaoshin Seika"))
    columns = ["Item", "Qty", "Unit"] + (["Unit price", "Amount"] if prices else [])
    widths = "".join(f'<col style="width:{w}%">' for w in ((44, 12, 12, 15, 17) if prices else (60, 14, 26)))
    rows = []
    for line in truth.lines:
        cells = [f'<span class="pre">{_e(line.written)}</span>', _quantity_text(line.quantity), _e(line.written_unit)]
        if prices:
            cells += [f"¥{_yen(product(line.product).price)}", f"¥{_yen(line_amount(line))}"]
        rows.append("<tr>" + "".join(f'<td class="{"num" if 0 < i != 2 else ""}">{c}</td>'
                                     for i, c in enumerate(cells)) + "</tr>")
    head = "".join(f'<th class="{"num" if 0 < i != 2 else ""}">{c}</th>' for i, c in enumerate(columns))
    label = rng.choice(("Delivery date", "Deliver on", "Requested delivery"))
    delivery = (f'<div class="delivery">{label}: {_e(truth.date_written)}</div>' if truth.date_written
                else f'<div class="delivery">{label}: </div>' if rng.random() < 0.5 else "")
    total = f"<p class='num'>Total (excl. tax): ¥{_yen(order_total(truth))}</p>" if prices else ""
    body = (f'<div class="top"><h1>PURCHASE ORDER</h1><div class="num">PO No. {po}<br>Date: {issue}</div></div>'
            f'<table class="parties"><tr><td>To:</td><td>{supplier}<br>Fax: {SUPPLIER_FAX_LOCAL}</td>'
            f"<td>From:</td><td>{_e(name)}<br>{_e(who.address)}<br>Tel: {_e(who.tel)}<br>Fax: {_e(who.fax)}</td>"
            f"</tr></table>{delivery}<table class='items'><colgroup>{widths}</colgroup><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{total}"
            f"<p>Notes: {_e(truth.note) if truth.note else '-'}</p>"
            f"<p style='margin-top:8mm'>Thank you,<br>{_e(who.person)} / {_e(name)}</p>")
    return _document("Purchase order", css, body)


# --- the handwritten sheet -------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _font(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, size_px))


Rect = tuple[float, float, float, float]  # x, y, w, h in mm from the page's top-left corner


@dataclass
class _Hand:
    """One person filling in a sheet: the same pen, slant, size and ink everywhere on it."""

    rng: random.Random
    font: str
    ink: int
    slant: float
    scale: float  # of a field's height
    pen: float  # extra stroke, mm

    @classmethod
    def of(cls, rng: random.Random) -> _Hand:
        return cls(rng, faxsim.handwriting_font(), rng.randint(0, 60), rng.uniform(-0.15, 0.08),
                   rng.uniform(0.6, 0.78), rng.choice((0.05, 0.06, 0.08, 0.12)))

    def write(self, page: Image.Image, rect: Rect, text: str, align: str = "left", max_mm: float = 7.5) -> None:
        """``text`` written in ``rect`` (mm), smaller if it would not fit, each glyph a little off."""
        rng = self.rng
        s = page.width / A4[0]
        x0, y0, w, h = (v * s for v in rect)
        size = min(h * self.scale * rng.uniform(0.93, 1.07), max_mm * s)

        def measure(size: float) -> tuple[list[tuple[str, int, float, float]], list[float]]:
            glyphs = []
            for ch in text:
                px = round(size * rng.uniform(0.93, 1.07))
                if ch.isspace():
                    glyphs.append((ch, px, size * 0.5, 0.0))
                    continue
                left, _, right, _ = _font(self.font, px).getbbox(ch)
                glyphs.append((ch, px, float(right - left), float(left)))
            return glyphs, [size * rng.uniform(0.06, 0.22) for _ in glyphs]

        glyphs, gaps = measure(size)
        while sum(g[2] for g in glyphs) + sum(gaps[:-1]) > w * 0.92 and size > 2.5 * s:
            size *= 0.9  # the hand writes smaller to fit the field
            glyphs, gaps = measure(size)
        width = sum(g[2] for g in glyphs) + sum(gaps[:-1])
        room = max(0.0, w - width)
        if align == "left":
            x = x0 + min(room, rng.uniform(1.0, 3.5) * s)
        elif align == "right":
            x = x0 + room - min(room, rng.uniform(1.0, 3.0) * s)
        else:
            x = x0 + room / 2 + rng.uniform(-0.15, 0.15) * room
        digit_h = -_font(self.font, round(size)).getbbox("0", anchor="ls")[1]
        baseline = y0 + h / 2 + digit_h / 2 + rng.uniform(-0.12, 0.12) * max(0.0, h - digit_h)
        drift = rng.uniform(-0.04, 0.04) * size  # the line rises or falls a little as it goes
        pen = max(1, round(self.pen * s))
        for i, ((ch, px, advance, left), gap) in enumerate(zip(glyphs, gaps, strict=True)):
            if not ch.isspace():
                pad = round(px * 0.5)
                rise = round(px * 1.1)
                glyph = Image.new("L", (round(px * 1.2) + 2 * pad, rise + round(px * 0.4) + 2 * pad), 0)
                ImageDraw.Draw(glyph).text((pad - left, pad + rise), ch, font=_font(self.font, px), fill=255,
                                           anchor="ls", stroke_width=pen, stroke_fill=255)
                glyph = glyph.rotate(rng.uniform(-5, 5), resample=Image.Resampling.BICUBIC)
                shear = self.slant + rng.uniform(-0.05, 0.05)  # about the baseline: the glyph stays where measured
                glyph = glyph.transform(glyph.size, Image.Transform.AFFINE, (1, shear, -shear * (pad + rise), 0, 1, 0),
                                        resample=Image.Resampling.BICUBIC)
                top = round(baseline + drift * i - pad - rise + rng.uniform(-0.04, 0.04) * size)
                page.paste(self.ink, (round(x) - pad, top), glyph)
            x += advance + gap


def _stamp(page: Image.Image, center: tuple[float, float], name: str, rng: random.Random) -> None:
    """A red seal (印) with the family name pressed on the page: grey on a grey scan, unevenly inked."""
    s = page.width / A4[0]
    d = rng.uniform(13, 16.5) * s
    size = round(d * 1.3)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    c, r = size / 2, d / 2
    draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=max(2, round(0.7 * s)))
    chars = name[:3]
    px = round(d * (0.36 if len(chars) <= 2 else 0.27))
    font = _font("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"
                 if _font_exists("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf") else faxsim.FONT, px)
    for i, ch in enumerate(chars):
        draw.text((c, c + (i - (len(chars) - 1) / 2) * px * 1.02), ch, font=font, fill=255, anchor="mm",
                  stroke_width=1, stroke_fill=255)
    mask = mask.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BICUBIC)
    gen = np.random.default_rng(rng.getrandbits(32))
    # the seal pressed harder on one side: ink fades across it, with specks left out
    fade = np.linspace(rng.uniform(0.45, 0.8), 1.0, size)[None, :]
    if rng.random() < 0.5:
        fade = fade[:, ::-1]
    ink = np.asarray(mask, dtype=np.float32) * fade * (gen.random((size, size)) > 0.1)
    x, y = round(center[0] * s - size / 2), round(center[1] * s - size / 2)
    page.paste(rng.randint(60, 110), (x, y), Image.fromarray(ink.clip(0, 255).astype(np.uint8)))


@lru_cache(maxsize=8)
def _font_exists(path: str) -> bool:
    try:
        ImageFont.truetype(path, 10)
    except OSError:
        return False
    return True


def _handwritten_page(truth: FaxOrderTruth, rng: random.Random) -> Image.Image:
    """The buyer's printed blank form (WeasyPrint, rasterized at 200 dpi), filled in by hand and stamped."""
    who = buyer(truth.buyer)
    left, right, top = rng.uniform(14, 22), rng.uniform(14, 22), rng.uniform(12, 20)
    width = A4[0] - left - right
    font = rng.choice(("gothic", "mincho"))
    parts: list[str] = []
    writes: list[tuple[Rect, str, str, float]] = []  # field, text, alignment, biggest writing (mm)

    def at(x: float, y: float, content: str, style: str = "") -> None:
        parts.append(f'<div class="a" style="left:{x:.1f}mm; top:{y:.1f}mm; {style}">{content}</div>')

    def hline(x: float, y: float, w: float, t: float = 0.3) -> None:
        parts.append(f'<div class="a" style="left:{x:.2f}mm; top:{y - t / 2:.2f}mm; width:{w:.2f}mm; '
                     f'height:{t:.2f}mm; background:#000"></div>')

    def vline(x: float, y: float, h: float, t: float = 0.3) -> None:
        parts.append(f'<div class="a" style="left:{x - t / 2:.2f}mm; top:{y:.2f}mm; width:{t:.2f}mm; '
                     f'height:{h:.2f}mm; background:#000"></div>')

    title = rng.choice(("注 文 書", "御注文書", "発注書", "FAX注文用紙", "注文票"))
    at(0, top, _e(title), f"width:{A4[0]:.0f}mm; text-align:center; font-size:{rng.uniform(18, 24):.0f}pt")
    y = top + 16
    # the supplier: printed on the buyer's sheet, or a blank line the buyer writes it on
    if rng.random() < 0.5:
        at(left, y, _e(rng.choice(SUPPLIER_ADDRESSED)), "font-size:13pt")
        hline(left, y + 7, 80)
    else:
        hline(left, y + 7, 72)
        at(left + 73, y + 1, "御中", "font-size:12pt")
        writes.append(((left, y - 2, 72, 9), rng.choice(("八百新青果", "八百新", "有限会社 八百新青果")), "left", 6.5))
    # the buyer's own block, printed
    bx = A4[0] - right - rng.uniform(68, 78)
    name = rng.choice(who.spellings) if rng.random() < 0.3 else who.name
    label = rng.choice(("", "店名　"))
    at(bx, y - 4, f"<div style='font-size:13pt'>{label}{_e(name)}</div><div>{_e(who.address)}</div>"
       f"<div>TEL {_e(who.tel)}　FAX {_e(who.fax)}</div>", "font-size:8.5pt; line-height:1.5")
    # the seal pressed over the end of the shop's name
    stamp_at = (bx + _width_em(label + name) * 13 * PT_MM + rng.uniform(-4, 6), y + rng.uniform(-2, 4))
    # dates: the day written (often filled in) and the delivery day
    y += 16
    order_label = rng.choice(("注文日", "発注日", "日付"))
    delivery_label = rng.choice(("納品日", "納品希望日", "お届け日"))
    at(left, y + 1.5, order_label, "font-size:10.5pt")
    hline(left + 20, y + 8, 45)
    at(left + 78, y + 1.5, delivery_label, "font-size:10.5pt")
    hline(left + 100, y + 8, 50)
    day = truth.received_at.date()
    if rng.random() < 0.7:
        writes.append(((left + 20, y - 1, 45, 9), rng.choice((f"{day.month}/{day.day}", f"{day.month}月{day.day}日")),
                       "left", 6.0))
    if truth.date_written:
        writes.append(((left + 100, y - 1, 50, 9), truth.date_written, "left", 6.5))
    # the table
    y0 = y + rng.uniform(14, 18)
    row_h = rng.uniform(9, 11)
    rows = min(rng.randint(12, 16), int(150 / row_h))
    has_unit = rng.random() < 0.75
    cols: list[tuple[str, float]] = [("no", 9.0)] if rng.random() < 0.6 else []
    qty_w = rng.uniform(20, 26) if has_unit else rng.uniform(28, 34)
    tail = [("qty", qty_w)] + ([("unit", rng.uniform(16, 20))] if has_unit else [])
    if has_unit and rng.random() < 0.35:
        tail.reverse()
    if rng.random() < 0.35:
        tail.append(("memo", rng.uniform(26, 34)))
    item_w = width - sum(w for _, w in cols) - sum(w for _, w in tail)
    cols += [("item", item_w)] + tail
    head_h = 8.0
    names = {"no": "No", "item": rng.choice(("品名", "品　名", "商品名")), "qty": "数量", "unit": "単位",
             "memo": "備考"}
    x = left
    xs: dict[str, tuple[float, float]] = {}
    for key, w in cols:
        xs[key] = (x, w)
        at(x, y0 + 1.6, names[key], f"width:{w:.1f}mm; text-align:center; font-size:10pt")
        x += w
    bottom = y0 + head_h + rows * row_h
    for key, _ in cols[1:]:
        vline(xs[key][0], y0, bottom - y0)
    for i in range(rows + 1):
        hline(left, y0 + head_h + i * row_h, width, 0.45 if i == 0 else 0.25)
    hline(left, y0, width, 0.5)
    hline(left, bottom, width, 0.5)
    vline(left, y0, bottom - y0, 0.5)
    vline(left + width, y0, bottom - y0, 0.5)
    if "no" in xs:
        for i in range(rows):
            at(left, y0 + head_h + i * row_h + row_h / 2 - 2.2, str(i + 1), "width:9mm; text-align:center")
    for i, line in enumerate(truth.lines):
        ry = y0 + head_h + i * row_h
        qty = _quantity_text(line.quantity)
        ix, iw = xs["item"]
        writes.append(((ix, ry, iw, row_h), line.written, "left", 7.0))
        qx, qw = xs["qty"]
        if has_unit:
            ux, uw = xs["unit"]
            writes.append(((qx, ry, qw, row_h), qty, rng.choice(("right", "center")), 7.0))
            writes.append(((ux, ry, uw, row_h), line.written_unit, "center", 6.5))
        else:
            writes.append(((qx, ry, qw, row_h), f"{qty}{line.written_unit}", "center", 7.0))
    # the note box
    ny = bottom + rng.uniform(4, 7)
    note_h = min(22.0, A4[1] - ny - 12)
    at(left + 1.5, ny + 1, "備考", "font-size:9pt")
    hline(left, ny, width, 0.4)
    hline(left, ny + note_h, width, 0.4)
    vline(left, ny, note_h, 0.4)
    vline(left + width, ny, note_h, 0.4)
    if truth.note:
        writes.append(((left + 12, ny + 2, width - 16, min(10.0, note_h - 4)), truth.note, "left", 6.0))
    css = _base_css(font, 9.5, 0, 0) + ".a { position: absolute; white-space: nowrap; }"
    blank = faxsim.rasterize(_pdf(_document(title, css, "".join(parts))), DPI)
    hand = _Hand.of(rng)
    for rect, text, align, biggest in writes:
        hand.write(blank, rect, text, align, biggest)
    _stamp(blank, stamp_at, who.person, rng)
    blank.info["dpi"] = (DPI, DPI)
    return blank


# --- rendering and faxing ----------------------------------------------------------------------------------


def _html(truth: FaxOrderTruth, rng: random.Random) -> str:
    if truth.layout == "ruled":
        return _ruled_html(truth, rng, two_page=False)
    if truth.layout == "two_page":
        return _ruled_html(truth, rng, two_page=True)
    if truth.layout == "plain":
        return _plain_html(truth, rng)
    if truth.layout == "english":
        return _english_html(truth, rng)
    raise ValueError(f"layout {truth.layout!r} has no text layer")


def _struct_time(moment: datetime) -> time.struct_time:
    return moment.astimezone(UTC).timetuple()


def _image_pdf(pages: Sequence[Image.Image], received_at: datetime) -> bytes:
    """Pages as one image each in a PDF dated when the fax was received, never when it was made."""
    out = io.BytesIO()
    xdpi, ydpi = (float(v) for v in pages[0].info.get("dpi", (DPI, DPI)))
    stamp = _struct_time(received_at)
    pages[0].save(out, "PDF", save_all=True, append_images=list(pages[1:]), dpi=(xdpi, ydpi), creationDate=stamp,
                  modDate=stamp)
    return out.getvalue()


def render_pdf(truth: FaxOrderTruth, rng: random.Random) -> bytes:
    """The sheet as a PDF: with its text layer as the buyer's PC made it; handwritten: the filled page, an image."""
    if truth.layout == "handwritten":
        return _image_pdf([_handwritten_page(truth, rng)], truth.received_at)
    pdf = _pdf(_html(truth, rng))
    expected = 2 if truth.layout == "two_page" else 1
    if _page_count(pdf) != expected:  # the layouts are sized to fit: anything else is a bug here
        raise AssertionError(f"{truth.layout} sheet rendered on {_page_count(pdf)} pages, not {expected}")
    return pdf


def render_pages(truth: FaxOrderTruth, rng: random.Random) -> list[Image.Image]:
    """The sheet's pages as a scanner sees them before the fax machine: 200 dpi grayscale, clean."""
    if truth.layout == "handwritten":
        return [_handwritten_page(truth, rng)]
    pdf = render_pdf(truth, rng)
    return [faxsim.rasterize(pdf, DPI, page=i) for i in range(_page_count(pdf))]


def _header_line(page: Image.Image, truth: FaxOrderTruth, number: int, count: int, rng: random.Random,
                 style: int) -> Image.Image:
    """The sent page with the sending machine's header line (TTI) across its top: clock, number, name, page.

    The machine adds it to the scanned image, so it is straight and upright however
    the sheet went through the feeder.
    """
    who = buyer(truth.buyer)
    sent = truth.received_at - timedelta(seconds=rng.randint(20, 90))
    if style == 0:
        text = f"{sent:%Y/%m/%d %H:%M}    {who.fax}    {who.tti}    P.{number:03d}/{count:03d}"
    elif style == 1:
        text = (f"{_MONTHS_EN[sent.month - 1][:3].upper()}-{sent.day:02d}-{sent.year} {sent:%H:%M}  "
                f"FROM:{who.tti}  FAX NO.:{who.fax.replace('-', '')}  P.{number}")
    else:
        text = (f"{sent.month}月{sent.day}日 {sent:%H}時{sent:%M}分    {who.spellings[-1]}    FAX {who.fax}    "
                f"{number}/{count}")
    s = page.width / A4[0]
    strip = Image.new("L", (page.width, round(7 * s)), 255)
    ImageDraw.Draw(strip).text((8 * s, 2 * s), text, font=_font(faxsim.FONT, round(2.6 * s)), fill=0)
    xdpi, ydpi = page.info["dpi"]
    strip = strip.resize((page.width, round(strip.height * ydpi / xdpi)), Image.Resampling.BOX)
    out = page.copy()
    out.paste(strip.point(lambda v: 255 if v >= 140 else 0).convert("1"), (0, 0))
    out.info = dict(page.info)
    return out


def fax(truth: FaxOrderTruth, rng: random.Random, *, kind: Literal["pdf", "tiff"] = "pdf",
        resolution: Literal["fine", "normal"] = "fine", skew_deg: float = 0.0, noise: float = 0.0,
        upside_down: bool = False, header: bool | None = None) -> bytes:
    """The sheet as faxed and delivered by a fax-to-email gateway: 1-bit CCITT G4 pages in a PDF or TIFF.

    Each page goes through ``faxsim.degrade`` (the second page a little differently
    turned: the feeder takes each sheet on its own). ``header``: the sending machine
    prints its header line on each page (drawn from ``rng`` when None, on most faxes).
    """
    pages = render_pages(truth, rng)
    if header is None:
        header = rng.random() < 0.7
    style = rng.randrange(3)
    sent = []
    for number, page in enumerate(pages, start=1):
        skew = skew_deg if number == 1 else skew_deg + rng.uniform(-0.4, 0.4)
        bits = faxsim.degrade(page, resolution=resolution, skew_deg=skew, noise=noise, upside_down=upside_down,
                              rng=rng)
        sent.append(_header_line(bits, truth, number, len(pages), rng, style) if header else bits)
    if kind == "tiff":
        return faxsim.to_tiff(sent)
    if kind != "pdf":
        raise ValueError(f"unknown kind {kind!r}")
    return _image_pdf(sent, truth.received_at)


# --- the benchmark -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transmission:
    """How a sample reaches the gateway: a PDF with a text layer, or a fax and how it was scanned."""

    source: Literal["text", "scan"]
    kind: Literal["pdf", "tiff"]
    resolution: Literal["fine", "normal"]
    skew_deg: float
    noise: float
    upside_down: bool


@dataclass(frozen=True)
class Planned:
    name: str
    truth: FaxOrderTruth
    transmission: Transmission
    render_seed: str  # the Random the sample is rendered with


@dataclass(frozen=True)
class Sample:
    name: str
    truth: FaxOrderTruth
    data: bytes
    content_type: str
    filename: str
    source: str  # "text" | "scan"


def plan(n: int, seed: int = 1, *, no_date_share: float = 0.05) -> list[Planned]:
    """What ``dataset(n, seed)`` renders, without rendering it: the truths and how each is sent.

    About 25 % text-layer PDFs (never the handwritten layout, which has none), the
    rest faxes: fine or normal resolution, skewed up to ±2.5°, noise 0–0.6, about 10 %
    upside down, about 25 % TIFF. ``no_date_share`` of the orders say no delivery date.
    Each sample has its own seed: the first k samples are the same whatever ``n``.
    """
    out = []
    for i in range(n):
        rng = random.Random(f"fax-orders/{seed}/{i}/plan")
        source: Literal["text", "scan"] = "text" if rng.random() < 0.25 else "scan"
        if source == "text":
            layout = rng.choices(TEXT_LAYOUTS, weights=(30, 20, 15, 15))[0]
        else:
            layout = rng.choices(LAYOUTS, weights=(30, 20, 15, 25, 15))[0]
        truth = make_order(rng, layout, with_date=rng.random() >= no_date_share)
        if source == "text":
            sent = Transmission("text", "pdf", "fine", 0.0, 0.0, False)
        else:
            sent = Transmission("scan", "tiff" if rng.random() < 0.25 else "pdf",
                                rng.choice(("fine", "normal")), round(rng.uniform(-2.5, 2.5), 2),
                                round(rng.uniform(0.0, 0.6), 2), rng.random() < 0.1)
        name = f"fax-order-{seed}-{i:04d}-{layout.replace('_', '-')}-{source}"
        out.append(Planned(name, truth, sent, f"fax-orders/{seed}/{i}/render"))
    return out


def render_planned(item: Planned) -> Sample:
    """One planned sample, rendered and sent as planned."""
    rng = random.Random(item.render_seed)
    sent = item.transmission
    if sent.source == "text":
        data = render_pdf(item.truth, rng)
    else:
        data = fax(item.truth, rng, kind=sent.kind, resolution=sent.resolution, skew_deg=sent.skew_deg,
                   noise=sent.noise, upside_down=sent.upside_down)
    extension, content_type = (".tif", "image/tiff") if sent.kind == "tiff" else (".pdf", "application/pdf")
    return Sample(item.name, item.truth, data, content_type, item.name + extension, sent.source)


def dataset(n: int, seed: int = 1) -> Iterator[Sample]:
    """``n`` fax orders with their truth, as the gateway receives them (see ``plan``); the same for the same seed."""
    for item in plan(n, seed):
        yield render_planned(item)


# --- JSON ------------------------------------------------------------------------------------------------


def truth_json(truth: FaxOrderTruth) -> dict[str, Any]:
    """The truth as JSON-safe data: dates and times in ISO 8601, quantities as strings ("2.5")."""
    return {
        "layout": truth.layout,
        "buyer": truth.buyer,
        "buyer_fax": truth.buyer_fax,
        "received_at": truth.received_at.isoformat(),
        "lines": [{"product": line.product, "written": line.written, "quantity": _quantity_text(line.quantity),
                   "unit": line.unit, "written_unit": line.written_unit} for line in truth.lines],
        "delivery_date": truth.delivery_date.isoformat() if truth.delivery_date else None,
        "date_written": truth.date_written,
        "note": truth.note,
    }


def truth_from_json(data: dict[str, Any]) -> FaxOrderTruth:
    """The truth back from ``truth_json``."""
    return FaxOrderTruth(
        layout=data["layout"], buyer=data["buyer"], buyer_fax=data["buyer_fax"],
        received_at=datetime.fromisoformat(data["received_at"]).astimezone(TOKYO),
        lines=tuple(TruthLine(line["product"], line["written"], Decimal(line["quantity"]), line["unit"],
                              line["written_unit"]) for line in data["lines"]),
        delivery_date=date.fromisoformat(data["delivery_date"]) if data["delivery_date"] else None,
        date_written=data["date_written"], note=data["note"])
