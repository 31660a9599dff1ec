"""The camera's snapshot: the plate it read, drawn on a small real JPEG (Pillow).

A real ANPR snapshot is a crop of the plate; the emulator draws the text the camera read
(a misread shows as misread), so an officer's console has something true to show.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIZE = (160, 60)


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=26)


def render_plate(text: str, quality: int = 60) -> bytes:
    """A 160x60 greyscale JPEG of `text` on a plate (about 2.5 KB)."""
    image = Image.new("L", SIZE, 235)
    draw = ImageDraw.Draw(image)
    draw.rectangle((2, 2, SIZE[0] - 3, SIZE[1] - 3), outline=20, width=3)
    draw.text((SIZE[0] // 2, SIZE[1] // 2), text, fill=10, font=_font(), anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
