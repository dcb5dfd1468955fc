"""The ABHA card is ABDM's (m1_profile_get_abha_card, the sandbox over HTTP): passed on as ABDM sends it, its QR
read by an independent reader (zxing-cpp), and put on a printable A4 page."""

import io
import json
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from abdm import m1
from abha import card, services
from abha.models import AbhaAccount

from .conftest import new_mobile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]
OUT = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _decode(png: bytes) -> dict:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    qr = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(qr) == 1
    return json.loads(qr[0].text)


@pytest.fixture
def enrolled(otp_api):
    body = otp_api.enrol(abha_address=f"asha.c{new_mobile()[-7:]}")
    return AbhaAccount.objects.get(abha_number=body["abha_number"].replace("-", ""))


def test_the_card_is_abdms_and_its_qr_names_the_abha(enrolled):
    abdm_card = services.account_card(account=enrolled)
    assert abdm_card.content_type == "image/png" and abdm_card.content.startswith(b"\x89PNG")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "abha-card-abdm.png").write_bytes(abdm_card.content)
    payload = _decode(abdm_card.content)
    assert payload["hidn"] == enrolled.abha_number_display
    assert payload["hid"] == enrolled.primary_address.full


def test_the_pdf_is_abdms_card_on_one_a4_page(enrolled):
    pdf = card.as_pdf(services.account_card(account=enrolled))
    assert pdf.startswith(b"%PDF")
    assert b"/Count 1" in pdf
    assert b"/MediaBox [ 0 0 595.2 841.92 ]" in pdf  # A4 (595 x 842 pt): 2480 x 3508 px at 300 dpi


def test_a_pdf_from_abdm_is_passed_on_as_it_is():
    assert card.as_pdf(m1.AbhaCard(content=b"%PDF-1.4 abdm", content_type="application/pdf")) == b"%PDF-1.4 abdm"


def test_a_card_after_the_refresh_token_expired_asks_to_sign_in_again(enrolled):
    AbhaAccount.objects.filter(pk=enrolled.pk).update(abdm_token="", abdm_refresh_token="")
    enrolled.refresh_from_db()
    with pytest.raises(m1.TokenExpired):
        services.account_card(account=enrolled)


def test_abdm_not_answering_for_the_card_is_said_in_plain_words(enrolled, private_abdm_sandbox, settings, client):
    sandbox = private_abdm_sandbox()
    settings.ABDM_GATEWAY_URL, settings.ABDM_ABHA_URL = sandbox.url, sandbox.url + "/abha/api"
    sandbox.stop()
    client.force_login(enrolled.user)
    response = client.get("/abha/me/card.png")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.content.decode() == "ABDM is not answering. Please try again in a minute."
