"""Migration steps shared by the apps' migrations."""

from django.db import migrations


def postgresql_only(forward, backward) -> migrations.RunPython:
    """A step that runs SQL (a string or a list of statements) on PostgreSQL only: functions, triggers and indexes
    that SQLite, the `make run` default, does without (the code paths that use them have an SQLite way)."""

    def run(statements):
        statements = [statements] if isinstance(statements, str) else list(statements)

        def step(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement, params=None)

        return step

    return migrations.RunPython(run(forward), run(backward))
