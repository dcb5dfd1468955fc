"""The ABHA card is ABDM's (m1_profile_get_abha_card): this module only puts ABDM's card image on a printable page.

ABDM answers the card as an image (or already as a PDF, which is passed on as it is).
"""

import io

from PIL import Image, ImageDraw

from abdm import m1

CARD_WIDTH = 1012  # ID-1 card proportions (85.6 x 54 mm) at ~300 dpi
A4 = (2480, 3508)  # pixels at 300 dpi


def as_pdf(card: m1.AbhaCard) -> bytes:
    """One A4 page (300 dpi) with ABDM's card at its real size near the top, ready to print and cut."""
    if card.content_type == "application/pdf":
        return card.content
    try:
        image = Image.open(io.BytesIO(card.content)).convert("RGB")
    except (OSError, ValueError):  # not an image after all: said like any reply of ABDM's that cannot be read
        raise m1.AbdmRefused(m1.AbdmError("ABDM's card is not an image.", status=502)) from None
    if image.width != CARD_WIDTH:
        image = image.resize((CARD_WIDTH, round(image.height * CARD_WIDTH / image.width)))
    page = Image.new("RGB", A4, "white")
    left, top = (A4[0] - image.width) // 2, 240
    page.paste(image, (left, top))
    ImageDraw.Draw(page).rectangle(
        [left - 4, top - 4, left + image.width + 3, top + image.height + 3], outline=(160, 160, 160), width=2
    )
    buffer = io.BytesIO()
    page.save(buffer, format="PDF", resolution=300.0, title="ABHA card")
    return buffer.getvalue()


def extension(content_type: str) -> str:
    return {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}.get(content_type, "png")
