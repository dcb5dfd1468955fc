"""The bridge's callback endpoints, at the root paths the specs' webhooks define (mounted at "" in config/urls.py).

One route takes every path under /api/v3/; abdm.callbacks answers only the paths registered with
`register_callback` (404 for the rest), so a domain app adds a callback without touching URLs.
"""

from django.urls import re_path

from . import callbacks

urlpatterns = [
    re_path(r"^api/v3/(?P<rest>.+)$", callbacks.callback, name="abdm_callback"),
]
