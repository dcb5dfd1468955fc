"""The sandbox's ABHA helper endpoints (/sandbox/v1/abha/, not ABDM's contract): residents and the demo's bulk
accounts, which then behave as any ABHA does."""

import time

import pytest

from abdm_sandbox.abha.testing import AbhaClient, fresh_mobile, invalid_aadhaar, valid_aadhaar


@pytest.fixture(scope="module")
def abha(abdm_sandbox):
    return AbhaClient(abdm_sandbox)


def _rows(count: int) -> list[dict]:
    return [
        {
            "name": f"Demo Citizen {i}",
            "gender": "MF"[i % 2],
            "yearOfBirth": 1950 + i % 60,
            "mobile": fresh_mobile(),
            "stateCode": "24",
            "districtCode": "459",
            "districtName": "Surat",
            "pincode": "395003",
        }
        for i in range(count)
    ]


def test_bulk_creates_thousands_of_accounts_with_random_numbers_quickly(abdm_sandbox):
    started = time.monotonic()
    answer = abdm_sandbox.post("abha/accounts/bulk", json={"accounts": _rows(3000)}, timeout=120)
    elapsed = time.monotonic() - started
    assert answer.status_code == 201, answer.text
    accounts = answer.json()["accounts"]
    assert len(accounts) == 3000
    numbers = [a["abhaNumber"] for a in accounts]
    assert len(set(numbers)) == 3000
    assert all(len(n) == 14 and n.isdigit() and n.startswith("91") for n in numbers)
    assert all(a["preferredAbhaAddress"] == a["abhaNumber"] + "@sbx" for a in accounts)
    assert all(
        a["ABHANumber"] == f"{n[:2]}-{n[2:6]}-{n[6:10]}-{n[10:]}" for a, n in zip(accounts, numbers, strict=True)
    )
    ordered = [int(n) for n in numbers]
    assert sum(1 for a, b in zip(ordered, ordered[1:], strict=False) if b == a + 1) == 0  # never sequential
    assert elapsed < 30


def test_a_bulk_account_signs_in_by_abha_number_and_keeps_a_given_address(abha, abdm_sandbox):
    mobile = fresh_mobile()
    row = {
        "name": "Payal Natvarlal Gohil",
        "gender": "F",
        "dob": "1995-08-15",
        "mobile": mobile,
        "abhaAddress": f"payal.gohil{mobile[-4:]}",
        "districtCode": "457",
        "districtName": "Rajkot",
    }
    created = abdm_sandbox.post("abha/accounts/bulk", json={"accounts": [row]}).json()["accounts"][0]
    assert created["preferredAbhaAddress"] == f"payal.gohil{mobile[-4:]}@sbx"
    sent = abha.login_request("abha-number", created["ABHANumber"])
    assert sent.status_code == 200, sent.text
    verified = abha.login_verify(sent.json()["txnId"], abdm_sandbox.last_otp(mobile))
    assert verified.json()["accounts"][0]["ABHANumber"] == created["ABHANumber"]
    profile = abha.call("GET", "/v3/profile/account", x_token=verified.json()["token"]).json()
    assert (profile["name"], profile["dayOfBirth"], profile["districtName"]) == (
        "Payal Natvarlal Gohil",
        "15",
        "RAJKOT",
    )
    # no Aadhaar behind it: Aadhaar OTP is not a way in
    refused = abha.login_request("abha-number", created["ABHANumber"], system="aadhaar")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "ABDM-1119"


def test_bulk_refuses_a_bad_row_and_an_issued_number(abdm_sandbox):
    bad = abdm_sandbox.post("abha/accounts/bulk", json={"accounts": [{"name": "No Gender", "yearOfBirth": 1990}]})
    assert bad.status_code == 400 and "accounts[0]" in bad.json()["error"]["message"]
    first = abdm_sandbox.post("abha/accounts/bulk", json={"accounts": _rows(1)}).json()["accounts"][0]
    again = abdm_sandbox.post(
        "abha/accounts/bulk", json={"accounts": [{**_rows(1)[0], "abhaNumber": first["abhaNumber"]}]}
    )
    assert again.status_code == 400


def test_a_defined_resident_replaces_the_made_up_one(abha, abdm_sandbox):
    aadhaar = valid_aadhaar()
    made_up = abdm_sandbox.post("abha/residents/lookup", json={"aadhaar": aadhaar}).json()
    assert made_up["generated"] is True and made_up["stateCode"] == "24"
    mobile = fresh_mobile()
    defined = abdm_sandbox.post(
        "abha/residents",
        json={
            "aadhaar": aadhaar,
            "name": "Falguni Babubhai Dave",
            "gender": "F",
            "dob": "2001-02-03",
            "mobile": mobile,
        },
    )
    assert defined.status_code == 200 and defined.json() == {
        "aadhaarLast4": aadhaar[-4:],
        "mobile": mobile,
        "created": False,
    }
    sent = abha.aadhaar_otp(aadhaar)
    assert sent.json()["message"].endswith(mobile[-4:])


def test_residents_refuse_an_invalid_aadhaar(abdm_sandbox):
    answer = abdm_sandbox.post(
        "abha/residents",
        json={
            "aadhaar": invalid_aadhaar(),
            "name": "X Y",
            "gender": "M",
            "dob": "1990-01-01",
            "mobile": fresh_mobile(),
        },
    )
    assert answer.status_code == 400
    assert "Aadhaar" in answer.json()["error"]["message"]
