"""The ABHA card as PNG and PDF (Pillow + qrcode), with the QR payload of ABDM.md section 2.

Labels are drawn in the active language. Noto fonts (Debian's fonts-noto-core) shape Devanagari
and Gujarati through raqm; without them the card falls back to DejaVu, then Pillow's own font.
"""

import io
import json
from functools import lru_cache
from pathlib import Path

import qrcode
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, features

from core.sms import mask_mobile

from .models import AbhaAccount

NOTO = Path("/usr/share/fonts/truetype/noto")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SCRIPT_FONTS = {"hi": "NotoSansDevanagari", "gu": "NotoSansGujarati"}

WIDTH, HEIGHT = 1012, 638  # ID-1 card proportions (85.6 x 54 mm) at ~300 dpi
BRAND = (11, 93, 138)
INK = (27, 36, 48)
MUTED = (74, 85, 101)


def qr_payload(account: AbhaAccount) -> dict:
    """The JSON that ABDM apps read from an ABHA card's QR (keys exactly as ABDM publishes them)."""
    primary = account.primary_address
    return {
        "hidn": account.abha_number_display,
        "hid": primary.full if primary else "",
        "name": account.full_name,
        "gender": account.gender,
        "statelgd": str(account.state_id),
        "distlgd": str(account.district_id) if account.district_id else "-",
        "dob": account.dob_display,
        "state name": account.state.name,
        "district_name": account.district.name,
        "mobile": mask_mobile(account.mobile),
        "address": account.address,
    }


def _qr_image(payload: dict, box: int) -> Image.Image:
    maker = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=4)
    maker.add_data(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    maker.make(fit=True)
    image = maker.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((box, box), Image.Resampling.NEAREST)


@lru_cache(maxsize=32)
def _font(size: int, *, bold: bool = False, script: str = "") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    weight = "Bold" if bold else "Regular"
    family = SCRIPT_FONTS.get(script, "NotoSans")
    raqm = features.check("raqm")
    for path in (NOTO / f"{family}-{weight}.ttf", NOTO / f"NotoSans-{weight}.ttf", DEJAVU / "DejaVuSans.ttf"):
        if path.exists():
            if raqm and script in SCRIPT_FONTS:
                return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _script_of(text: str) -> str:
    if any("\u0a80" <= ch <= "\u0aff" for ch in text):
        return "gu"
    if any("\u0900" <= ch <= "\u097f" for ch in text):
        return "hi"
    return ""


def _runs(text: str, size: int, bold: bool):
    """(word, font) pairs: each word in a font that has its script (Noto's Indic fonts lack Latin)."""
    return [(word, _font(size, bold=bold, script=_script_of(word))) for word in text.split()]


def _width(text: str, size: int, *, bold: bool = False) -> float:
    runs = _runs(text, size, bold)
    space = _font(size, bold=bold).getlength(" ")
    return sum(font.getlength(word) for word, font in runs) + space * max(len(runs) - 1, 0)


def _draw(draw: ImageDraw.ImageDraw, xy, text: str, size: int, *, bold: bool = False, fill=INK) -> None:
    """Draws mixed-script text word by word on a shared baseline."""
    x, y = xy
    space = _font(size, bold=bold).getlength(" ")
    for word, font in _runs(text, size, bold):
        draw.text((x, y + size), word, font=font, fill=fill, anchor="ls")
        x += font.getlength(word) + space


def _fit(text: str, size: int, width: int, *, bold: bool = False) -> int:
    """The largest font size (down to 18) at which `text` fits in `width` pixels."""
    while size > 18 and _width(text, size, bold=bold) > width:
        size -= 2
    return size


def _wrap(text: str, size: int, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and _width(candidate, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def card_image(account: AbhaAccount) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 96], fill=BRAND)
    title = _("Ayushman Bharat Health Account")
    _draw(draw, (36, 26), title, _fit(title, 34, WIDTH - 72, bold=True), bold=True, fill="white")
    draw.rounded_rectangle([2, 2, WIDTH - 3, HEIGHT - 3], radius=24, outline=BRAND, width=4)

    qr_size, qr_x, qr_y = 300, WIDTH - 300 - 36, 126
    image.paste(_qr_image(qr_payload(account), qr_size), (qr_x, qr_y))
    primary = account.primary_address
    rows = [
        (_("ABHA Number"), account.abha_number_display, 46),
        (_("Name"), account.full_name, 34),
        (_("ABHA address"), primary.full if primary else "", 28),
        (_("Gender"), str(account.get_gender_display()), 28),
        (_("Date of birth"), account.dob_display, 28),
    ]
    text_width = qr_x - 36 - 24
    y = 116
    for label, value, size in rows:
        _draw(draw, (36, y), str(label), 22, fill=MUTED)
        y += 34
        size = _fit(str(value), size, text_width, bold=True)
        _draw(draw, (36, y), str(value), size, bold=True)
        y += size + 24
    note_y = qr_y + qr_size + 14
    for line in _wrap(str(_("Scan the QR code at a hospital to share your profile.")), 20, qr_size + 20)[:3]:
        _draw(draw, (qr_x + (qr_size - _width(line, 20)) / 2, note_y), line, 20, fill=MUTED)
        note_y += 32
    return image


def card_png(account: AbhaAccount) -> bytes:
    buffer = io.BytesIO()
    card_image(account).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def card_pdf(account: AbhaAccount) -> bytes:
    """One A4 page (300 dpi) with the card at its real size near the top, ready to print and cut."""
    page = Image.new("RGB", (2480, 3508), "white")
    card = card_image(account)
    page.paste(card, ((2480 - WIDTH) // 2, 240))
    draw = ImageDraw.Draw(page)
    draw.rectangle(
        [(2480 - WIDTH) // 2 - 4, 236, (2480 + WIDTH) // 2 + 3, 240 + HEIGHT + 3], outline=(160, 160, 160), width=2
    )
    buffer = io.BytesIO()
    page.save(buffer, format="PDF", resolution=300.0, title="ABHA card")
    return buffer.getvalue()
