"""Owner / colleague / outsider checks for the access module, per role."""

import pytest
from django.contrib.auth.models import AnonymousUser

from core import access
from core.enums import Role
from core.models import AuditEvent, District, PopulationFigure
from core.services import audit_record
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities.enums import MembershipRole
from facilities.models import Facility
from facilities.tests.factories import FacilityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    bhavnagar = District.objects.get(lgd_code=443)
    ahmadabad = District.objects.get(lgd_code=438)
    home = FacilityFactory(district=bhavnagar)
    other = FacilityFactory(district=ahmadabad)
    admin = MembershipFactory(facility=home, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user
    staff = MembershipFactory(facility=home, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF).user
    outsider_staff = MembershipFactory(facility=other, user__role=Role.FACILITY_STAFF).user
    return {
        "home": home,
        "other": other,
        "admin": admin,
        "staff": staff,
        "outsider_staff": outsider_staff,
        "officer": DistrictOfficerFactory(districts=[bhavnagar]),
        "wrong_officer": DistrictOfficerFactory(districts=[ahmadabad]),
        "state": StateOfficialFactory(),
        "citizen": UserFactory(role=Role.CITIZEN),
    }


def visible(user):
    return set(access.scope(user, Facility.objects.all()))


def test_facility_scope_per_role(world):
    home, other = world["home"], world["other"]
    assert visible(world["state"]) == {home, other}
    assert visible(world["officer"]) == {home}
    assert visible(world["wrong_officer"]) == {other}
    assert visible(world["admin"]) == {home}
    assert visible(world["staff"]) == {home}
    assert visible(world["outsider_staff"]) == {other}
    assert visible(world["citizen"]) == set()
    assert visible(AnonymousUser()) == set()


@pytest.mark.parametrize(
    "who, action, allowed",
    [
        ("officer", "verify", True),
        ("wrong_officer", "verify", False),
        ("state", "verify", True),
        ("admin", "verify", False),
        ("admin", "change", True),
        ("admin", "manage_team", True),
        ("staff", "change", False),
        ("staff", "act_for", True),
        ("outsider_staff", "act_for", False),
        ("outsider_staff", "view", False),
        ("citizen", "view", False),
    ],
)
def test_facility_rules(world, who, action, allowed):
    assert access.can(world[who], action, world["home"]) is allowed


def test_unknown_actions_and_anonymous_users_are_denied(world):
    assert access.can(world["state"], "launch_rockets", world["home"]) is False
    assert access.can(AnonymousUser(), "view", world["home"]) is False
    assert access.can(None, "view", world["home"]) is False


def test_deactivated_accounts_lose_access(world):
    officer = world["officer"]
    officer.is_active = False
    assert access.can(officer, "verify", world["home"]) is False
    assert visible(officer) == set()


def test_population_edits_are_for_state_officials_only(world):
    assert access.can(world["state"], "change", PopulationFigure) is True
    assert access.can(world["officer"], "change", PopulationFigure) is False
    assert access.can(world["officer"], "view", PopulationFigure) is True
    assert access.can(world["citizen"], "view", PopulationFigure) is False


def test_audit_rows_are_visible_to_state_officials_and_to_their_own_actor(world):
    own = audit_record(actor=world["staff"], action="x")
    foreign = audit_record(actor=world["admin"], action="y")
    assert set(access.scope(world["staff"], AuditEvent.objects.all())) == {own}
    assert set(access.scope(world["state"], AuditEvent.objects.all())) >= {own, foreign}


def test_admin_lists_only_the_officers_districts(world, client):
    client.force_login(world["officer"])
    page = client.get("/admin/facilities/facility/")
    assert page.status_code == 200
    assert world["home"].name.encode() in page.content
    assert world["other"].name.encode() not in page.content
    assert client.get(f"/admin/facilities/facility/{world['other'].pk}/change/").status_code in (302, 403, 404)


def test_facility_staff_have_no_admin(world, client):
    client.force_login(world["staff"])
    assert client.get("/admin/").status_code == 302  # sent to the admin login


def test_district_officer_cannot_edit_population_in_admin(world, client):
    client.force_login(world["officer"])
    assert client.get("/admin/core/populationfigure/add/").status_code == 403
    client.force_login(world["state"])
    assert client.get("/admin/core/populationfigure/add/").status_code == 200


# --- Scopes per action: the one path views, the API and the dashboards take -------------------------


def works_at(user):
    return set(access.scope(user, Facility.objects.all(), "act_for"))


def test_act_for_scope_is_the_facilities_where_the_person_works(world):
    home, other = world["home"], world["other"]
    assert works_at(world["admin"]) == {home}
    assert works_at(world["staff"]) == {home}
    assert works_at(world["outsider_staff"]) == {other}
    # Officials see their facilities but work at none; citizens and anonymous users at none either.
    for who in ("officer", "state", "citizen"):
        assert works_at(world[who]) == set(), who
    assert works_at(AnonymousUser()) == set()


def test_a_superuser_works_only_where_they_are_a_member(world):
    operator = UserFactory(is_superuser=True, is_staff=True)
    assert visible(operator) == {world["home"], world["other"]}  # a permission: everything
    assert works_at(operator) == set()  # a fact about them: nowhere
    MembershipFactory(facility=world["other"], user=operator)
    assert works_at(operator) == {world["other"]}


def test_request_records_scope_is_the_facilities_where_the_person_is_a_doctor(world):
    doctor = MembershipFactory(facility=world["other"], role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    assert set(access.scope(doctor, Facility.objects, "request_records")) == {world["other"]}
    assert set(access.scope(world["admin"], Facility.objects, "request_records")) == set()


def test_a_scope_runs_as_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert len(works_at(world["staff"])) == 1


def test_unregistered_scope_actions_are_empty_except_for_superusers(world):
    assert set(access.scope(world["state"], Facility.objects, "launch_rockets")) == set()
    operator = UserFactory(is_superuser=True, is_staff=True)
    assert set(access.scope(operator, Facility.objects, "launch_rockets")) == {world["home"], world["other"]}


def test_dashboard_districts_are_the_state_for_officials_and_their_own_for_officers(world):
    districts = District.objects.filter(state_id=world["home"].district.state_id)
    every = set(districts)

    def seen(user):
        return set(access.scope(user, districts, "view_dashboard"))

    assert seen(world["state"]) == every
    assert seen(world["officer"]) == {world["home"].district}
    assert seen(world["admin"]) == set()
    assert seen(world["citizen"]) == set()
    assert seen(UserFactory(is_superuser=True, is_staff=True)) == every


def test_views_and_dashboards_scope_rows_only_through_core_access():
    """Membership and district filters live in the access_rules modules; a page, an API view or a dashboard read
    that filtered by them itself would be a second definition of who sees what."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readers = [
        *root.glob("*/views.py"),
        *root.glob("*/views/*.py"),
        *root.glob("*/api/*.py"),
        *root.glob("records/linking/views.py"),
        *root.glob("records/linking/api.py"),
        *root.glob("microsites/*.py"),
    ]
    offenders = sorted(
        str(path.relative_to(root))
        for path in readers
        if path.name != "access_rules.py"
        and any(name in path.read_text() for name in ("member_facility_ids", "officer_district_ids"))
    )
    assert offenders == []
