"""Fast bulk inserts for synthetic scale data with PostgreSQL COPY.

Columns a row does not give get the model field's default (callables called per row), the current
time for auto timestamps, NULL for nullable fields or "" for blank text. Used by generate_scale.
"""

import json
from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone


class JsonText(str):
    """A JSONField value already serialised (e.g. records.linking.documents.index_document): COPied as is."""


def reserve_ids(model: type[models.Model], count: int) -> int:
    """Reserve `count` consecutive primary keys and return the first (offline bulk loads only)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - table name from model meta
        start = cursor.fetchone()[0] + 1
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, start + count - 1])
    return start


def _column_fillers(model, given: set[str]):
    now = timezone.now()
    fillers = []
    for field in model._meta.concrete_fields:
        if field.attname in given:
            fillers.append((field, None))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fillers.append((field, lambda now=now: now))
        elif field.has_default():
            fillers.append((field, _default_filler(field)))
        elif field.null:
            fillers.append((field, lambda: None))
        elif isinstance(field, models.CharField | models.TextField):
            fillers.append((field, lambda: ""))
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
    return fillers


def _default_filler(field):
    if callable(field.default):
        return field.get_default  # e.g. uuid4: a new value per row
    value = field.get_default()
    return lambda: value


def insert_rows(model: type[models.Model], rows: Iterable[dict]) -> int:
    """Insert `rows` (dicts keyed by field attname, e.g. `district_id`) and return how many.

    JSON fields take Python values, or `JsonText` for text that is already JSON (copied unchanged).
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    fillers = _column_fillers(model, set(first))
    json_fields = {f.attname for f, _ in fillers if isinstance(f, models.JSONField)}

    plan = [(field.attname, fill, field.attname in json_fields) for field, fill in fillers]

    def values(row):
        out = [row[name] if fill is None else fill() for name, fill, _ in plan]
        if json_fields:
            # COPY's text format takes JSON as text.
            out = [_json_text(v) if is_json else v for v, (_, _, is_json) in zip(out, plan, strict=True)]
        return out

    count = 0
    columns = ", ".join(connection.ops.quote_name(f.column) for f, _ in fillers)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in _chain(first, iterator):
            copy.write_row(values(row))
            count += 1
    return count


def _json_text(value):
    if value is None:
        return None
    if isinstance(value, JsonText):
        return str(value)
    return json.dumps(value)


def _chain(first, rest):
    yield first
    yield from rest
