"""Month abbreviations for the dates the pages show ("j M Y": 5 Oct 2026) in Gujarati.

Django formats `M` with its own catalogue's `_("jan")` ... `_("dec")` and ships no Gujarati, so Gujarati pages showed
English months. Marking the same msgids here puts them in `locale/gu` (and `locale/hi`, with Django's Hindi words),
which Django's date formatting then reads: nothing imports this module.
"""

from django.utils.translation import gettext_noop

MONTH_ABBREVIATIONS = [
    gettext_noop("jan"),
    gettext_noop("feb"),
    gettext_noop("mar"),
    gettext_noop("apr"),
    gettext_noop("may"),
    gettext_noop("jun"),
    gettext_noop("jul"),
    gettext_noop("aug"),
    gettext_noop("sep"),
    gettext_noop("oct"),
    gettext_noop("nov"),
    gettext_noop("dec"),
]
