"""Loads states, Gujarat's districts (LGD codes) and Census 2011 population figures from core/data/."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"
SOURCE = "Census 2011, Primary Census Abstract (via the LGD dump of Dec 2022)"
GUJARAT = 24


def _rows(name):
    with (DATA / name).open(encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load(apps, schema_editor):
    State = apps.get_model("core", "State")
    District = apps.get_model("core", "District")
    PopulationFigure = apps.get_model("core", "PopulationFigure")
    for row in _rows("india_states.csv"):
        state, _ = State.objects.update_or_create(lgd_code=int(row["lgd_code"]), defaults={"name": row["name"]})
        if row["census2011_population"]:
            PopulationFigure.objects.update_or_create(
                state=state,
                district=None,
                year=2011,
                defaults={"population": int(row["census2011_population"]), "source": SOURCE},
            )
    gujarat = State.objects.get(lgd_code=GUJARAT)
    for row in _rows("gujarat_districts.csv"):
        district, _ = District.objects.update_or_create(
            lgd_code=int(row["lgd_code"]),
            defaults={"state": gujarat, "name": row["name"], "name_gu": row["name_gu"], "name_hi": row["name_hi"]},
        )
        # Districts formed in 2013 have no 2011 figure: no row rather than a zero.
        if row["census2011_population"]:
            PopulationFigure.objects.update_or_create(
                state=gujarat,
                district=district,
                year=2011,
                defaults={"population": int(row["census2011_population"]), "source": SOURCE},
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
