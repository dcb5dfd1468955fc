"""Trigram indexes for the directory's name search (PostgreSQL only).

Django's `icontains` becomes `UPPER(name::text) LIKE UPPER('%q%')` on PostgreSQL; a GIN trigram index on
the same expression answers it without a scan. SQLite (`make run`) has no pg_trgm and keeps a plain scan.
"""

from django.db import migrations

from core.migration_steps import postgresql_only

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Query: directory and duplicate search, name__icontains=q.
    "CREATE INDEX IF NOT EXISTS facility_name_trgm_idx ON facilities_facility USING gin (UPPER(name::text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS facility_name_trgm_idx"]


class Migration(migrations.Migration):
    dependencies = [("facilities", "0002_registry_fields_and_counters")]

    operations = [postgresql_only(CREATE, DROP)]
