"""Property-based test of the consent state machine: any sequence of actions by anyone keeps the
database equal to a simple model, and no read succeeds unless the artefact is granted and unexpired."""

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from core.exceptions import Conflict, DomainError, NotAllowed
from records import services
from records.models import ConsentArtefact, ConsentRequest

from .factories import request_consent

pytestmark = pytest.mark.django_db

ACTORS = ["citizen", "doctor", "other_citizen", "staff_a"]


def test_consent_state_machine(world):
    class ConsentMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.request = request_consent(doctor=world.doctor, patient=world.patient)
            self.status = "REQUESTED"
            self.timed_out = False
            self.artefacts = {}  # uuid -> {"status", "erased"}

        def _expect(self, call, ok: bool, error=DomainError):
            try:
                result = call()
            except DomainError as exc:
                assert not ok, f"refused unexpectedly: {exc.code}"
                assert isinstance(exc, error), exc
                return None
            assert ok, "allowed unexpectedly"
            return result

        @rule(actor=st.sampled_from(ACTORS), narrow=st.booleans())
        def grant(self, actor, narrow):
            answerable = self.status == "REQUESTED" and not self.timed_out
            ok = actor == "citizen" and answerable
            kwargs = {"hi_types": ["Prescription"], "facility_ids": [world.a.facility_id]} if narrow else {}
            error = Conflict if actor == "citizen" else DomainError
            result = self._expect(
                lambda: services.consent_grant(actor=getattr(world, actor), request_uuid=self.request.uuid, **kwargs),
                ok,
                error,
            )
            if result:
                self.status = "GRANTED"
                for artefact in result[1]:
                    self.artefacts[artefact.uuid] = {"status": "GRANTED", "erased": False}
                assert len(result[1]) == (1 if narrow else 2)

        @rule(actor=st.sampled_from(ACTORS))
        def deny(self, actor):
            ok = actor == "citizen" and self.status == "REQUESTED" and not self.timed_out
            error = Conflict if actor == "citizen" else DomainError
            if self._expect(
                lambda: services.consent_deny(actor=getattr(world, actor), request_uuid=self.request.uuid), ok, error
            ):
                self.status = "DENIED"

        @precondition(lambda self: self.artefacts)
        @rule(actor=st.sampled_from(ACTORS), index=st.integers(0, 1))
        def revoke(self, actor, index):
            uuid = sorted(self.artefacts)[index % len(self.artefacts)]
            ok = actor == "citizen" and self.artefacts[uuid]["status"] == "GRANTED"
            error = Conflict if actor == "citizen" else DomainError
            if self._expect(
                lambda: services.artefact_revoke(actor=getattr(world, actor), artefact_uuid=uuid), ok, error
            ):
                self.artefacts[uuid]["status"] = "REVOKED"

        @precondition(lambda self: self.artefacts)
        @rule(index=st.integers(0, 1))
        def erase_time_passes(self, index):
            uuid = sorted(self.artefacts)[index % len(self.artefacts)]
            ConsentArtefact.objects.filter(uuid=uuid).update(data_erase_at=timezone.now() - dt.timedelta(seconds=1))
            self.artefacts[uuid]["erased"] = True

        @rule()
        def request_times_out(self):
            ConsentRequest.objects.filter(pk=self.request.pk).update(
                expires_at=timezone.now() - dt.timedelta(seconds=1)
            )
            self.timed_out = True

        @rule()
        def beat_task_runs(self):
            services.consents_expire()
            if self.status == "REQUESTED" and self.timed_out:
                self.status = "EXPIRED"
            for state in self.artefacts.values():
                if state["status"] == "GRANTED" and state["erased"]:
                    state["status"] = "EXPIRED"

        @precondition(lambda self: self.artefacts)
        @rule(actor=st.sampled_from(["doctor", "colleague", "other_doctor", "citizen"]), index=st.integers(0, 1))
        def read(self, actor, index):
            uuid = sorted(self.artefacts)[index % len(self.artefacts)]
            state = self.artefacts[uuid]
            active = state["status"] == "GRANTED" and not state["erased"]
            ok = actor == "doctor" and active
            error = services.ConsentInactive if actor == "doctor" else DomainError
            read = self._expect(
                lambda: services.artefact_records_read(actor=getattr(world, actor), artefact_uuid=uuid), ok, error
            )
            if read:
                artefact = read.artefact
                for record in read.records:
                    assert record.facility_id == artefact.source_facility_id
                    assert record.hi_type in artefact.hi_types
                    assert artefact.date_from <= record.record_date <= artefact.date_to

        @invariant()
        def database_matches_model(self):
            self.request.refresh_from_db()
            assert self.request.status == self.status
            stored = dict(ConsentArtefact.objects.filter(request=self.request).values_list("uuid", "status"))
            assert stored == {uuid: state["status"] for uuid, state in self.artefacts.items()}
            if self.status != "GRANTED":
                assert not stored

    run_state_machine_as_test(
        ConsentMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_not_allowed_is_a_domain_error():
    assert issubclass(NotAllowed, DomainError) and issubclass(services.ConsentInactive, NotAllowed)
