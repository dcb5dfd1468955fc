"""What the facility and professional pages share: a form whose input one service writes."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied

from core.exceptions import DomainError


def form_errors(form, error: DomainError) -> None:
    """Show a service's refusal on the form: per field where the form has the field, else on top."""
    placed = False
    for name, field_messages in (error.fields or {}).items():
        for message in field_messages if isinstance(field_messages, list) else [field_messages]:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
    if not placed or not error.fields:
        form.add_error(None, error.message)


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
