"""Daily counts per district (core.DistrictDailyCount) for the dashboards' date ranges and trends.

`core_count_add` is replaced again, with the same signature, by one that also keeps them; existing daily rows are
summed into the new table.
"""

from importlib import import_module

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION core_count_add(
    p_metric text, p_day date, p_district integer, p_facility bigint, p_delta bigint
) RETURNS void AS $$
BEGIN
    INSERT INTO core_dailycount (metric, day, district_lgd, facility_key, value)
    VALUES (p_metric, p_day, p_district, p_facility, p_delta)
    ON CONFLICT (metric, day, district_lgd, facility_key) DO UPDATE SET value = core_dailycount.value + excluded.value;
    INSERT INTO core_districtdailycount (metric, day, district_lgd, value) VALUES (p_metric, p_day, p_district, p_delta)
    ON CONFLICT (metric, day, district_lgd) DO UPDATE SET value = core_districtdailycount.value + excluded.value;
    INSERT INTO core_countertotal (metric, district_lgd, value) VALUES (p_metric, p_district, p_delta)
    ON CONFLICT (metric, district_lgd) DO UPDATE SET value = core_countertotal.value + excluded.value;
    IF p_facility <> 0 THEN
        INSERT INTO core_facilitytotal (metric, facility_key, district_lgd, value)
        VALUES (p_metric, p_facility, p_district, p_delta)
        ON CONFLICT (metric, facility_key, district_lgd)
        DO UPDATE SET value = core_facilitytotal.value + excluded.value;
    END IF;
END;
$$ LANGUAGE plpgsql;
"""
# Back to the function of migration 0008.
BACKWARD = import_module("core.migrations.0008_facility_totals").FORWARD
BACKFILL = """
INSERT INTO core_districtdailycount (metric, day, district_lgd, value)
SELECT metric, day, district_lgd, SUM(value) FROM core_dailycount
GROUP BY metric, day, district_lgd HAVING SUM(value) <> 0
"""


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_audit_actor_no_duplicate_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='DistrictDailyCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('metric', models.CharField(max_length=40)),
                ('day', models.DateField()),
                ('district_lgd', models.PositiveIntegerField(default=0)),
                ('value', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('metric', 'day', 'district_lgd'), name='districtdailycount_one_per_day')],
            },
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL([FORWARD], [BACKWARD]),
    ]
