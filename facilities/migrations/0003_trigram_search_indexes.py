"""Trigram indexes for the directory's name search (pg_trgm).

Django's `icontains` becomes `UPPER(name::text) LIKE UPPER('%q%')` on PostgreSQL; a GIN trigram index on
the same expression answers it without a scan.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Query: directory and duplicate search, name__icontains=q.
    "CREATE INDEX IF NOT EXISTS facility_name_trgm_idx ON facilities_facility USING gin (UPPER(name::text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS facility_name_trgm_idx"]


class Migration(migrations.Migration):
    dependencies = [("facilities", "0002_registry_fields_and_counters")]

    operations = [migrations.RunSQL(CREATE, DROP)]
