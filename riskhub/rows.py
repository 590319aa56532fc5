"""Model instances from hand-written SQL, for the request hot paths only.

Authentication and the decision read run on every API call. Building their queries through the
ORM cost more CPU than everything else in a decision together (compiling the same SQL again on
every request — see docs/benchmarks.md), so those few queries are written out once and their rows
turned into model instances here, through the same converters the ORM applies (JSON fields,
SQLite's dates and UUIDs), so callers cannot tell the difference.
"""

import functools

from django.db import connection, models


def select_list(model, alias):
    """`alias."col", ...` for every concrete field of `model`, in field order."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(f.column)}" for f in model._meta.concrete_fields)


def placeholders(values):
    """`%s, %s, ...` for an IN list (portable: PostgreSQL and SQLite)."""
    return ", ".join(["%s"] * len(values))


_converters = {}


def _converters_for(model):
    key = (connection.vendor, model)
    found = _converters.get(key)
    if found is None:
        found = []
        for field in model._meta.concrete_fields:
            col = field.get_col(model._meta.db_table)
            funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            found.append((col, funcs))
        _converters[key] = found
    return found


def instance(model, values, using="default"):
    """A model instance from one row's values, in `select_list` order (as the ORM would build it)."""
    converted = []
    for (col, funcs), value in zip(_converters_for(model), values, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        converted.append(value)
    return model.from_db(using, None, converted)


def insert_many(model, fields, rows, *, ignore_conflicts=False, update_conflicts=False, returning=()):
    """INSERT `rows` (tuples of `fields` values) into `model`'s table; returns the `returning`
    columns of the rows inserted (or updated), as tuples, in no particular order.

    For the bulk write paths: bulk_create builds a model instance and compiles every value of
    every row in Python, which cost more than the database's work for a batch of flags. On
    PostgreSQL the whole set is one statement, `INSERT ... SELECT * FROM unnest(<one array per
    column>)`: the server parses, plans and runs it once instead of once per row as with
    executemany, and RETURNING answers for the whole set. Elsewhere (SQLite under `make run`) the
    rows go through executemany, or one by one when `returning` is asked for. Values go through
    each field's get_db_prep_save (UUIDs, datetimes, JSON alike), except on PostgreSQL for the
    types psycopg sends as they are (`_prepared`). On a conflict, skip the
    row (`ignore_conflicts`) or, keyed on the first field, overwrite the others (`update_conflicts`;
    each key at most once in `rows`).
    """
    if not rows:
        return []
    columns, sql = _insert_sql(connection.vendor, model, tuple(fields), ignore_conflicts, update_conflicts, returning)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                sql, [_prepared(f, column) for f, column in zip(columns, zip(*rows, strict=True), strict=True)]
            )
            return cursor.fetchall() if returning else []
        params = [[f.get_db_prep_save(v, connection) for f, v in zip(columns, row, strict=True)] for row in rows]
        if not returning:
            cursor.executemany(sql, params)
            return []
        found = []
        for values in params:
            cursor.execute(sql, values)
            found += cursor.fetchall()
        return found


@functools.cache
def _insert_sql(vendor, model, fields, ignore_conflicts, update_conflicts, returning):
    """(fields, INSERT statement) for insert_many, built once per shape: a single flag's request
    makes five of them."""
    qn = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    names = [qn(f.column) for f in columns]
    conflict = ""
    if ignore_conflicts:
        conflict = " ON CONFLICT DO NOTHING"
    elif update_conflicts:
        conflict = f" ON CONFLICT ({names[0]}) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in names[1:])
    back = f" RETURNING {', '.join(qn(model._meta.get_field(n).column) for n in returning)}" if returning else ""
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608 - names, not values
    if vendor == "postgresql":
        arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in columns)
        return columns, f"{head}SELECT * FROM unnest({arrays}){conflict}{back}"  # noqa: S608
    return columns, f"{head}VALUES ({placeholders(columns)}){conflict}{back}"


# Fields whose Python values psycopg sends as they are: their get_db_prep_save is the identity on
# PostgreSQL, and calling it for each of a 500-flag batch's ~13,000 values was the largest Python
# cost of the batch's inserts in the profile.
_NATIVE_ON_POSTGRESQL = (
    models.BooleanField,
    models.CharField,
    models.DateTimeField,
    models.FloatField,
    models.IntegerField,
    models.TextField,
    models.UUIDField,
)


def _prepared(field, values):
    target = field.target_field if field.is_relation else field
    if isinstance(target, _NATIVE_ON_POSTGRESQL):  # a foreign key's values are its target's
        return list(values)
    return [field.get_db_prep_save(v, connection) for v in values]
