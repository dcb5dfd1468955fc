import datetime

import factory

from core.models import District, State
from microsites.enums import Category
from microsites.models import Microsite


class MicrositeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Microsite
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Microsite {n}")
    state = factory.LazyFunction(lambda: State.objects.get(lgd_code=24))
    category = Category.B
    start_date = datetime.date(2025, 1, 1)
    deadline = datetime.date(2025, 10, 1)

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        if create:
            self.districts.set(District.objects.filter(lgd_code__in=extracted or [443]))
