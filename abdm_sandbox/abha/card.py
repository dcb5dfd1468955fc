"""The ABHA card and its QR, drawn with Pillow: what GET /v3/profile/account/abha-card and .../qrCode answer
(image/png).

The QR holds the JSON ABDM's cards carry (../shared/ABDM.md "ABHA card and QR"): hidn, hid, name, gender,
statelgd, distlgd, dob (D/M/YYYY), "state name", district_name, mobile (masked 98xxxxxx10), address.
"""

import base64
import binascii
import functools
import io
import json
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, features

from .identity import mask_mobile_qr

WIDTH, HEIGHT = 1012, 638  # ID-1 card proportions
_NOTO = Path("/usr/share/fonts/truetype/noto")  # Debian's fonts-noto-core
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
# Noto's Devanagari and Gujarati fonts carry no Latin letters: text is drawn in runs, each in its script's font.
_FAMILIES = {"latin": "NotoSans", "devanagari": "NotoSansDevanagari", "gujarati": "NotoSansGujarati"}
_NAVY = (16, 42, 94)
_ORANGE = (232, 119, 34)
_GREY = (90, 90, 90)
_GENDER = {"M": "Male", "F": "Female", "O": "Other"}


@functools.cache
def _font(size: int, bold: bool = False, script: str = "latin"):
    weight = "Bold" if bold else "Regular"
    candidates = [_NOTO / f"{_FAMILIES[script]}-{weight}.ttf", _NOTO / f"NotoSans-{weight}.ttf"]
    candidates.append(_DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))
    for path in candidates:
        if path.exists():
            if features.check("raqm"):  # shapes conjuncts and vowel signs
                return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _script_of(char: str) -> str | None:
    if "\u0a80" <= char <= "\u0aff":
        return "gujarati"
    if "\u0900" <= char <= "\u097f":
        return "devanagari"
    return None  # Latin, digits, punctuation, spaces: drawn in the run's font


def _runs(text: str, size: int, bold: bool = False) -> list[tuple[str, object]]:
    """`text` cut into runs of one script each (spaces and punctuation stay with the run they are in)."""
    runs: list[list] = []
    for char in text:
        script = _script_of(char) or ("latin" if char.isalnum() else None)
        if runs and (script is None or runs[-1][1] == script):
            runs[-1][0] += char
        else:
            runs.append([char, script or "latin"])
    return [(chunk, _font(size, bold, script)) for chunk, script in runs]


def _text(draw, xy, text: str, size: int, bold: bool = False, fill="black") -> None:
    x, y = xy
    for chunk, font in _runs(text, size, bold):
        # One shared baseline: the Latin and Indic fonts have different ascents.
        draw.text((x, y + size), chunk, font=font, fill=fill, anchor="ls")
        x += draw.textlength(chunk, font=font)


def _width(draw, text: str, size: int, bold: bool = False) -> float:
    return sum(draw.textlength(chunk, font=font) for chunk, font in _runs(text, size, bold))


def qr_payload(account) -> dict:
    dob_parts = [str(part) for part in (account.day_of_birth, account.month_of_birth) if part]
    return {
        "hidn": account.formatted_number,
        "hid": account.preferred_address,
        "name": account.name,
        "gender": account.gender,
        "statelgd": account.state_code or "-",
        "distlgd": account.district_code or "-",
        "dob": "/".join([*dob_parts, str(account.year_of_birth)]),
        "state name": account.state_name,
        "district_name": account.district_name,
        "mobile": mask_mobile_qr(account.mobile),
        "address": account.address,
    }


def _qr_image(account, box_size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2)
    code.add_data(json.dumps(qr_payload(account), ensure_ascii=False, separators=(",", ":")))
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").convert("RGB")


def qr_png(account) -> bytes:
    return _png(_qr_image(account, box_size=8))


def _photo(account) -> Image.Image | None:
    data = account.profile_photo or account.kyc_photo
    if not data:
        return None
    try:
        return Image.open(io.BytesIO(base64.b64decode(data, validate=False))).convert("RGB")
    except (binascii.Error, ValueError, OSError):
        return None


def _date_of_birth(account) -> str:
    if account.day_of_birth and account.month_of_birth:
        return f"{account.day_of_birth:02d}-{account.month_of_birth:02d}-{account.year_of_birth}"
    return str(account.year_of_birth)


def _wrap(draw, text: str, size: int, width: int, lines: int) -> list[str]:
    words, out, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if _width(draw, trial, size) <= width:
            line = trial
        else:
            out.append(line)
            line = word
            if len(out) == lines:
                break
    if line and len(out) < lines:
        out.append(line)
    return out


def card_png(account) -> bytes:
    card = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle([0, 0, WIDTH, 96], fill=_NAVY)
    draw.text((32, 18), "Ayushman Bharat Health Account", font=_font(34, True), fill="white")
    draw.text((32, 60), "ABHA card (local ABDM sandbox, not valid for use)", font=_font(20), fill=(220, 226, 240))
    draw.rectangle([0, 96, WIDTH, 104], fill=_ORANGE)

    photo = _photo(account)
    left = 32
    if photo is not None:
        photo.thumbnail((150, 190))
        card.paste(photo, (32, 130))
        left = 200

    y = 126
    _text(draw, (left, y), account.name, 36, bold=True, fill=_NAVY)
    y += 56
    rows = [
        ("ABHA Number", account.formatted_number),
        ("ABHA Address", account.preferred_address),
        ("Gender", _GENDER.get(account.gender, account.gender)),
        ("Date of Birth", _date_of_birth(account)),
        ("Mobile", account.mobile and mask_mobile_qr(account.mobile)),
    ]
    for label, value in rows:
        draw.text((left, y), label, font=_font(20), fill=_GREY)
        _text(draw, (left + 190, y - 2), value or "-", 26, bold=True)
        y += 44
    draw.text((32, max(y, 340) + 10), "Address", font=_font(20), fill=_GREY)
    y = max(y, 340) + 38
    for line in _wrap(draw, account.address or "-", 22, 560, 3):
        _text(draw, (32, y), line, 22)
        y += 30

    fits = (image for size in (5, 4, 3, 2) if (image := _qr_image(account, box_size=size)).width <= 330)
    qr = next(fits, None) or _qr_image(account, box_size=1)
    card.paste(qr, (WIDTH - qr.width - 32, HEIGHT - qr.height - 40))
    draw.rectangle([0, HEIGHT - 14, WIDTH, HEIGHT], fill=_ORANGE)
    return _png(card)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
