"""The latest day with a positive change per running total per facility (core.FacilityTotal.last_day).

`core_count_add` is replaced again, with the same signature, by one that also keeps it; existing rows get it from
the daily rows.
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
        -- GREATEST skips NULLs: a negative change leaves last_day as it was.
        INSERT INTO core_facilitytotal (metric, facility_key, district_lgd, value, last_day)
        VALUES (p_metric, p_facility, p_district, p_delta, CASE WHEN p_delta > 0 THEN p_day END)
        ON CONFLICT (metric, facility_key, district_lgd)
        DO UPDATE SET value = core_facilitytotal.value + excluded.value,
                      last_day = GREATEST(core_facilitytotal.last_day, excluded.last_day);
    END IF;
END;
$$ LANGUAGE plpgsql;
"""
# Back to the function of migration 0010.
BACKWARD = import_module("core.migrations.0010_district_daily_counts").FORWARD
# UPDATE ... FROM (PostgreSQL).
BACKFILL = """
UPDATE core_facilitytotal SET last_day = latest.day
FROM (
    SELECT metric, facility_key, district_lgd, MAX(day) AS day FROM core_dailycount
    WHERE facility_key <> 0 AND value > 0 GROUP BY metric, facility_key, district_lgd
) AS latest
WHERE core_facilitytotal.metric = latest.metric AND core_facilitytotal.facility_key = latest.facility_key
AND core_facilitytotal.district_lgd = latest.district_lgd
"""


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_district_daily_counts'),
    ]

    operations = [
        migrations.AddField(
            model_name='facilitytotal',
            name='last_day',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL([FORWARD], [BACKWARD]),
    ]
