"""What the property tests share: how hard they try, and the text and mail they try it on.

``FUZZ`` is the settings every ``test_properties_*`` test runs with: a moderate number of examples, so
that the suite stays quick, unless ``TORII_FUZZ_EXAMPLES`` asks for more (``bench/fuzz.py`` runs them
long). Every example's seed is printed on failure, so a find can be replayed with ``@seed``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("TORII_FUZZ_EXAMPLES", "60"))

# No deadline: the first example of a test pays for imports and compiled patterns, and a loaded
# machine is slow at random; hangs are pytest-timeout's to catch.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3094))
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー"
# Kanji of business mail, all in JIS X 0208 level 1 (so ISO-2022-JP, Shift_JIS and EUC-JP carry them).
KANJI = "承認非保留担当者山田太郎株式会社注文確認発送明日来週月火水木金土日本年時分箱本袋個様御中"
# Characters every Japanese charset encodes the same way (Shift_JIS and CP932 differ on 〜 ‖ − ¢ £ ¬).
JAPANESE = HIRAGANA + KATAKANA + KANJI + "、。「」（）・！？：　０１２３４５６７８９ＡＢＣ"
ASCII_TEXT = "".join(chr(c) for c in range(0x20, 0x7F))

japanese_text = st.text(alphabet=JAPANESE + ASCII_TEXT + "\n", max_size=200)
# Lines people type: no control characters but the line break.
typed_text = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n"),
                     max_size=300)
# Charset labels as mail clients write them, and some nobody knows.
charset_labels = st.one_of(
    st.none(),
    st.sampled_from(["utf-8", "UTF8", "us-ascii", "iso-2022-jp", "ISO-2022-JP-2", "shift_jis", "Shift-JIS", "sjis",
                     "windows-31j", "cp932", "euc-jp", "x-euc-jp", "iso-8859-1", "windows-1252", "gb2312", "big5",
                     "ks_c_5601-1987", "utf-16", "utf-7", "koi8-r", "x-unknown", "rot13", "base64", "hex", "zlib",
                     '"utf-8"', "charset=utf-8;", "utf-8*ja", "", " ", "unknown-8bit"]),
    st.text(max_size=20),
)
