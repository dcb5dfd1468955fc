import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from core.models import AuditEvent
from core.selectors import audit_trail_for
from core.services import audit_record
from core.tests.factories import StateOfficialFactory, UserFactory
from facilities.tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db


def test_audit_record_stores_actor_action_target_and_ip():
    actor = UserFactory(username="nurse1")
    facility = FacilityFactory()
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    event = audit_record(actor=actor, action="facility.view", target=facility, details={"why": "test"}, request=request)
    event.refresh_from_db()
    assert (event.actor, event.actor_label, event.action) == (actor, "nurse1", "facility.view")
    assert (event.target_type, event.target_id) == ("facilities.facility", str(facility.uuid))
    assert event.ip_address == "10.1.2.3"
    assert list(audit_trail_for(facility)) == [event]


def test_system_actions_are_labelled_system():
    event = audit_record(actor=None, action="job.finished")
    assert event.actor is None and event.actor_label == "system"


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm():
    event = audit_record(actor=UserFactory(), action="x.y")
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "x.y"


def test_postgresql_trigger_refuses_raw_update_and_delete():
    assert connection.vendor == "postgresql", "make test runs the suite on PostgreSQL"
    event = audit_record(actor=UserFactory(), action="x.y")
    for statement in (
        "UPDATE core_auditevent SET action = 'z' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "x.y"


def test_admin_shows_audit_rows_to_state_officials_read_only(client):
    official = StateOfficialFactory()
    event = audit_record(actor=official, action="x.y")
    client.force_login(official)
    page = client.get(f"/admin/core/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_people_with_audit_history_cannot_be_deleted():
    from django.db.models import ProtectedError

    actor = UserFactory()
    audit_record(actor=actor, action="x.y")
    with pytest.raises(ProtectedError):
        actor.delete()
