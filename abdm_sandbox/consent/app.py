"""The citizen's ABHA app, played by the sandbox, under /sandbox/v1/app/ (not ABDM's contract).

JSON API (Authorization: Bearer <app token>; without one a call is a test helper acting for the citizen):
  POST app/login/otp {abhaAddress}          an OTP to the ABHA's mobile (SMS) -> {txnId, mobile (masked)}
  POST app/login/verify {txnId, otp}        -> {token, abhaAddress, expiresIn}
  POST app/session {abhaAddress}            test-only: a token without the OTP
  GET  app/consents[?patient=]              the citizen's requests, newest first, with their artefacts
  GET  app/consents/{id}                    one request and the care contexts it may cover
  POST app/consents/{id}/grant {hiTypes?, dateRange?{from,to}, dataEraseAt?, careContexts?[{hipId,
                                careContextReference}]}   -> {status, consentArtefacts:[{id, hipId}]}
  POST app/consents/{id}/deny {reason?}
  POST app/artefacts/{id}/revoke
Pages (English, Hindi, Gujarati: ?lang=hi): app/ (sign-in, then the citizen's requests and consents),
app/requests/{id} (allow, narrowed, or deny), app/artefacts/{id}/revoke (POST).
"""

import datetime
import hashlib
import hmac
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.template import Context, Engine
from django.utils import timezone

from ..abha import identity
from ..errors import abdm_error
from ..http import api_view, json_body, ok
from ..sms import send_sms
from . import services, texts
from .models import ArtefactStatus, CitizenLogin, CitizenSession, ConsentArtefact, ConsentRequest, RequestStatus

SESSION_SECONDS = 1800
OTP_SECONDS = 600
OTP_ATTEMPTS = 5
COOKIE = "sandbox_abha_app"
LANGUAGE_COOKIE = "sandbox_abha_lang"
_engine = Engine(dirs=[str(Path(__file__).resolve().parent / "templates")], autoescape=True)


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def _masked(mobile: str) -> str:
    return "******" + mobile[-4:] if mobile else ""


def _new_session(address: str) -> str:
    token = secrets.token_urlsafe(32)
    CitizenSession.objects.create(
        token_hash=_digest("session:" + token),
        abha_address=address,
        expires_at=timezone.now() + datetime.timedelta(seconds=SESSION_SECONDS),
    )
    return token


def _session_address(token: str) -> str | None:
    if not token:
        return None
    session = CitizenSession.objects.filter(
        token_hash=_digest("session:" + token), expires_at__gt=timezone.now()
    ).first()
    return session.abha_address if session else None


class _Caller:
    """Who calls the JSON API: a signed-in citizen (`address`), or a test helper (`address` None)."""

    def __init__(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        self.has_token = scheme.lower() == "bearer" and bool(token.strip())
        self.address = _session_address(token.strip()) if self.has_token else None

    @property
    def refused(self):
        if self.has_token and self.address is None:
            return abdm_error(401, "900901", "Invalid Credentials", description="The app token is not valid")
        return None

    def may_see(self, consent_request: ConsentRequest) -> bool:
        return self.address is None or consent_request.patient == self.address


# --- sign-in -----------------------------------------------------------------------------------------------------


def _otp_start(address: str) -> CitizenLogin | None:
    account = services.account_for(address)
    if account is None or not account.mobile or account.status != "ACTIVE":
        return None
    otp = f"{secrets.randbelow(1_000_000):06d}"
    login = CitizenLogin.objects.create(
        abha_address=address.strip().lower(),
        otp_hash="",
        expires_at=timezone.now() + datetime.timedelta(seconds=OTP_SECONDS),
    )
    login.otp_hash = _digest(f"otp:{login.txn_id}:{otp}")
    login.save(update_fields=["otp_hash"])
    mobile, text = account.mobile, f"{otp} is your OTP to sign in to the ABHA app. It is valid for 10 minutes."
    transaction.on_commit(lambda: send_sms(mobile, text))
    login.mobile = account.mobile
    return login


def _otp_verify(txn_id, otp: str) -> str | None:
    """The signed-in address for a right OTP (spent), else None; wrong ones count."""
    with transaction.atomic():
        login = CitizenLogin.objects.select_for_update().filter(txn_id=txn_id, used=False).first()
        if login is None or login.expires_at <= timezone.now() or login.attempts >= OTP_ATTEMPTS:
            return None
        if not hmac.compare_digest(login.otp_hash, _digest(f"otp:{login.txn_id}:{otp}")):
            login.attempts += 1
            login.save(update_fields=["attempts"])
            return None
        login.used = True
        login.save(update_fields=["used"])
        return login.abha_address


@api_view("POST")
def login_otp(request):
    body = json_body(request)
    address = body.get("abhaAddress")
    if not isinstance(address, str) or not address.strip():
        return abdm_error(400, "ABDM-1006", "abhaAddress is required")
    with transaction.atomic():
        login = _otp_start(address)
    if login is None:
        return abdm_error(404, "ABDM-1001", "No ABHA with this address, or it has no mobile number")
    return ok({"txnId": str(login.txn_id), "mobile": _masked(login.mobile)})


@api_view("POST")
def login_verify(request):
    body = json_body(request)
    try:
        txn_id = uuid.UUID(str(body.get("txnId")))
    except ValueError:
        return abdm_error(400, "ABDM-1006", "txnId is required")
    address = _otp_verify(txn_id, str(body.get("otp") or ""))
    if address is None:
        return abdm_error(401, "ABDM-1003", "Invalid OTP value", flat=False)
    return ok({"token": _new_session(address), "abhaAddress": address, "expiresIn": SESSION_SECONDS})


@api_view("POST")
def session(request):
    """Test-only: an app token for an ABHA address, without the OTP."""
    body = json_body(request)
    account = services.account_for(str(body.get("abhaAddress") or ""))
    if account is None:
        return abdm_error(404, "ABDM-1001", "No ABHA with this address")
    address = identity.full_address(str(body["abhaAddress"]))
    return ok({"token": _new_session(address), "abhaAddress": address, "expiresIn": SESSION_SECONDS})


# --- the JSON API ------------------------------------------------------------------------------------------------


def _artefact_json(artefact: ConsentArtefact) -> dict:
    return {
        "id": str(artefact.artefact_id),
        "hipId": artefact.hip_id,
        "hipName": artefact.hip_name,
        "status": artefact.status,
        "hiTypes": artefact.hi_types,
        "careContexts": artefact.care_contexts,
        "dateRange": {"from": services.iso(artefact.date_from), "to": services.iso(artefact.date_to)},
        "dataEraseAt": services.iso(artefact.data_erase_at),
        "hipAcknowledgement": artefact.hip_acknowledgement or None,
    }


def _request_json(consent_request: ConsentRequest, *, offered: bool = False) -> dict:
    body = {
        "id": str(consent_request.consent_request_id),
        "status": consent_request.status,
        "patient": consent_request.patient,
        "hiu": {"id": consent_request.hiu_id, "name": consent_request.hiu_name},
        "hip": {"id": consent_request.hip_id, "name": consent_request.hip_name} if consent_request.hip_id else None,
        "purpose": {"code": consent_request.purpose_code, "text": consent_request.purpose_text},
        "requester": consent_request.requester,
        "hiTypes": consent_request.hi_types,
        "permission": {
            "accessMode": consent_request.access_mode,
            "dateRange": {"from": services.iso(consent_request.date_from), "to": services.iso(consent_request.date_to)},
            "dataEraseAt": services.iso(consent_request.data_erase_at),
            "frequency": consent_request.frequency,
        },
        "createdAt": services.iso(consent_request.created_at),
        "expiresAt": services.iso(consent_request.expires_at),
        "consentArtefacts": [_artefact_json(a) for a in consent_request.artefacts.order_by("pk")],
    }
    if offered:
        body["careContexts"] = _offered(consent_request)
    return body


def _offered(consent_request: ConsentRequest) -> list[dict]:
    if consent_request.care_contexts:
        return [
            {"hipId": consent_request.hip_id, "hipName": consent_request.hip_name, **c}
            for c in consent_request.care_contexts
        ]
    return services.linked_care_contexts(consent_request.patient, consent_request.hip_id or None)


def _find(consent_request_id) -> ConsentRequest | None:
    try:
        value = uuid.UUID(str(consent_request_id))
    except ValueError:
        return None
    return ConsentRequest.objects.filter(consent_request_id=value).first()


@api_view("GET")
def consents(request):
    services.start_sweeper()
    services.expire_due()
    caller = _Caller(request)
    if caller.refused:
        return caller.refused
    patient = caller.address or str(request.GET.get("patient") or "").strip().lower()
    if not patient:
        return abdm_error(400, "ABDM-1006", "Sign in, or name the patient (?patient=) in helper calls")
    rows = ConsentRequest.objects.filter(patient=patient).order_by("-created_at")[:100]
    return ok({"patient": patient, "consentRequests": [_request_json(row) for row in rows]})


def _owned(request, consent_request_id):
    caller = _Caller(request)
    if caller.refused:
        return None, caller.refused
    consent_request = _find(consent_request_id)
    if consent_request is None or not caller.may_see(consent_request):
        return None, abdm_error(404, "ABDM-1001", "No data found")
    return consent_request, None


@api_view("GET")
def consent(request, consent_request_id):
    services.expire_due()
    consent_request, refused = _owned(request, consent_request_id)
    if refused:
        return refused
    return ok(_request_json(consent_request, offered=True))


def _refused(refusal: services.Refused):
    return abdm_error(refusal.status, refusal.code, refusal.message)


@api_view("POST")
def grant(request, consent_request_id):
    consent_request, refused = _owned(request, consent_request_id)
    if refused:
        return refused
    body = json_body(request)
    dates = body.get("dateRange") if isinstance(body.get("dateRange"), dict) else {}
    hi_types = body.get("hiTypes")
    if hi_types is not None and (not isinstance(hi_types, list) or not all(isinstance(t, str) for t in hi_types)):
        return abdm_error(400, "ABDM-1006", "hiTypes must be a list of strings")
    try:
        artefacts = services.consent_grant(
            consent_request_id=consent_request.consent_request_id,
            hi_types=hi_types,
            date_from=dates.get("from"),
            date_to=dates.get("to"),
            data_erase_at=body.get("dataEraseAt"),
            care_contexts=body.get("careContexts"),
        )
    except services.Refused as refusal:
        return _refused(refusal)
    return ok(
        {"status": "GRANTED", "consentArtefacts": [{"id": str(a.artefact_id), "hipId": a.hip_id} for a in artefacts]}
    )


@api_view("POST")
def deny(request, consent_request_id):
    consent_request, refused = _owned(request, consent_request_id)
    if refused:
        return refused
    body = json_body(request) if request.body else {}
    try:
        services.consent_deny(
            consent_request_id=consent_request.consent_request_id, reason=str(body.get("reason") or "")
        )
    except services.Refused as refusal:
        return _refused(refusal)
    return ok({"status": "DENIED"})


@api_view("POST")
def revoke(request, artefact_id):
    caller = _Caller(request)
    if caller.refused:
        return caller.refused
    try:
        value = uuid.UUID(str(artefact_id))
    except ValueError:
        return abdm_error(404, "ABDM-1001", "No data found")
    artefact = ConsentArtefact.objects.select_related("consent_request").filter(artefact_id=value).first()
    if artefact is None or not caller.may_see(artefact.consent_request):
        return abdm_error(404, "ABDM-1001", "No data found")
    try:
        services.artefact_revoke(artefact_id=value)
    except services.Refused as refusal:
        return _refused(refusal)
    return ok({"status": "REVOKED", "id": str(value)})


@api_view("POST")
def expire(request):
    """POST /sandbox/v1/consents/expire-now {consentRequestId} | {consentArtefactId} | {}: expire that request
    or artefact now (notifying as on time), or, with neither, everything already due."""
    body = json_body(request) if request.body else {}
    try:
        if body.get("consentRequestId"):
            return ok(services.expire_now(consent_request_id=uuid.UUID(str(body["consentRequestId"]))))
        if body.get("consentArtefactId"):
            return ok(services.expire_now(artefact_id=uuid.UUID(str(body["consentArtefactId"]))))
    except ValueError:
        return abdm_error(400, "ABDM-1006", "the ID must be a UUID")
    except services.Refused as refusal:
        return _refused(refusal)
    return ok(services.expire_due())


# --- pages -------------------------------------------------------------------------------------------------------


def _language(request) -> str:
    wanted = request.GET.get("lang") or request.COOKIES.get(LANGUAGE_COOKIE) or "en"
    return wanted if wanted in texts.LANGUAGES else "en"


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    language = _language(request)
    words = texts.texts_for(language)
    page = _engine.get_template(template).render(
        Context({"t": words, "lang": language, "languages": texts.LANGUAGES, "path": request.path, **context})
    )
    response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    response.set_cookie(LANGUAGE_COOKIE, language, samesite="Strict", max_age=365 * 86400)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    return response


def _page_address(request) -> str | None:
    return _session_address(request.COOKIES.get(COOKIE, ""))


def _date(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).date().isoformat()


def _view_of(consent_request: ConsentRequest, language: str) -> dict:
    return {
        "id": str(consent_request.consent_request_id),
        "status": consent_request.status,
        "status_text": texts.TEXTS[consent_request.status][language],
        "hiu": consent_request.hiu_name or consent_request.hiu_id,
        "asks": texts.TEXTS["asks"][language].format(hiu=consent_request.hiu_name or consent_request.hiu_id),
        "purpose": texts.PURPOSE_NAMES[consent_request.purpose_code][language],
        "requester": consent_request.requester.get("name", ""),
        "access": texts.TEXTS[consent_request.access_mode][language],
        "hi_types": [{"code": code, "name": texts.HI_TYPE_NAMES[code][language]} for code in consent_request.hi_types],
        "from": _date(consent_request.date_from),
        "to": _date(consent_request.date_to),
        "expiry": _date(consent_request.data_erase_at),
        "created": _date(consent_request.created_at),
    }


def _redirect(path: str, note: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(path + (f"?done={note}" if note else ""))


@api_view("GET", "POST")
def home(request):
    """GET: sign-in (ABHA address, then the OTP), or the citizen's requests and consents. POST: the sign-in steps
    (step=otp sends the OTP, step=verify checks it) and sign-out."""
    services.start_sweeper()
    language = _language(request)
    if request.method == "POST":
        step = request.POST.get("step")
        if step == "signout":
            response = _redirect(request.path)
            response.delete_cookie(COOKIE)
            return response
        if step == "otp":
            with transaction.atomic():
                login = _otp_start(request.POST.get("abha_address", ""))
            if login is None:
                return _render(request, "sandbox_consent/signin.html", {"error": "unknown_address"}, status=400)
            return _render(
                request,
                "sandbox_consent/signin.html",
                {"txn_id": str(login.txn_id), "mobile": _masked(login.mobile), "next": request.POST.get("next", "")},
            )
        if step == "verify":
            try:
                address = _otp_verify(uuid.UUID(request.POST.get("txn_id", "")), request.POST.get("otp", "").strip())
            except ValueError:
                address = None
            if address is None:
                return _render(
                    request,
                    "sandbox_consent/signin.html",
                    {
                        "error": "wrong_otp",
                        "txn_id": request.POST.get("txn_id", ""),
                        "next": request.POST.get("next", ""),
                    },
                    status=400,
                )
            after = request.POST.get("next", "")
            response = _redirect(after if after.startswith("/sandbox/v1/app/") else request.path)
            response.set_cookie(
                COOKIE, _new_session(address), httponly=True, samesite="Strict", max_age=SESSION_SECONDS
            )
            return response
        return _redirect(request.path)
    address = _page_address(request)
    if address is None:
        return _render(request, "sandbox_consent/signin.html", {"next": request.GET.get("next", "")})
    services.expire_due()
    rows = list(ConsentRequest.objects.filter(patient=address).order_by("-created_at")[:100])
    artefacts = (
        ConsentArtefact.objects.select_related("consent_request")
        .filter(consent_request__patient=address, status=ArtefactStatus.GRANTED)
        .order_by("-created_at")
    )
    done = request.GET.get("done", "")
    return _render(
        request,
        "sandbox_consent/home.html",
        {
            "address": address,
            "pending": [_view_of(r, language) for r in rows if r.status == RequestStatus.REQUESTED],
            "history": [_view_of(r, language) for r in rows if r.status != RequestStatus.REQUESTED],
            "artefacts": [
                {
                    "id": str(a.artefact_id),
                    "hip": a.hip_name or a.hip_id,
                    "hiu": a.consent_request.hiu_name or a.consent_request.hiu_id,
                    "hi_types": ", ".join(texts.HI_TYPE_NAMES[t][language] for t in a.hi_types),
                    "expiry": _date(a.data_erase_at),
                }
                for a in artefacts
            ],
            "done": texts.TEXTS.get(f"done_{done}", {}).get(language, "") if done else "",
        },
    )


def _day(value, time_of_day: str, asked: datetime.datetime, keep_within) -> str | None:
    """A date from the form as a date-time: the asked one when the day is unchanged (a date input cannot say the
    hour), else that day's start or end, kept within what was asked (`max` for a start, `min` for an end)."""
    if not value or value == _date(asked):
        return None
    moment = services.parse_time(value + time_of_day)
    return services.iso(keep_within(moment, asked)) if moment else value


def _home_path() -> str:
    return "/sandbox/v1/app/"


@api_view("GET", "POST")
def request_page(request, consent_request_id):
    """One request: what is asked, with a form to allow it (narrowed) or deny it."""
    language = _language(request)
    address = _page_address(request)
    if address is None:
        # The language the link asked for (the portal's "Answer in the ABHA app" carries ?lang=) goes along to the
        # sign-in page, which has not set its cookie yet.
        return HttpResponseRedirect(f"{_home_path()}?{urlencode({'next': request.path, 'lang': language})}")
    services.expire_due()
    consent_request = _find(consent_request_id)
    if consent_request is None or consent_request.patient != address:
        return _render(request, "sandbox_consent/message.html", {"message": texts.TEXTS["not_found"][language]})
    offered = _offered(consent_request)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "deny":
                services.consent_deny(consent_request_id=consent_request.consent_request_id)
                return _redirect(_home_path(), "deny")
            chosen = [
                item
                for item in offered
                if f"{item['hipId']}|{item['careContextReference']}" in request.POST.getlist("care_context")
            ]
            services.consent_grant(
                consent_request_id=consent_request.consent_request_id,
                hi_types=request.POST.getlist("hi_type") or ["-"],
                date_from=_day(request.POST.get("from"), "T00:00:00Z", consent_request.date_from, max),
                date_to=_day(request.POST.get("to"), "T23:59:59Z", consent_request.date_to, min),
                data_erase_at=_day(request.POST.get("expiry"), "T23:59:59Z", consent_request.data_erase_at, min),
                care_contexts=[{"hipId": c["hipId"], "careContextReference": c["careContextReference"]} for c in chosen]
                or [{"hipId": "-", "careContextReference": "-"}],
            )
            return _redirect(_home_path(), "grant")
        except services.Refused as refusal:
            error = texts.TEXTS["refused"][language].format(reason=refusal.message)
    else:
        error = ""
    view = _view_of(consent_request, language)
    return _render(
        request,
        "sandbox_consent/request.html",
        {
            "request": view,
            "error": error,
            "waiting": consent_request.status == RequestStatus.REQUESTED,
            "care_contexts": [
                {
                    "key": f"{c['hipId']}|{c['careContextReference']}",
                    "hip": c.get("hipName") or c["hipId"],
                    "label": c.get("display") or c["careContextReference"],
                }
                for c in offered
            ],
            "home": _home_path(),
        },
        status=400 if error else 200,
    )


@api_view("POST")
def revoke_page(request, artefact_id):
    language = _language(request)
    address = _page_address(request)
    if address is None:
        return HttpResponseRedirect(_home_path())
    try:
        value = uuid.UUID(str(artefact_id))
    except ValueError:
        value = None
    artefact = ConsentArtefact.objects.select_related("consent_request").filter(artefact_id=value).first()
    if artefact is None or artefact.consent_request.patient != address:
        return _render(request, "sandbox_consent/message.html", {"message": texts.TEXTS["not_found"][language]})
    try:
        services.artefact_revoke(artefact_id=value)
    except services.Refused as refusal:
        message = texts.TEXTS["refused"][language].format(reason=refusal.message)
        return _render(request, "sandbox_consent/message.html", {"message": message}, 409)
    return _redirect(_home_path(), "revoke")
