"""abdm.m1 against the local ABDM sandbox over HTTP (it decrypts what m1 encrypts, and refuses what the spec refuses),
and m1's reading of ABDM's answers and error codes."""

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.cache import cache

from abdm import m1
from abdm.client import AbdmError, AbdmUnavailable
from abha.tests.conftest import define_resident, new_mobile

pytestmark = pytest.mark.django_db


def _enrolled(sandbox, **fields):
    person = define_resident(sandbox, **fields)
    sent = m1.enrol_request_aadhaar_otp(aadhaar=person.aadhaar)
    return (
        person,
        sent,
        m1.enrol_by_aadhaar(txn_id=sent.txn_id, otp=sandbox.last_otp(person.mobile), mobile=person.mobile),
    )


def test_the_aadhaar_otp_journey_creates_an_abha_and_its_address(abdm_sandbox):
    person, sent, enrolment = _enrolled(abdm_sandbox)
    assert sent.txn_id and sent.masked_mobile == "******" + person.mobile[-4:]
    assert enrolment.is_new and enrolment.tokens.token and enrolment.tokens.refresh_token
    profile = enrolment.profile
    assert len(profile.abha_number) == 14 and profile.abha_number.isdigit()
    assert (profile.first_name, profile.last_name, profile.gender) == ("Asha", "Patel", "F")
    assert (profile.year_of_birth, profile.month_of_birth, profile.day_of_birth) == (1990, 5, 23)
    assert (profile.state_lgd, profile.district_lgd, profile.pincode) == (24, 443, "364001")
    assert profile.preferred_address == profile.abha_number  # the default <number>@sbx, suffix removed
    suggestions = m1.address_suggestions(txn_id=enrolment.txn_id)
    assert len(suggestions) >= 3 and all("@" not in s for s in suggestions)
    wanted = f"asha.m{new_mobile()[-7:]}"
    assert m1.enrol_abha_address(txn_id=enrolment.txn_id, local=wanted) == wanted
    account = m1.profile_get(x_token=enrolment.tokens.token)
    assert account.abha_number == profile.abha_number and account.preferred_address == wanted


def test_the_same_aadhaar_again_returns_the_existing_abha(abdm_sandbox):
    person, _sent, first = _enrolled(abdm_sandbox)
    sent = m1.enrol_request_aadhaar_otp(aadhaar=person.aadhaar)
    again = m1.enrol_by_aadhaar(txn_id=sent.txn_id, otp=abdm_sandbox.last_otp(person.mobile), mobile=person.mobile)
    assert again.is_new is False and again.profile.abha_number == first.profile.abha_number


def test_another_mobile_is_verified_with_abdms_otp(abdm_sandbox):
    person = define_resident(abdm_sandbox)
    other = new_mobile()
    sent = m1.enrol_request_aadhaar_otp(aadhaar=person.aadhaar)
    enrolment = m1.enrol_by_aadhaar(txn_id=sent.txn_id, otp=abdm_sandbox.last_otp(person.mobile), mobile=other)
    mobile_otp = m1.enrol_request_mobile_otp(txn_id=enrolment.txn_id, mobile=other)
    with pytest.raises(m1.DomainError) as wrong:
        m1.enrol_verify_mobile_otp(txn_id=mobile_otp.txn_id, otp="000000")
    assert wrong.value.code == "otp_invalid" and wrong.value.fields == {"otp": [m1.WRONG_OTP]}
    assert m1.enrol_verify_mobile_otp(txn_id=mobile_otp.txn_id, otp=abdm_sandbox.last_otp(other))


def test_abdm_refusals_become_portal_errors_in_plain_words(abdm_sandbox):
    person = define_resident(abdm_sandbox)
    sent = m1.enrol_request_aadhaar_otp(aadhaar=person.aadhaar)
    with pytest.raises(m1.DomainError) as wrong:
        m1.enrol_by_aadhaar(txn_id=sent.txn_id, otp="000000", mobile=person.mobile)
    assert (wrong.value.code, wrong.value.status) == ("otp_invalid", 400)
    _person, _sent, first = _enrolled(abdm_sandbox)
    taken = f"asha.x{new_mobile()[-7:]}"
    m1.enrol_abha_address(txn_id=first.txn_id, local=taken)
    _person, _sent, second = _enrolled(abdm_sandbox)
    with pytest.raises(m1.DomainError) as refused:
        m1.enrol_abha_address(txn_id=second.txn_id, local=taken)
    assert (refused.value.code, refused.value.status) == ("abha_address_taken", 409)
    assert refused.value.fields == {"abha_address": [m1.ADDRESS_TAKEN]}
    with pytest.raises(m1.DomainError) as expired:
        m1.address_suggestions(txn_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert expired.value.code == "txn_expired"


def test_login_by_abha_number_then_card_and_token_refresh(abdm_sandbox):
    person, _sent, enrolment = _enrolled(abdm_sandbox)
    sent = m1.login_request_otp(abha_number=enrolment.profile.abha_number)
    result = m1.login_verify(txn_id=sent.txn_id, otp=abdm_sandbox.last_otp(person.mobile))
    assert result.tokens.token and [a.abha_number for a in result.accounts] == [enrolment.profile.abha_number]
    card = m1.abha_card(x_token=result.tokens.token)
    assert card.content_type == "image/png" and card.content.startswith(b"\x89PNG")
    fresh = m1.token_refresh(refresh_token=result.tokens.refresh_token)
    assert fresh.token and m1.profile_get(x_token=fresh.token).abha_number == enrolment.profile.abha_number
    with pytest.raises(m1.TokenExpired):
        m1.profile_get(x_token="not-a-token")


def test_a_shared_mobile_lists_its_abhas_and_one_is_chosen_with_the_transaction_token(abdm_sandbox):
    family = new_mobile()
    _, _, mother = _enrolled(abdm_sandbox, mobile=family)
    _, _, son = _enrolled(abdm_sandbox, mobile=family, name="Ravi Patel", gender="M")
    sent = m1.login_request_otp(mobile=family)
    listed = m1.login_verify(txn_id=sent.txn_id, otp=abdm_sandbox.last_otp(family))
    numbers = {a.abha_number for a in listed.accounts}
    assert numbers == {mother.profile.abha_number, son.profile.abha_number}
    tokens = m1.login_verify_user(
        txn_id=listed.txn_id, abha_number=son.profile.abha_number, t_token=listed.tokens.token
    )
    assert m1.profile_get(x_token=tokens.token).first_name == "Ravi"


def test_the_public_key_is_fetched_once_and_used_while_abdm_is_down(private_abdm_sandbox, settings):
    sandbox = private_abdm_sandbox()
    settings.ABDM_GATEWAY_URL, settings.ABDM_ABHA_URL = sandbox.url, sandbox.url + "/abha/api"
    key = m1.public_key()
    assert key.key_size >= 2048
    sandbox.stop()
    assert m1.public_key().public_numbers() == key.public_numbers()  # from the cache
    assert m1.encrypt("234123412346") != m1.encrypt("234123412346")  # OAEP: random padding every time
    cache.clear()
    with pytest.raises(m1.AbdmDown) as down:
        m1.public_key()
    assert (down.value.status, down.value.retry_after, down.value.code) == (503, 60, "abdm_unavailable")
    assert str(down.value.message) == "ABDM is not answering. Please try again in a minute."


def test_a_bare_base64_key_and_a_pem_key_read_alike(abdm_sandbox):
    pem = m1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    bare = "".join(pem.decode().strip().splitlines()[1:-1])
    assert m1._pem(bare) == m1._pem(pem.decode())


@pytest.mark.parametrize(
    "error, code, field",
    [
        (AbdmError("x", code="ABDM-1101", status=400), "abha_address_taken", "abha_address"),
        (AbdmError("x", code="ABDM-1124", status=422), "mobile_limit", "mobile"),
        (AbdmError("UIDAI Error code : 400 : Invalid OTP value", code="ABDM-1204", status=422), "otp_invalid", "otp"),
        (AbdmError("UIDAI Error code : 403 : attempts", code="ABDM-1204", status=422), "otp_expired", "otp"),
        (
            AbdmError("UIDAI Error code : 998 : Invalid Aadhaar", code="ABDM-1204", status=422),
            "aadhaar_invalid",
            "aadhaar",
        ),
        (AbdmError("Invalid OTP value", code="400", status=400, fields={"txnId": "t"}), "otp_invalid", "otp"),
        (AbdmError("Invalid OTP Value", code="400", status=400, fields={"otpValue": "x"}), "otp_invalid", "otp"),
        (AbdmError("Invalid Transaction Id", code="ABDM-1017", status=400), "txn_expired", None),
        (AbdmError("too many", code="ABDM-1100", status=429), "otp_locked", None),
        (AbdmError("something else", code="ABDM-1999", status=400), "abdm_refused", None),
        (AbdmUnavailable("down", code="unreachable"), "abdm_unavailable", None),
    ],
)
def test_abdm_codes_become_the_portals_codes(error, code, field):
    translated = m1._translate(error)
    assert translated.code == code
    assert (field in translated.fields) if field else not translated.fields


def test_profiles_of_both_answer_shapes_read_alike():
    enrol_shape = {
        "ABHANumber": "91-1234-5678-9012", "firstName": "Asha", "lastName": "Patel", "dob": "23-05-1990",
        "gender": "F", "mobile": "9876543210", "phrAddress": ["asha.patel@sbx", "91123456789012@sbx"],
        "districtCode": "443", "stateCode": "24", "pinCode": "364001", "abhaStatus": "ACTIVE",
    }  # fmt: skip
    profile_shape = {
        "ABHANumber": "91-1234-5678-9012", "preferredAbhaAddress": "asha.patel@sbx", "name": "Asha Patel",
        "firstName": "Asha", "lastName": "Patel", "yearOfBirth": "1990", "monthOfBirth": "05", "dayOfBirth": "23",
        "gender": "F", "mobile": "******3210", "districtCode": 443, "stateCode": 24, "pincode": "364001",
        "status": "ACTIVE",
    }  # fmt: skip
    one, other = m1.profile_from(enrol_shape), m1.profile_from(profile_shape)
    for name in ("abha_number", "first_name", "last_name", "year_of_birth", "month_of_birth", "day_of_birth"):
        assert getattr(one, name) == getattr(other, name)
    assert one.preferred_address == other.preferred_address == "asha.patel"
    assert (one.district_lgd, one.state_lgd) == (other.district_lgd, other.state_lgd) == (443, 24)
    assert one.mobile == "9876543210" and other.mobile == ""  # a masked mobile is no number
