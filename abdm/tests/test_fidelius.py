"""Fidelius against ABDM's reference implementation: the published vector of mgrmtech/fidelius-cli's README (Java on
BouncyCastle, the implementation ABDM's integrators use), key encodings, and refusals of malformed key material."""

import base64

import pytest

from abdm import fidelius

# fidelius-cli README, "Key Material Generation": the requester's and the sender's key material.
REQUESTER = {
    "private_key": "DMxHPri8d7IT23KgLk281zZenMfVHSdeamq0RhwlIBk=",
    "public_key": "BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y=",
    "nonce": "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg=",
}
SENDER = {
    "private_key": "AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4=",
    "public_key": "BABVt+mpRLMXiQpIfEq6bj8hlXsdtXIxLsspmMgLNI1SR5mHgDVbjHO2A+U4QlMddGzqyEidzm1AkhtSxSO2Ahg=",
    "nonce": "lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y=",
}
SENDER_X509 = (
    "MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
    "qqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQAVb"
    "fpqUSzF4kKSHxKum4/IZV7HbVyMS7LKZjICzSNUkeZh4A1W4xztgPlOEJTHXRs6shInc5tQJIbUsUjtgIY"
)
# README, "Encryption" / "Decryption". The command line there shows "...have been the Potter cottage's...", but the
# published ciphertext is of the sentence without "the": the GCM tag authenticates this plaintext, not that one.
PLAINTEXT = "Wormtail should never have been Potter cottage's secret keeper."
CIPHERTEXT = (
    "pzMvVZNNVtJzqPkkxcCbBUWgDEBy/mBXIeT2dJWI16ZAQnnXUb9lI+S4k8XK6mgZSKKSRIHkcNvJpllnBg548wUgavBa0vCRRwdL6kY6Yw=="
)


def _encrypt_vector(plaintext=PLAINTEXT, **changes):
    arguments = {
        "sender_private_key": SENDER["private_key"],
        "sender_nonce": SENDER["nonce"],
        "requester_public_key": REQUESTER["public_key"],
        "requester_nonce": REQUESTER["nonce"],
        **changes,
    }
    return fidelius.encrypt(plaintext, **arguments)


def test_the_curve_is_bouncycastles_curve25519_in_weierstrass_form():
    assert fidelius.A == 0x2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA984914A144
    assert fidelius.B == 0x7B425ED097B425ED097B425ED097B425ED097B425ED097B4260B5E9C7710C864
    assert fidelius.GX == 0x2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD245A
    assert fidelius._multiply(fidelius.N, fidelius.G) is None  # G has order N


def test_public_keys_of_the_published_key_material():
    assert fidelius.public_key_for(REQUESTER["private_key"]) == REQUESTER["public_key"]
    assert fidelius.public_key_for(SENDER["private_key"]) == SENDER["public_key"]
    material = fidelius.KeyMaterial(**SENDER)
    assert material.x509_public_key == SENDER_X509


def test_encrypting_the_published_vector_gives_the_published_ciphertext():
    assert _encrypt_vector() == CIPHERTEXT


def test_the_published_ciphertext_decrypts_with_either_key_encoding():
    for sender_public_key in (SENDER["public_key"], SENDER_X509):
        plaintext = fidelius.decrypt(
            CIPHERTEXT,
            requester_private_key=REQUESTER["private_key"],
            requester_nonce=REQUESTER["nonce"],
            sender_public_key=sender_public_key,
            sender_nonce=SENDER["nonce"],
        )
        assert plaintext == PLAINTEXT


def test_a_requester_key_in_x509_form_encrypts_the_same():
    requester_x509 = fidelius.KeyMaterial(**REQUESTER).x509_public_key
    assert _encrypt_vector(requester_public_key=requester_x509) == CIPHERTEXT


def test_fresh_key_material_round_trips_unicode_json():
    hip, hiu = fidelius.generate_key_material(), fidelius.generate_key_material()
    assert len(base64.b64decode(hip.public_key)) == 65 and len(base64.b64decode(hip.nonce)) == 32
    bundle = '{"resourceType": "Bundle", "note": "ગુજરાત हिन्दी"}'
    ciphertext = fidelius.encrypt(
        bundle,
        sender_private_key=hip.private_key,
        sender_nonce=hip.nonce,
        requester_public_key=hiu.public_key,
        requester_nonce=hiu.nonce,
    )
    decrypted = fidelius.decrypt(
        ciphertext,
        requester_private_key=hiu.private_key,
        requester_nonce=hiu.nonce,
        sender_public_key=hip.public_key,
        sender_nonce=hip.nonce,
    )
    assert decrypted == bundle


def test_a_tampered_ciphertext_or_a_wrong_nonce_does_not_decrypt():
    tampered = base64.b64encode(bytes([base64.b64decode(CIPHERTEXT)[0] ^ 1]) + base64.b64decode(CIPHERTEXT)[1:])
    for ciphertext, nonce in ((tampered.decode(), SENDER["nonce"]), (CIPHERTEXT, REQUESTER["nonce"])):
        with pytest.raises(fidelius.FideliusError):
            fidelius.decrypt(
                ciphertext,
                requester_private_key=REQUESTER["private_key"],
                requester_nonce=REQUESTER["nonce"],
                sender_public_key=SENDER["public_key"],
                sender_nonce=nonce,
            )


def _point_off_the_curve() -> str:
    raw = bytearray(base64.b64decode(REQUESTER["public_key"]))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _low_order_point() -> str:
    """The point of order 2 (Montgomery u = 0 is x = A/3 here, y = 0): on the curve, outside the prime-order group."""
    point = (486662 * pow(3, -1, fidelius.P) % fidelius.P, 0)
    assert fidelius._on_curve(*point)
    return fidelius.encode_point(point)


@pytest.mark.parametrize(
    "public_key",
    [
        "",
        "not base64!",
        base64.b64encode(b"\x09" + bytes(31)).decode(),  # a raw 32-byte X25519 key: not this scheme's encoding
        base64.b64encode(b"\x02" + bytes(32)).decode(),  # compressed points are not used by ABDM
        "off-curve",
        "low-order",
    ],
)
def test_malformed_requester_keys_are_refused(public_key):
    public_key = {"off-curve": _point_off_the_curve(), "low-order": _low_order_point()}.get(public_key, public_key)
    with pytest.raises(fidelius.FideliusError):
        _encrypt_vector(requester_public_key=public_key)


@pytest.mark.parametrize("nonce", ["", "AAAA", base64.b64encode(bytes(16)).decode(), "%%%"])
def test_malformed_requester_nonces_are_refused(nonce):
    with pytest.raises(fidelius.FideliusError):
        _encrypt_vector(requester_nonce=nonce)
