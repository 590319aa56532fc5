"""Make the audit trail append-only in PostgreSQL itself.

The model refuses save-on-existing and delete, and the admin is read-only, but a queryset
`.update()` / `.delete()` or a raw SQL statement would bypass both: this trigger refuses any
UPDATE or DELETE of blacklist_auditevent rows, whoever issues it. (TRUNCATE is left to the
table's owner: it fires no row triggers, and test databases are flushed with it.)
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION riskhub_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit events are append-only (' || TG_OP || ' refused)',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS auditevent_append_only ON blacklist_auditevent;
CREATE TRIGGER auditevent_append_only
    BEFORE UPDATE OR DELETE ON blacklist_auditevent
    FOR EACH ROW EXECUTE FUNCTION riskhub_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS auditevent_append_only ON blacklist_auditevent;
DROP FUNCTION IF EXISTS riskhub_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("blacklist", "0001_initial"),
        ("disputes", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
