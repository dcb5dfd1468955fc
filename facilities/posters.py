"""Scan & Share counter posters: facility, counter, instructions in English, Hindi and Gujarati, and QR codes.

The large QR is ABDM's: the share-profile URL `<ABDM_SHARE_PROFILE_URL>?hip-id=<HFR ID>&counter-id=<code>` that the
ABHA app (or any phone camera, which offers the ABHA apps) opens; ABDM then shares the profile with the portal's
bridge and the app shows the token (scanshare.abdm_share). The small QR at the foot is the portal's own scan page,
`<PORTAL_BASE_URL>/scan/?hip-id=...&counter-id=...`, for citizens without the ABHA app. A counter code ABDM does not
allow (ABDM_COUNTER_CODE) gets only the portal's QR. Indic text is shaped by raqm (bundled with Pillow's wheels)
with Debian's Noto fonts; without them it falls back to the default font rather than failing.
"""

import io
import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import qrcode
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, features

from .models import Counter

NOTO = Path("/usr/share/fonts/truetype/noto")
FAMILIES = {"en": "NotoSans", "hi": "NotoSansDevanagari", "gu": "NotoSansGujarati"}
WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 80
BRAND = (11, 93, 138)
INK = (27, 36, 48)
MUTED = (74, 85, 101)


# ABDM's rule for the counter code in its share-profile QR (`counter-id`, echoed as the share's `metaData.context`):
# 1 to 20 letters and digits, no special characters, and not the facility's ID (its HIP ID) or its name (the "Scan
# and share" concept page of nha-in/docs). The portal's counter codes also allow "-", which ABDM's QR cannot carry.
ABDM_COUNTER_CODE = re.compile(r"^[A-Za-z0-9]{1,20}$")


def abdm_counter_code_allowed(counter: Counter) -> bool:
    """True when ABDM's Scan & Share can carry `counter`'s code. No query (the facility is loaded)."""
    code = (counter.code or "").upper()
    facility = counter.facility
    own = {str(facility.facility_id or "").upper(), re.sub(r"\s+", "", str(facility.name or "")).upper()}
    return bool(ABDM_COUNTER_CODE.match(code)) and code not in own


def _query(counter: Counter) -> str:
    return urlencode({"hip-id": counter.facility.facility_id, "counter-id": counter.code})


def share_url(counter: Counter) -> str:
    """The portal's own scan page for this counter (citizens without the ABHA app)."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/scan/?{_query(counter)}"


def abdm_share_url(counter: Counter) -> str:
    """What the counter's QR holds for the ABHA app: ABDM's share-profile URL with the facility's HFR ID as `hip-id`
    and the counter code as `counter-id`."""
    return f"{settings.ABDM_SHARE_PROFILE_URL.rstrip('/')}?{_query(counter)}"


def poster_qr_url(counter: Counter) -> str:
    """The large QR's URL: ABDM's share-profile URL, or the portal's scan page for a code ABDM does not allow."""
    return abdm_share_url(counter) if abdm_counter_code_allowed(counter) else share_url(counter)


def address_is_loopback(base_url: str | None = None) -> bool:
    """True when PORTAL_BASE_URL (or `base_url`) names this machine only (127.0.0.0/8, localhost, ::1):
    a phone that scans a poster with such an address reaches nothing."""
    host = (urlsplit(base_url or settings.PORTAL_BASE_URL).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=32)
def _font(language: str, size: int, bold: bool = False):
    weight = "Bold" if bold else "Regular"
    for family in (FAMILIES.get(language, "NotoSans"), "NotoSans"):
        path = NOTO / f"{family}-{weight}.ttf"
        if path.exists():
            if features.check("raqm"):
                return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _script_of(text: str) -> str:
    if any("\u0a80" <= ch <= "\u0aff" for ch in text):
        return "gu"
    if any("\u0900" <= ch <= "\u097f" for ch in text):
        return "hi"
    return "en"


def _runs(text: str, language: str, size: int, bold: bool = False) -> list[tuple[str, object]]:
    """`text` split into runs of Latin and of Indic script, each with a font that has its glyphs.

    Noto's Devanagari and Gujarati fonts carry no Latin letters, and translations keep "QR" and "ABHA".
    """
    runs: list[tuple[str, object]] = []
    for char in text:
        latin = char.isascii() and not char.isspace()
        script = "en" if latin else (language if not char.isspace() else None)
        if runs and (script is None or runs[-1][1] == script):
            runs[-1] = (runs[-1][0] + char, runs[-1][1])
        else:
            runs.append((char, script or "en"))
    return [(chunk, _font(script, size, bold)) for chunk, script in runs]


def _run_width(draw, runs) -> float:
    return sum(draw.textlength(chunk, font=font) for chunk, font in runs)


def _wrap(draw, text: str, language: str, size: int, width: int, bold: bool) -> list[list]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if _run_width(draw, _runs(candidate, language, size, bold)) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return [_runs(line, language, size, bold) for line in lines]


def _centred(draw, y: int, text: str, size: int, fill, *, bold: bool = False, spacing: int = 10) -> int:
    """Draw `text` centred and wrapped from `y`; returns the y below it."""
    language = _script_of(text)
    line_height = int(size * 1.45)
    for runs in _wrap(draw, text, language, size, WIDTH - 2 * MARGIN, bold):
        x = (WIDTH - _run_width(draw, runs)) / 2
        for chunk, font in runs:
            # One shared baseline: Latin and Indic fonts have different ascents.
            draw.text((x, y + size), chunk, font=font, fill=fill, anchor="ls")
            x += draw.textlength(chunk, font=font)
        y += line_height + spacing
    return y


def _instructions(language: str) -> tuple[str, str]:
    with translation.override(language):
        return (
            _("Scan & Share"),
            _("Scan this QR code with your phone camera or ABHA app to share your profile and get your OPD token."),
        )


def _no_app(language: str) -> str:
    with translation.override(language):
        return _("No ABHA app? Scan the small code to share on the portal.")


def _qr(url: str, size: int) -> Image.Image:
    maker = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=10)
    maker.add_data(url)
    maker.make(fit=True)
    qr = maker.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return qr.resize((size, size), Image.Resampling.NEAREST)


def poster_image(counter: Counter) -> Image.Image:
    facility = counter.facility
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 150], fill=BRAND)
    header_parts = [(_instructions(language)[0], language) for language in ("en", "hi", "gu")]
    # Each title in its own script's font (English if a translation is missing), centred as one row.
    fonts = [_font(_script_of(title), 52, bold=True) for title, _language in header_parts]
    separator = "  ·  "
    total = sum(draw.textlength(t, font=f) for (t, _l), f in zip(header_parts, fonts, strict=True))
    total += draw.textlength(separator, font=fonts[0]) * 2
    x = (WIDTH - total) / 2
    for index, ((title, _language), font) in enumerate(zip(header_parts, fonts, strict=True)):
        draw.text((x, 40), title, font=font, fill="white")
        x += draw.textlength(title, font=font)
        if index < 2:
            draw.text((x, 40), separator, font=fonts[0], fill="white")
            x += draw.textlength(separator, font=fonts[0])

    y = 190
    y = _centred(draw, y, facility.name, 60, INK, bold=True, spacing=0)
    y = _centred(draw, y, facility.facility_id or "", 34, MUTED)
    y = _centred(draw, y + 6, f"{counter.name} ({counter.code})", 48, BRAND, bold=True)

    size = 600
    y += 10
    image.paste(_qr(poster_qr_url(counter), size), ((WIDTH - size) // 2, y))
    draw.rectangle([(WIDTH - size) // 2 - 6, y - 6, (WIDTH + size) // 2 + 6, y + size + 6], outline=BRAND, width=4)
    y += size + 40

    for language in ("en", "hi", "gu"):
        y = _centred(draw, y, _instructions(language)[1], 34, INK, spacing=0) + 16
    # The foot: the portal's own scan page, for citizens without the ABHA app (only the large QR when it is that).
    foot = HEIGHT - 250
    draw.line([MARGIN, foot - 20, WIDTH - MARGIN, foot - 20], fill=(207, 216, 227), width=2)
    if poster_qr_url(counter) != share_url(counter):
        small = 200
        image.paste(_qr(share_url(counter), small), (MARGIN, foot))
        text_y = foot
        for language in ("en", "hi", "gu"):
            text = _no_app(language)
            runs = _runs(text, _script_of(text), 26)
            draw_x = MARGIN + small + 30
            for chunk, font in runs:
                draw.text((draw_x, text_y + 26), chunk, font=font, fill=INK, anchor="ls")
                draw_x += draw.textlength(chunk, font=font)
            text_y += 44
        _left(draw, MARGIN + small + 30, text_y + 10, share_url(counter), 20, MUTED)
    else:
        _centred(draw, foot + 40, share_url(counter), 24, MUTED)
    return image


def _left(draw, x: int, y: int, text: str, size: int, fill) -> None:
    """`text` from x, cut to the poster's width (a long URL)."""
    font = _font("en", size)
    while text and draw.textlength(text, font=font) > WIDTH - MARGIN - x:
        text = text[:-1]
    draw.text((x, y + size), text, font=font, fill=fill, anchor="ls")


def poster_bytes(counter: Counter, fmt: str) -> bytes:
    """The poster as PNG or PDF bytes (`fmt` is "png" or "pdf")."""
    buffer = io.BytesIO()
    image = poster_image(counter)
    if fmt == "pdf":
        image.save(buffer, format="PDF", resolution=150.0)
    else:
        image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
