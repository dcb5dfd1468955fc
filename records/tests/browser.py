"""Shared by the records browser tests: a Chromium page signed in as a user, in a language
(the `contexts` fixture that closes them is in conftest.py)."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore


def signed_in(contexts, browser, live_server, user, viewport, language="en"):
    """A page in a new browser context with a session for `user` (as force_login would make) and a language."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    contexts.append(context)
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )
    return context.new_page()


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
