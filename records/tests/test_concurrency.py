"""Two grants of the same request at the same moment: one wins, the other gets 409."""

import threading

import pytest
from django.db import connection

from records.models import ConsentArtefact, ConsentRequest

from .factories import request_consent

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, api_as, paths):
    consent_request = request_consent(doctor=world.doctor, patient=world.patient)
    barrier = threading.Barrier(len(paths))
    statuses = []

    def answer(path):
        try:
            client = api_as(world.citizen)
            barrier.wait()
            statuses.append(
                client.post(f"/api/v1/consents/requests/{consent_request.uuid}/{path}/", {}, format="json").status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return consent_request, sorted(statuses)


def test_two_concurrent_grants_one_wins_the_other_conflicts(world, api_as):
    consent_request, statuses = _race(world, api_as, ["grant", "grant"])
    assert statuses == [200, 409]
    consent_request.refresh_from_db()
    assert consent_request.status == "GRANTED"
    # One set of artefacts (one per facility holding records), not two.
    assert ConsentArtefact.objects.filter(request=consent_request).count() == 2


def test_concurrent_grant_and_deny_leave_one_consistent_outcome(world, api_as):
    consent_request, statuses = _race(world, api_as, ["grant", "deny"])
    assert statuses == [200, 409]
    consent_request.refresh_from_db()
    artefacts = ConsentArtefact.objects.filter(request=consent_request).count()
    assert (consent_request.status, artefacts) in {("GRANTED", 2), ("DENIED", 0)}
    assert ConsentRequest.objects.filter(pk=consent_request.pk).count() == 1
