import factory

from core.enums import Role
from core.models import District, User

BHAVNAGAR = 443
AHMADABAD = 438


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    role = Role.CITIZEN
    password = factory.django.Password("correct-horse-battery")


class DistrictOfficerFactory(UserFactory):
    role = Role.DISTRICT_OFFICER
    is_staff = True

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        if create:
            self.districts.set(extracted or [District.objects.get(lgd_code=BHAVNAGAR)])


class StateOfficialFactory(UserFactory):
    role = Role.STATE_OFFICIAL
    is_staff = True
