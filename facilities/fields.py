"""Which fields a draft facility or professional registration may set, and which a submission needs.

One definition for the services (what they accept), the pages' forms and the API's serializers. The API names a
state or district by its LGD code (`state_lgd`, `district_lgd`): `api_names` turns a list into those names.
"""

from .models import REQUIRED_FOR_SUBMISSION as FACILITY_REQUIRED_FOR_SUBMISSION  # noqa: F401 - kept beside the model

# The registration wizard's steps, in order; together they are every field a manager may set on a draft facility.
FACILITY_STEP_FIELDS = {
    "basic": [
        "facility_id",
        "name",
        "ownership",
        "private_subtype",
        "systems_of_medicine",
        "facility_type",
        "service_type",
        "beds",
    ],
    "location": ["state", "district", "address", "pincode", "latitude", "longitude", "region"],
    "contact": ["contact_mobile", "contact_email", "contact_landline", "timings"],
}
FACILITY_FIELDS = [name for fields in FACILITY_STEP_FIELDS.values() for name in fields]

# What professionals may set on their own draft or rejected registration (the state follows the district).
PROFESSIONAL_FIELDS = [
    "hpr_id",
    "name",
    "category",
    "sub_category",
    "council",
    "registration_number",
    "registration_date",
    "registration_type",
    "renewal_due_date",
    "qualifications",
    "work_status",
    "mobile",
    "email",
    "district",
]
PROFESSIONAL_REQUIRED_FOR_SUBMISSION = [
    "hpr_id",
    "name",
    "category",
    "council",
    "registration_number",
    "registration_date",
    "registration_type",
    "qualifications",
    "district",
]

# What every registry entry shows after its own fields: the officer's last rejection and the entry's times.
REVIEW_FIELDS = ["rejection_reason", "submitted_at", "verified_at", "created_at", "updated_at"]

API_NAMES = {"state": "state_lgd", "district": "district_lgd"}


def api_names(fields: list[str]) -> list[str]:
    """The API's names of these fields: a state or district is given by its LGD code."""
    return [API_NAMES.get(name, name) for name in fields]
