"""Personal identifiers never reach a log line: ABHA numbers and addresses (and Aadhaar- and mobile-shaped numbers)
are masked in every record the portal writes, and gunicorn's access log leaves query strings out.

Public API paths keep identifiers in query strings (`/api/v1/abha/lookup/?id=...` is a contract), and Django's
`django.request` lines, runserver's request lines and gunicorn's access and error logs all print URLs. So the
masking sits where lines are written, not where they are made: `RedactPersonalData` on the handlers of
config/settings/base.py LOGGING (Django, Celery, runserver), `GunicornLogger` for gunicorn (Procfile.prod).
"""

import logging
import re

from gunicorn.glogging import Logger

_SEP = r"(?:[ -]|%20|\+)?"  # as typed, or URL-encoded in a query string
_IDENTIFIER = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"  # kept: its last group may be digits
    rf"|(?P<abha_number>(?<!\d)\d{{2}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d))"
    r"|(?P<abha_address>[\w.]+(?:@|%40)(?:abdm|sbx)\b)"
    rf"|(?P<aadhaar>(?<!\d)\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d))"
    r"|(?P<mobile>(?<!\d)(?:(?:\+|%2B)?91[ -]?)?[6-9]\d{9}(?!\d))",
    re.IGNORECASE,
)


def _mask(match: re.Match) -> str:
    kind = match.lastgroup
    return match.group() if kind == "uuid" else f"<{kind}>"


def redact(text: str) -> str:
    """`text` with ABHA numbers and addresses, Aadhaar- and mobile-shaped numbers replaced by `<kind>`."""
    return _IDENTIFIER.sub(_mask, text)


class RedactPersonalData(logging.Filter):
    """Masks identifiers in a record's message (its args merged in) and its traceback. On a handler it changes the
    record itself, so the handlers after it (the test suite's log scan) see the masked line too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot format is logged as logging would (its own error)
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


class GunicornLogger(Logger):
    """gunicorn's logger with its access lines free of query strings (the request line, the referrer, the query
    atom) and every atom and error line masked like the portal's own log (`--logger-class` in Procfile.prod)."""

    _URL_ATOMS = ("f", "{referer}i", "{raw_uri}e", "{request_uri}e")
    _QUERY_ATOMS = ("q", "{query_string}e")

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactPersonalData())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        method, uri, protocol = environ["REQUEST_METHOD"], environ.get("RAW_URI", ""), environ["SERVER_PROTOCOL"]
        atoms["r"] = f"{method} {_without_query(uri)} {protocol}"
        for key in self._URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = _without_query(atoms[key])
        for key in self._QUERY_ATOMS:
            if key in atoms:
                atoms[key] = "-"
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
