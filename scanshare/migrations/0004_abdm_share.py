"""Scan & Share through ABDM (issue 17 #5): a token can come from the ABHA app's share (the gateway's patient-share
callback), so a token records where it came from (`source`) and the sharer's ABHA address, and its patient may be
empty (an address-only ABHA, which ABDM shares without a number and the portal has no account for).

`scanshare_share_issue` takes the source and the address: a repeat share is the patient's open token at the counter,
or, without a patient, the address's. Same one round trip, same counter row lock, same gap-free numbers as 0002.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
DROP FUNCTION IF EXISTS scanshare_share_issue(
    text, text, bigint, bigint, text, timestamptz, date, timestamptz, jsonb, inet
);
DROP FUNCTION IF EXISTS scanshare_open_token(bigint, bigint, timestamptz);

CREATE OR REPLACE FUNCTION scanshare_open_token(
    p_patient bigint, p_abha_address text, p_counter bigint, p_now timestamptz
) RETURNS bigint AS $$
    SELECT id FROM scanshare_scantoken
     WHERE counter_id = p_counter AND status IN ('waiting', 'called') AND valid_until > p_now
       AND CASE WHEN p_patient IS NOT NULL THEN patient_id = p_patient
                ELSE p_abha_address <> '' AND abha_address = p_abha_address END
     ORDER BY issued_at DESC LIMIT 1;
$$ LANGUAGE sql VOLATILE;

CREATE OR REPLACE FUNCTION scanshare_share_issue(
    p_hip_id text, p_counter_code text, p_patient bigint, p_actor bigint, p_actor_label text,
    p_now timestamptz, p_day date, p_valid_until timestamptz, p_profile jsonb, p_ip inet,
    p_source text, p_abha_address text
) RETURNS TABLE (
    created boolean, token_id bigint, token_uuid uuid, token_number integer, token_status text, token_day date,
    issued_at timestamptz, valid_until timestamptz, profile text,
    counter_id bigint, counter_uuid uuid, counter_code text, counter_name text,
    facility_id bigint, facility_uuid uuid, hip_id text, facility_name text
) AS $$
#variable_conflict use_column
DECLARE
    v_counter record;
    v_token_id bigint;
    v_number integer;
    v_created boolean := false;
BEGIN
    SELECT c.id, c.uuid, c.code, c.name, f.id AS facility_pk, f.uuid AS facility_uuid, f.facility_id AS hip_id,
           f.name AS facility_name, COALESCE(f.district_id, 0) AS district_lgd
      INTO v_counter
      FROM facilities_counter c JOIN facilities_facility f ON f.id = c.facility_id
     WHERE f.facility_id = p_hip_id AND f.status = 'verified' AND c.code = p_counter_code AND c.active;
    IF NOT FOUND THEN
        RETURN;  -- no row: the caller works out what is wrong with the QR and says so
    END IF;

    v_token_id := scanshare_open_token(p_patient, p_abha_address, v_counter.id, p_now);
    IF v_token_id IS NULL THEN
        INSERT INTO scanshare_scansequence AS s (counter_id, day, last) VALUES (v_counter.id, p_day, 1)
        ON CONFLICT (counter_id, day) DO UPDATE SET last = s.last + 1
        RETURNING s.last INTO v_number;
        -- Holding the counter's row lock: a concurrent share by the same person has committed or waits behind us.
        v_token_id := scanshare_open_token(p_patient, p_abha_address, v_counter.id, p_now);
        IF v_token_id IS NOT NULL THEN
            UPDATE scanshare_scansequence AS s SET last = s.last - 1
             WHERE s.counter_id = v_counter.id AND s.day = p_day;  -- give the number back
        ELSE
            INSERT INTO scanshare_scantoken AS t (
                uuid, created_at, updated_at, facility_id, counter_id, day, number, patient_id, profile, status,
                issued_at, valid_until, source, abha_address
            ) VALUES (
                gen_random_uuid(), p_now, p_now, v_counter.facility_pk, v_counter.id, p_day, v_number, p_patient,
                p_profile, 'waiting', p_now, p_valid_until, p_source, p_abha_address
            ) RETURNING t.id INTO v_token_id;
            INSERT INTO core_auditevent (
                uuid, at, actor_id, actor_label, action, target_type, target_id, target_label, details, ip_address
            ) SELECT gen_random_uuid(), p_now, p_actor, p_actor_label, 'scan_share.share', 'scanshare.scantoken',
                     t.uuid::text, format('%s #%s (%s)', v_counter.code, v_number, p_day),
                     jsonb_build_object('facility', v_counter.hip_id, 'counter', v_counter.code, 'number', v_number,
                                        'source', p_source),
                     p_ip
                FROM scanshare_scantoken t WHERE t.id = v_token_id;
            PERFORM core_count_add('scan_tokens', p_day, v_counter.district_lgd, v_counter.facility_pk, 1);
            v_created := true;
        END IF;
    END IF;

    RETURN QUERY
        SELECT v_created, t.id, t.uuid, t.number::integer, t.status::text, t.day, t.issued_at, t.valid_until,
               t.profile::text, v_counter.id, v_counter.uuid, v_counter.code::text, v_counter.name::text,
               v_counter.facility_pk, v_counter.facility_uuid, v_counter.hip_id::text, v_counter.facility_name::text
          FROM scanshare_scantoken t WHERE t.id = v_token_id;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS scanshare_share_issue(
    text, text, bigint, bigint, text, timestamptz, date, timestamptz, jsonb, inet, text, text
);
DROP FUNCTION IF EXISTS scanshare_open_token(bigint, text, bigint, timestamptz);
"""


def _restore_0002(apps, schema_editor):
    """Going back: the function as migration 0002 made it."""
    from importlib import import_module

    schema_editor.execute(import_module("scanshare.migrations.0002_share_function").FORWARD)


class Migration(migrations.Migration):
    dependencies = [("abha", "0004_abdm_issued_accounts"), ("scanshare", "0003_display_key")]

    operations = [
        migrations.AddField(
            model_name="scantoken",
            name="abha_address",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.AddField(
            model_name="scantoken",
            name="source",
            field=models.CharField(
                choices=[("portal", "Portal scan page"), ("abdm", "ABHA app")], default="portal", max_length=10
            ),
        ),
        migrations.AlterField(
            model_name="scantoken",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="scan_tokens",
                to="abha.abhaaccount",
            ),
        ),
        migrations.AddIndex(
            model_name="scantoken",
            index=models.Index(
                condition=models.Q(("abha_address", ""), _negated=True),
                fields=["abha_address", "counter", "-issued_at"],
                name="scan_token_address_idx",
            ),
        ),
        # Inserted rows name every column, so the new columns need no database default.
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(migrations.RunPython.noop, _restore_0002),
    ]
