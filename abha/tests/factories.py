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
