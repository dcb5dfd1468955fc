"""Trigram index for the professional directory's name search (PostgreSQL only; see 0003)."""

from django.db import migrations

CREATE = (
    # Query: directory search, name__icontains=q over verified professionals.
    "CREATE INDEX IF NOT EXISTS professional_name_trgm_idx "
    "ON facilities_professional USING gin (UPPER(name::text) gin_trgm_ops)"
)


class Migration(migrations.Migration):
    dependencies = [("facilities", "0004_professional_registry")]

    operations = [
        migrations.RunSQL(
            ["CREATE EXTENSION IF NOT EXISTS pg_trgm", CREATE], ["DROP INDEX IF EXISTS professional_name_trgm_idx"]
        )
    ]
