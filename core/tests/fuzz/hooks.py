"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS=core.tests.fuzz.hooks).

Random UUIDs in paths almost always answer 404; most examples aim at objects that exist instead
(the test passes their UUIDs in FUZZ_KNOWN), so the fuzzer reaches the code behind the lookup.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

KNOWN: dict[str, list[str]] = json.loads(os.environ.get("FUZZ_KNOWN", "{}"))

# Which kind of object a path's `{uuid}` names, by the path's prefix (the first match wins).
UUID_KINDS = [
    ("/api/v1/facilities/{uuid}/", "facility"),
    ("/api/v1/professionals/{uuid}/", "professional"),
    ("/api/v1/consents/requests/{uuid}/", "consent_request"),
    ("/api/v1/consents/artefacts/{uuid}/", "artefact"),
    ("/api/v1/consents/btg/{uuid}/", "btg"),
    ("/api/v1/records/links/{uuid}/", "link"),
    ("/api/v1/scan-share/{uuid}/", "scan_token"),
    ("/api/v1/microsites/{uuid}/", "microsite"),
    ("/api/v1/linking-jobs/{uuid}/", "linking_job"),
    ("/api/v1/linking-reviews/{uuid}/", "linking_review"),
]
OTHER_KINDS = {"member": "member", "code": "counter", "facility_uuid": "facility"}


def _kind(path: str, name: str) -> str | None:
    if name == "uuid":
        return next((kind for prefix, kind in UUID_KINDS if path.startswith(prefix)), None)
    return OTHER_KINDS.get(name)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    known = {}
    for name in path_parameters or {}:
        values = KNOWN.get(_kind(context.operation.path, name) or "")
        if values:
            known[name] = st.sampled_from(values)
    if not known:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({**{name: st.just(value) for name, value in path_parameters.items()}, **known})
    return st.one_of(real, real, real, st.just(path_parameters))
