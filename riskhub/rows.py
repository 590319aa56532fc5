"""Model instances from hand-written SQL, for the request hot paths only.

Authentication and the decision read run on every API call. Building their queries through the
ORM cost more CPU than everything else in a decision together (compiling the same SQL again on
every request — see docs/benchmarks.md), so those few queries are written out once and their rows
turned into model instances here, through the same converters the ORM applies (JSON fields,
SQLite's dates and UUIDs), so callers cannot tell the difference.
"""

from django.db import connection


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


def insert_many(model, fields, rows, *, ignore_conflicts=False, update_conflicts=False):
    """INSERT `rows` (tuples of `fields` values) into `model`'s table through executemany.

    For the bulk write paths: bulk_create builds a model instance and compiles every value of
    every row in Python, which cost more than the database's work for a batch of flags (and, for
    score rows, escaped every JSON breakdown into one text array). Values still go through each
    field's get_db_prep_save (UUIDs, datetimes, JSON on SQLite alike). On a conflict, skip the row
    (`ignore_conflicts`) or, keyed on the first field, overwrite the others (`update_conflicts`).
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    names = [qn(f.column) for f in columns]
    conflict = ""
    if ignore_conflicts:
        conflict = " ON CONFLICT DO NOTHING"
    elif update_conflicts:
        conflict = f" ON CONFLICT ({names[0]}) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in names[1:])
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608 - names, not values
        f"VALUES ({placeholders(columns)})" + conflict
    )
    params = [[f.get_db_prep_save(v, connection) for f, v in zip(columns, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
