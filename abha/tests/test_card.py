"""The ABHA card: fields, a QR that an independent reader (zxing-cpp) decodes to ABDM's JSON."""

import io
import json
from pathlib import Path

import pytest
import zxingcpp
from django.utils import translation
from PIL import Image

from abha import card
from abha.models import AbhaAddress

from .factories import AbhaAccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]
OUT = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def account():
    account = AbhaAccountFactory(
        first_name="Asha", middle_name="Ramesh", last_name="Patel", month_of_birth=5, day_of_birth=23,
        mobile="9876543210", gender="F",
    )  # fmt: skip
    AbhaAddress.objects.filter(account=account).update(is_primary=False)
    AbhaAddress.objects.create(account=account, local="asha.patel", is_primary=True)
    return account


def _decode(png: bytes) -> dict:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    qr = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(qr) == 1
    return json.loads(qr[0].text)


def test_qr_decodes_to_the_abdm_json(account):
    payload = _decode(card.card_png(account))
    assert payload == {
        "hidn": account.abha_number_display,
        "hid": "asha.patel@sbx",
        "name": "Asha Ramesh Patel",
        "gender": "F",
        "statelgd": "24",
        "distlgd": "443",
        "dob": "23/5/1990",
        "state name": "Gujarat",
        "district_name": "Bhavnagar",
        "mobile": "98xxxxxx10",
        "address": "12 Station Road, Bhavnagar",
    }


@pytest.mark.parametrize("language", ["en", "hi", "gu"])
def test_card_renders_in_each_language_with_a_readable_qr(account, language):
    account.first_name, account.last_name = ("આશા", "પટેલ") if language == "gu" else ("Asha", "Patel")
    with translation.override(language):
        png = card.card_png(account)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"abha-card-{language}.png").write_bytes(png)
    image = Image.open(io.BytesIO(png))
    assert image.size == (card.WIDTH, card.HEIGHT)
    assert _decode(png)["hidn"] == account.abha_number_display


def test_pdf_is_one_a4_page(account):
    pdf = card.card_pdf(account)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") <= 1
    assert b"/Count 1" in pdf
    assert b"/MediaBox [ 0 0 595.2 841.92 ]" in pdf  # A4 (595 x 842 pt): 2480 x 3508 px at 300 dpi
