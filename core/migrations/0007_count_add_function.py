"""One SQL function adds to a dashboard counter: `core_count_add(metric, day, district, facility,
delta)`. `core.counters.count_add` calls it, and so do write paths done in one statement (Scan & Share's
`scanshare_share_issue`), so every counted event keeps all the counter tables the same way.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION core_count_add(
    p_metric text, p_day date, p_district integer, p_facility bigint, p_delta bigint
) RETURNS void AS $$
BEGIN
    INSERT INTO core_dailycount (metric, day, district_lgd, facility_key, value)
    VALUES (p_metric, p_day, p_district, p_facility, p_delta)
    ON CONFLICT (metric, day, district_lgd, facility_key) DO UPDATE SET value = core_dailycount.value + excluded.value;
    INSERT INTO core_countertotal (metric, district_lgd, value) VALUES (p_metric, p_district, p_delta)
    ON CONFLICT (metric, district_lgd) DO UPDATE SET value = core_countertotal.value + excluded.value;
END;
$$ LANGUAGE plpgsql;
"""
BACKWARD = "DROP FUNCTION IF EXISTS core_count_add(text, date, integer, bigint, bigint);"


class Migration(migrations.Migration):
    dependencies = [("core", "0006_dailycount_facility_index")]
    operations = [migrations.RunSQL([FORWARD], [BACKWARD])]
