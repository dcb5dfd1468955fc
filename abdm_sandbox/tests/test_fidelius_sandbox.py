"""The sandbox's own Fidelius (abdm_sandbox/fidelius.py) against the published vector of mgrmtech/fidelius-cli's
README (ABDM's reference implementation, Java on BouncyCastle), and against the portal's independent implementation
(abdm/fidelius.py) in both directions, so an HIP in the portal and the sandbox's HIU read each other.

Both modules are plain functions over `cryptography`: importing them loads no models of either project."""

import base64
import json

import pytest

from abdm import fidelius as portal
from abdm_sandbox import fidelius

# fidelius-cli README, "Key Material Generation" (requester, then sender), "Encryption" and "Decryption".
REQUESTER_PRIVATE = "DMxHPri8d7IT23KgLk281zZenMfVHSdeamq0RhwlIBk="
REQUESTER_PUBLIC = "BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y="
REQUESTER_X509 = (
    "MIIBMTCB6gYHKoZIzj0CATCB3gIBATArBgcqhkjOPQEBAiB/////////////////////////////////////////7TBEBCAqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqqqqqqqqqqYSRShRAQge0Je0Je0Je0Je0Je0Je0Je0Je0Je0Je0JgtenHcQyGQEQQQqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
    "qqqqqq0kWiCuGaG4oIa04B7dLHdI0UySPU1+bXxhsinpxaJ+ztPZAiAQAAAAAAAAAAAAAAAAAAAAFN753qL3nNZYEmMaXPXT7QIBCANCAAQIXg"
    "+a1Kk8uFecUeP+h1pmKaKbuQjvijvARAktLnTalE0jaPdUyKiCMtQOFYfhfeHPp/bwHMF1NmxnH7COX+vW"
)
REQUESTER_NONCE = "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg="
SENDER_PRIVATE = "AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4="
SENDER_PUBLIC = "BABVt+mpRLMXiQpIfEq6bj8hlXsdtXIxLsspmMgLNI1SR5mHgDVbjHO2A+U4QlMddGzqyEidzm1AkhtSxSO2Ahg="
SENDER_NONCE = "lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y="
# The README's command line says "...have been the Potter cottage's...", but its ciphertext (whose GCM tag
# authenticates the plaintext) is of this sentence.
PLAINTEXT = "Wormtail should never have been Potter cottage's secret keeper."
CIPHERTEXT = (
    "pzMvVZNNVtJzqPkkxcCbBUWgDEBy/mBXIeT2dJWI16ZAQnnXUb9lI+S4k8XK6mgZSKKSRIHkcNvJpllnBg548wUgavBa0vCRRwdL6kY6Yw=="
)


def test_public_keys_follow_from_the_published_private_keys():
    for private, public in ((REQUESTER_PRIVATE, REQUESTER_PUBLIC), (SENDER_PRIVATE, SENDER_PUBLIC)):
        scalar = fidelius.decode_private_key(private)
        assert fidelius.public_key_of(scalar) == public
        assert fidelius.encode_private_key(scalar) == private  # BigInteger.toByteArray()


def test_encrypting_the_published_vector_gives_the_published_ciphertext():
    for requester_key in (REQUESTER_PUBLIC, REQUESTER_X509):
        sent = fidelius.encrypt(
            PLAINTEXT,
            private_key=fidelius.decode_private_key(SENDER_PRIVATE),
            nonce=SENDER_NONCE,
            peer_public_key=requester_key,
            peer_nonce=REQUESTER_NONCE,
        )
        assert sent == CIPHERTEXT


def test_decrypting_the_published_ciphertext_gives_the_sentence():
    opened = fidelius.decrypt(
        CIPHERTEXT,
        private_key=fidelius.decode_private_key(REQUESTER_PRIVATE),
        nonce=REQUESTER_NONCE,
        peer_public_key=SENDER_PUBLIC,
        peer_nonce=SENDER_NONCE,
    )
    assert opened == PLAINTEXT


def test_the_portal_encrypts_what_the_sandbox_decrypts_and_back():
    bundle = json.dumps({"resourceType": "Bundle", "type": "document", "note": "नमस्ते, કેમ છો"}, ensure_ascii=False)
    for _ in range(5):
        hiu = fidelius.new_key_pair()  # the sandbox's HIU asks
        hip = portal.generate_key_material()  # the portal's HIP answers
        for hiu_key in (hiu.public_key, base64.b64encode(_x509(hiu.public_key)).decode()):
            sealed = portal.encrypt(
                bundle,
                sender_private_key=hip.private_key,
                sender_nonce=hip.nonce,
                requester_public_key=hiu_key,
                requester_nonce=hiu.nonce,
            )
            assert (
                fidelius.decrypt(
                    sealed,
                    private_key=hiu.private_key,
                    nonce=hiu.nonce,
                    peer_public_key=hip.public_key,
                    peer_nonce=hip.nonce,
                )
                == bundle
            )
        # And the other way: the sandbox as the sender, the portal as the requester (its X.509 form too).
        sealed = fidelius.encrypt(
            bundle,
            private_key=hiu.private_key,
            nonce=hiu.nonce,
            peer_public_key=hip.x509_public_key,
            peer_nonce=hip.nonce,
        )
        opened = portal.decrypt(
            sealed,
            requester_private_key=hip.private_key,
            requester_nonce=hip.nonce,
            sender_public_key=hiu.public_key,
            sender_nonce=hiu.nonce,
        )
        assert opened == bundle
        assert portal.public_key_for(fidelius.encode_private_key(hiu.private_key)) == hiu.public_key


def _x509(public_key: str) -> bytes:
    """The sandbox key in BouncyCastle's X.509 form: the README's requester key with its point swapped."""
    prefix = base64.b64decode(REQUESTER_X509)[:-64]
    return prefix + base64.b64decode(public_key)[1:]


def test_a_ciphertext_for_someone_else_does_not_open():
    stranger = fidelius.new_key_pair()
    with pytest.raises(fidelius.FideliusError):
        fidelius.decrypt(
            CIPHERTEXT,
            private_key=stranger.private_key,
            nonce=REQUESTER_NONCE,
            peer_public_key=SENDER_PUBLIC,
            peer_nonce=SENDER_NONCE,
        )


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not base64!",
        base64.b64encode(b"\x04" + bytes(64)).decode(),  # (0, 0) is not on the curve
        base64.b64encode(bytes(32)).decode(),  # an X25519-style raw 32-byte key
        base64.b64encode(b"\x02" + base64.b64decode(REQUESTER_PUBLIC)[1:33]).decode(),  # compressed
        # (A/3, 0) is on the curve but of order 2: a low-order point must be refused.
        base64.b64encode(
            b"\x04" + ((486662 * pow(3, -1, 2**255 - 19)) % (2**255 - 19)).to_bytes(32, "big") + bytes(32)
        ).decode(),
        base64.b64encode(
            base64.b64decode(REQUESTER_X509)[:-65] + b"\x05" + base64.b64decode(REQUESTER_X509)[-64:]
        ).decode(),
    ],
)
def test_malformed_public_keys_are_refused(key):
    with pytest.raises(fidelius.FideliusError):
        fidelius.decode_public_key(key)


def test_nonces_must_be_32_bytes():
    with pytest.raises(fidelius.FideliusError):
        fidelius.encrypt(
            "x",
            private_key=fidelius.decode_private_key(SENDER_PRIVATE),
            nonce=base64.b64encode(bytes(16)).decode(),
            peer_public_key=REQUESTER_PUBLIC,
            peer_nonce=REQUESTER_NONCE,
        )
