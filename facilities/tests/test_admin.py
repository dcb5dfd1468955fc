"""The admin cannot add a facility or a professional, move one to another district, nor change a status: the
services are the only write path for both, and they keep the dashboard counters (core.counters) in step."""

import pytest

from core.tests.factories import UserFactory
from facilities.models import Facility
from facilities.tests.factories import FacilityFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_an_existing_facilitys_district_and_status_are_read_only_in_the_admin(superuser_client):
    facility = FacilityFactory(district_id=443)
    page = superuser_client.get(f"/admin/facilities/facility/{facility.pk}/change/")
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert "district" not in fields and "status" not in fields
    assert "name" in fields  # other details stay editable
    assert {"district", "status"} <= set(page.context["adminform"].readonly_fields)
    # A posted district is ignored: the form has no such field.
    form = page.context["adminform"].form.__class__(
        data={"district": 438, "status": "draft"}, instance=Facility.objects.get(pk=facility.pk)
    )
    assert "district" not in form.fields and "status" not in form.fields


def test_facilities_and_professionals_are_not_added_in_the_admin(superuser_client):
    """They register in the portal, whose services count them; an admin-made row would be missing from the
    dashboards."""
    for model in ("facility", "professional"):
        assert superuser_client.get(f"/admin/facilities/{model}/add/").status_code == 403
        changelist = superuser_client.get(f"/admin/facilities/{model}/")
        assert changelist.status_code == 200 and not changelist.context["has_add_permission"]


def test_an_existing_professionals_district_is_read_only_in_the_admin(superuser_client):
    professional = ProfessionalFactory()
    page = superuser_client.get(f"/admin/facilities/professional/{professional.pk}/change/")
    assert page.status_code == 200
    assert "district" not in page.context["adminform"].form.fields
