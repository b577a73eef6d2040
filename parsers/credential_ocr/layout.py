"""``CredentialLayout``: where the letter prints its credentials, as the temporary ID's reader takes it.

Only data (no OpenCV): the letter's renderer (``workflows.letters``) makes one from
its form geometry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CredentialLayout:
    """Where the credentials are on the letter, in mm from the top-left corner of the page.

    ``panel``       the framed panel at the bottom of the page, (x, y, width, height) of its
                    outer edge.
    ``temp_id``     the temporary ID's line inside it, (x, y, width, height): the first
                    character's cell starts at x, the glyphs are centred in the height.
    ``cap_height``  how tall its capitals and digits are printed.
    ``pitch``       one character's advance, letter spacing included (a monospaced font);
                    the ID is printed in two groups of ``group`` with one blank cell between.
    """

    page_size: tuple[float, float]
    panel: tuple[float, float, float, float]
    temp_id: tuple[float, float, float, float]
    cap_height: float
    pitch: float
    group: int = 4
