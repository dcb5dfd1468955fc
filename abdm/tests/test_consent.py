"""abdm.consent: the M3 bodies as hiecm-m3.yaml writes them (the sandbox checks them against its schemas over HTTP
in records/tests/test_hiu_sandbox.py; here their shapes and the spec's fixed values)."""

import datetime as dt

from abdm import consent as m3
from abdm import fidelius

MOMENT = dt.datetime(2026, 9, 28, 12, 30, 8, 573000, tzinfo=dt.UTC)


def test_date_times_are_utc_with_milliseconds_and_z():
    assert m3.iso(MOMENT) == "2026-09-28T12:30:08.573Z"
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert m3.iso(MOMENT.astimezone(india)) == "2026-09-28T12:30:08.573Z"


def test_init_body_carries_abdms_purpose_text_and_every_permission_field():
    body = m3.init_body(
        purpose="BTG", patient_address="asha@sbx", hiu_id="IN2410000001", hiu_name="Sihor CHC",
        requester_name="Dr Mehta", requester_id="71-0000-0000-0001", requester_id_type="HPR",
        requester_system="https://hpr.abdm.gov.in", hi_types=["Invoice", "Prescription"], access_mode="VIEW",
        date_from=MOMENT - dt.timedelta(days=30), date_to=MOMENT, data_erase_at=MOMENT + dt.timedelta(minutes=5),
        frequency={"unit": "HOUR", "value": 1, "repeats": 0}, hip_id="IN2410000002", hip_name="Sir T",
    )  # fmt: skip
    consent = body["consent"]
    assert consent["purpose"] == {"text": "Break the Glass", "code": "BTG", "refUri": m3.PURPOSE_REF_URI}
    assert consent["hiu"] == {"id": "IN2410000001", "name": "Sihor CHC", "type": "HIU"}
    assert consent["hip"] == {"id": "IN2410000002", "name": "Sir T", "type": "HIP"}
    assert consent["hiTypes"] == ["Invoice", "Prescription"]
    assert consent["permission"] == {
        "accessMode": "VIEW",
        "dateRange": {"from": "2026-08-29T12:30:08.573Z", "to": "2026-09-28T12:30:08.573Z"},
        "dataEraseAt": "2026-09-28T12:35:08.573Z",
        "frequency": {"unit": "HOUR", "value": 1, "repeats": 0},
    }
    assert "careContexts" not in consent
    assert set(m3.PURPOSES) == {"CAREMGT", "BTG", "PUBHLTH", "HPAYMT", "DSRCH", "PATRQT"}
    assert "Invoice" in m3.HI_TYPES and len(m3.HI_TYPES) == 8


def test_health_information_request_names_the_fidelius_key_material():
    keys = fidelius.generate_key_material()
    body = m3.hi_request_body(
        artefact_id="e3c74829-3f82-4f94-959e-e10f57bcd57b", date_from=MOMENT, date_to=MOMENT,
        data_push_url="https://portal.example/records/hiu/data-push/", public_key=keys.public_key, nonce=keys.nonce,
        key_expiry=MOMENT,
    )  # fmt: skip
    material = body["hiRequest"]["keyMaterial"]
    assert material["cryptoAlg"] == "ECDH" and material["curve"] == "Curve25519"
    assert material["dhPublicKey"] == {
        "expiry": "2026-09-28T12:30:08.573Z",
        "parameters": "Curve25519/32byte random key",
        "keyValue": keys.public_key,
    }
    assert material["nonce"] == keys.nonce
    assert body["hiRequest"]["consent"] == {"id": "e3c74829-3f82-4f94-959e-e10f57bcd57b"}


def test_acknowledgements_and_the_transfer_notification():
    ok = m3.on_notify_body(consent_ids=["a", "b"], request_id="r1")
    assert ok == {"acknowledgement": [{"status": "OK", "consentId": "a"}, {"status": "OK", "consentId": "b"}],
                  "response": {"requestId": "r1"}}  # fmt: skip
    refused = m3.on_notify_body(consent_ids=["a"], request_id="r1", error=("ABDM-1001", "No data"))
    assert refused["acknowledgement"][0]["status"] == "ERROR" and refused["error"]["code"] == "ABDM-1001"
    notice = m3.hi_notify_body(
        artefact_id="c", transaction_id="t", hiu_id="IN1", hip_id="IN2", received=False,
        statuses=[("CC-1", True, "Data received successfully"), ("CC-2", False, "decryption: no")], done_at=MOMENT,
    )["notification"]  # fmt: skip
    assert notice["notifier"] == {"type": "HIU", "id": "IN1"}
    assert notice["statusNotification"]["sessionStatus"] == "FAILED"
    assert [s["hiStatus"] for s in notice["statusNotification"]["statusResponses"]] == ["OK", "ERRORED"]
