"""Errors that services raise. Views show them as form messages; the API as its error shape."""


class DomainError(Exception):
    """A rule of the domain refused the request. `code` is stable for clients; `message` is for people."""

    status = 400
    code = "invalid"

    def __init__(self, message, *, code: str | None = None, fields: dict | None = None, retry_after: int | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.retry_after = retry_after  # seconds; the API sends it as Retry-After (429s)


class Conflict(DomainError):
    """The object is not in a state that allows this (e.g. granting an already denied consent)."""

    status = 409
    code = "conflict"


class NotAllowed(DomainError):
    """The actor's role or bindings do not allow this action on this object."""

    status = 403
    code = "permission_denied"


class LockedOut(DomainError):
    """Too many failed attempts: the account or the caller's address is paused for a while."""

    status = 429
    code = "locked_out"


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does."""

    status = 404
    code = "not_found"


class Throttled(DomainError):
    """Too many requests in the current window; `retry_after` says when the window ends."""

    status = 429
    code = "throttled"


class Unavailable(DomainError):
    """A service the request depends on (ABDM) is not answering; `retry_after` says when to try again."""

    status = 503
    code = "unavailable"


class UpstreamError(Exception):
    """An outside service the portal calls (ABDM, abdm.client.AbdmError) refused or failed a call.

    Not a DomainError: its own attributes describe the outside service's answer (its status, its text). Subclasses
    give `as_domain_error()`, the portal's view of it: a translated message for people, the status and `code` the
    portal answers with, and `retry_after`. The API answers that (core.api.errors); a page that did not catch it
    shows its message (core.middleware.UpstreamErrorMiddleware); services and views that want it as a form error
    catch it, or call `as_domain_error()` and handle it as any DomainError.
    """

    def as_domain_error(self) -> DomainError:
        raise NotImplementedError
