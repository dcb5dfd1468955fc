"""What the facility and professional pages share: a form whose input one service writes, an officer's decision."""

from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from core import access
from core.exceptions import DomainError

from ..forms import VerifyForm


def form_errors(form, error: DomainError) -> None:
    """Show a service's refusal on the form: per field where the form has the field, else on top (with the
    refusal's message, and the messages of fields this form does not show, so none is lost)."""
    placed, elsewhere = False, []
    for name, field_messages in (error.fields or {}).items():
        for message in field_messages if isinstance(field_messages, list) else [field_messages]:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
            else:
                elsewhere.append(message)
    if not placed or not error.fields:
        form.add_error(None, error.message)
    for message in elsewhere:
        form.add_error(None, message)


@contextmanager
def refusal_on_form(form):
    """A service's refusal inside the block is shown on `form` and the view carries on after the block.

    A refusal for lack of permission (403) is a PermissionDenied instead.
    """
    try:
        yield
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        form_errors(form, error)


def decide(request, entry, verify, decided: dict, page):
    """An officer's decision on a submitted facility or professional, sent from the form on its page.

    `verify` is the entry's verify service, still to be given the decision and reason. Once made: back to the
    officer's queue, with the message `decided` has for that decision. Refused: the entry's `page` again with the
    refusal on the form (400), for those who may verify at all (others: 403).
    """
    form = VerifyForm(request.POST)
    if form.is_valid():
        with refusal_on_form(form):
            verify(actor=request.user, **form.cleaned_data, request=request)
            messages.success(request, decided[form.cleaned_data["decision"]])
            return redirect("facilities:queue")
    if not access.can(request.user, "verify", entry):
        raise PermissionDenied
    return page(request, entry, status=400, can_verify=True, verify_form=form)
