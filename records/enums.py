from django.db import models
from django.utils.translation import gettext_lazy as _


class HiType(models.TextChoices):
    """ABDM health-information types (ABDM.md section 5); values are ABDM's own spellings."""

    OP_CONSULTATION = "OPConsultation", _("OP consultation")
    PRESCRIPTION = "Prescription", _("Prescription")
    DISCHARGE_SUMMARY = "DischargeSummary", _("Discharge summary")
    DIAGNOSTIC_REPORT = "DiagnosticReport", _("Diagnostic report")
    IMMUNIZATION_RECORD = "ImmunizationRecord", _("Immunization record")
    HEALTH_DOCUMENT_RECORD = "HealthDocumentRecord", _("Health document")
    WELLNESS_RECORD = "WellnessRecord", _("Wellness record")
    INVOICE = "Invoice", _("Invoice")


# The Composition.type code each hiType's bundle carries (SNOMED CT; ABDM.md section 8). NRCES gives Wellness
# and Invoice records no SNOMED code: "WellnessRecord" is what ABDM's own samples write, Invoice has none.
COMPOSITION_CODES = {
    HiType.PRESCRIPTION: "440545006",
    HiType.OP_CONSULTATION: "371530004",
    HiType.DISCHARGE_SUMMARY: "373942005",
    HiType.DIAGNOSTIC_REPORT: "721981007",
    HiType.IMMUNIZATION_RECORD: "41000179103",
    HiType.HEALTH_DOCUMENT_RECORD: "419891008",
    HiType.WELLNESS_RECORD: "WellnessRecord",
}

# The hiTypes whose Composition.type NRCES fixes as text only (type.text, no coding required): a bundle of
# these types may name its kind by this text alone (compared without case).
COMPOSITION_TEXTS = {
    HiType.WELLNESS_RECORD: "Wellness Record",
    HiType.INVOICE: "Invoice Record",
}

# Their SNOMED CT display names (ABDM's own for Wellness Record), for the documents the portal writes itself.
COMPOSITION_DISPLAYS = {
    HiType.PRESCRIPTION: "Prescription record",
    HiType.OP_CONSULTATION: "Clinical consultation report",
    HiType.DISCHARGE_SUMMARY: "Discharge summary",
    HiType.DIAGNOSTIC_REPORT: "Diagnostic studies report",
    HiType.IMMUNIZATION_RECORD: "Immunization record",
    HiType.HEALTH_DOCUMENT_RECORD: "Record artifact",
    HiType.WELLNESS_RECORD: "Wellness Record",
    HiType.INVOICE: "Invoice Record",
}

# NRCES (FHIR IG for ABDM) StructureDefinitions: the Composition profile of each hiType's document, and the
# profiles of the other resources the portal writes.
NRCES_PROFILE_BASE = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"
COMPOSITION_PROFILES = {
    HiType.PRESCRIPTION: NRCES_PROFILE_BASE + "PrescriptionRecord",
    HiType.OP_CONSULTATION: NRCES_PROFILE_BASE + "OPConsultRecord",
    HiType.DISCHARGE_SUMMARY: NRCES_PROFILE_BASE + "DischargeSummaryRecord",
    HiType.DIAGNOSTIC_REPORT: NRCES_PROFILE_BASE + "DiagnosticReportRecord",
    HiType.IMMUNIZATION_RECORD: NRCES_PROFILE_BASE + "ImmunizationRecord",
    HiType.HEALTH_DOCUMENT_RECORD: NRCES_PROFILE_BASE + "HealthDocumentRecord",
    HiType.WELLNESS_RECORD: NRCES_PROFILE_BASE + "WellnessRecord",
    HiType.INVOICE: NRCES_PROFILE_BASE + "InvoiceRecord",
}


class Purpose(models.TextChoices):
    CARE_MANAGEMENT = "CAREMGT", _("your treatment")
    BREAK_THE_GLASS = "BTG", _("an emergency")
    PUBLIC_HEALTH = "PUBHLTH", _("public health")
    HEALTHCARE_PAYMENT = "HPAYMT", _("a healthcare payment")
    DISEASE_RESEARCH = "DSRCH", _("disease-specific research")
    SELF_REQUESTED = "PATRQT", _("your own request")


# The purposes as a doctor reads them: Purpose's labels speak to the patient ("... for your treatment").
PURPOSE_FOR_DOCTORS = {
    Purpose.CARE_MANAGEMENT: _("Treatment (care management)"),
    Purpose.BREAK_THE_GLASS: _("Emergency (break the glass)"),
    Purpose.PUBLIC_HEALTH: _("Public health"),
    Purpose.HEALTHCARE_PAYMENT: _("Healthcare payment"),
    Purpose.DISEASE_RESEARCH: _("Disease-specific research"),
    Purpose.SELF_REQUESTED: _("The patient's own request"),
}


class AccessMode(models.TextChoices):
    VIEW = "VIEW", _("View")
    STORE = "STORE", _("Store")
    QUERY = "QUERY", _("Query")
    STREAM = "STREAM", _("Stream")


class FrequencyUnit(models.TextChoices):
    HOUR = "HOUR", _("hour")
    DAY = "DAY", _("day")
    WEEK = "WEEK", _("week")
    MONTH = "MONTH", _("month")
    YEAR = "YEAR", _("year")


class ConsentStatus(models.TextChoices):
    REQUESTED = "REQUESTED", _("Waiting for the patient")
    GRANTED = "GRANTED", _("Granted")
    DENIED = "DENIED", _("Denied")
    EXPIRED = "EXPIRED", _("Expired")


class ArtefactStatus(models.TextChoices):
    GRANTED = "GRANTED", _("Granted")
    # The patient deactivated their ABHA: nothing is read; reactivation grants it again if still within validity.
    SUSPENDED = "SUSPENDED", _("Suspended (ABHA deactivated)")
    REVOKED = "REVOKED", _("Revoked")
    EXPIRED = "EXPIRED", _("Expired")


class AccessBasis(models.TextChoices):
    """Why a read of records was allowed; stored in its audit row and shown in the access log."""

    CONSENT = "consent", _("Your consent")
    BREAK_GLASS = "btg", _("Emergency access (break the glass)")
    FACILITY = "facility", _("The facility that created the record")
    SELF = "self", _("You")


class LinkMatch(models.TextChoices):
    """How well a facility's unlinked visit matches the citizen's ABHA demographics."""

    STRONG = "strong", _("Name, mobile, gender and year of birth match")
    WEAK = "weak", _("Mobile, gender and year of birth match; the name differs")


class LinkStatus(models.TextChoices):
    OTP_SENT = "otp_sent", _("Waiting for the OTP")
    LINKED = "linked", _("Linked")
    NEEDS_REVIEW = "needs_review", _("Waiting for the facility's review")
    REJECTED = "rejected", _("Not linked by the facility")
    FAILED = "failed", _("Too many wrong OTPs")


class LinkingJobStatus(models.TextChoices):
    """A record-linking job's life; the API spells these values (issue contract)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class LinkingFileFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    NDJSON = "ndjson", _("NDJSON of FHIR bundles")
    ZIP = "zip", _("ZIP (a CSV with PDF files)")


class LinkingChunkStatus(models.TextChoices):
    # A chunk being worked on stays PENDING: the claim is its row lock (SELECT ... FOR UPDATE SKIP LOCKED),
    # which PostgreSQL drops by itself when the worker dies, so the chunk is simply picked up again.
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (job cancelled)")


class LinkingReviewStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    LINKED = "linked", _("Linked")
    REJECTED = "rejected", _("Not this patient")


# --- The portal's facilities as HIPs on ABDM: consent artefacts ABDM notifies, health-information transfers --------


class HipArtefactStatus(models.TextChoices):
    """A consent artefact as ABDM notified it to the HIP (only these three reach an HIP)."""

    GRANTED = "GRANTED", _("Granted")
    REVOKED = "REVOKED", _("Revoked")
    EXPIRED = "EXPIRED", _("Expired")


class HipTransferStatus(models.TextChoices):
    """One health-information request from ABDM to one of the portal's facilities."""

    REFUSED = "refused", _("Refused")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged, sending")
    TRANSFERRED = "transferred", _("Sent")
    PARTLY_TRANSFERRED = "partly_transferred", _("Partly sent")
    FAILED = "failed", _("Not sent")


class HipTransferItemStatus(models.TextChoices):
    """One care context of a health-information request: sent (the HIU accepted its page) or errored, with why."""

    PENDING = "pending", _("Waiting")
    TRANSFERRED = "transferred", _("Sent")
    ERRORED = "errored", _("Not sent")


# --- The portal's doctors as HIU users on ABDM: consent requests through ABDM's consent manager ---------------------


class HiuRequestStatus(models.TextChoices):
    """A doctor's consent request sent through ABDM: waiting in the outbox, then as ABDM reports it."""

    QUEUED = "QUEUED", _("Waiting to reach ABDM")
    REQUESTED = "REQUESTED", _("Waiting for the patient")
    GRANTED = "GRANTED", _("Granted")
    DENIED = "DENIED", _("Denied")
    EXPIRED = "EXPIRED", _("Expired")
    REVOKED = "REVOKED", _("Revoked")
    FAILED = "FAILED", _("Refused by ABDM")


class HiuArtefactStatus(models.TextChoices):
    """A consent artefact ABDM granted to the doctor's facility (as the HIU)."""

    GRANTED = "GRANTED", _("Granted")
    REVOKED = "REVOKED", _("Revoked")
    EXPIRED = "EXPIRED", _("Expired")
    DENIED = "DENIED", _("Denied")


class HiuTransferStatus(models.TextChoices):
    """One health-information request the portal made for an artefact."""

    QUEUED = "queued", _("Waiting to reach ABDM")
    REQUESTED = "requested", _("Asked, waiting for the data")
    RECEIVED = "received", _("Received")
    FAILED = "failed", _("Not received")
