import factory

from abha.enums import Gender
from abha.models import AbhaAccount, AbhaAddress
from core.tests.factories import BHAVNAGAR, UserFactory


def _number(n: int) -> str:
    # Test data only: the portal mints no ABHA numbers (ABDM issues them); 14 digits is all the portal checks.
    return f"91{n + 10**10:012d}"[:14]


class AbhaAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AbhaAccount
        skip_postgeneration_save = True

    abha_number = factory.Sequence(_number)
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..abha_number"))
    first_name = "Asha"
    last_name = factory.Sequence(lambda n: f"Patel{n}")
    gender = Gender.FEMALE
    year_of_birth = 1990
    mobile = "9876543210"
    state_id = 24
    district_id = BHAVNAGAR
    address = "12 Station Road, Bhavnagar"
    pincode = "364001"
    consent_version = "2025-04"

    @factory.post_generation
    def default_address(self, create, extracted, **kwargs):
        if create:
            AbhaAddress.objects.create(account=self, local=self.abha_number, is_primary=True)


def known_to_sandbox(sandbox, *accounts: AbhaAccount) -> list[dict]:
    """The ABDM sandbox's ABHA registry gets these factory accounts (its bulk helper: same number, name, gender,
    year, mobile and district); what it answers per account (its `preferredAbhaAddress` among others)."""
    answer = sandbox.post(
        "abha/accounts/bulk",
        {
            "accounts": [
                {
                    "abhaNumber": account.abha_number,
                    "firstName": account.first_name,
                    "lastName": account.last_name or "",
                    "gender": account.gender if account.gender in ("M", "F", "O") else "O",
                    "yearOfBirth": account.year_of_birth or 1990,
                    "mobile": account.mobile,
                    "districtCode": str(account.district_id or ""),
                }
                for account in accounts
            ]
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["accounts"]


def give_abdm_session(account: AbhaAccount, sandbox) -> AbhaAccount:
    """Makes a factory account an ABHA the ABDM sandbox knows (`known_to_sandbox`) and
    signs it in through ABDM's login, so the portal keeps an ABDM user token for it (the card, the profile)."""
    from abdm import m1
    from abha.services import tokens_store

    known_to_sandbox(sandbox, account)
    sent = m1.login_request_otp(abha_number=account.abha_number)
    result = m1.login_verify(txn_id=sent.txn_id, otp=sandbox.last_otp(account.mobile))
    tokens_store(account, result.tokens)
    return account
