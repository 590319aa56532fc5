"""Model instances from hand-written SQL, for the request hot paths only.

Authentication and the decision read run on every API call. Building their queries through the
ORM cost more CPU than everything else in a decision together (compiling the same SQL again on
every request — see docs/benchmarks.md), so those few queries are written out once and their rows
turned into model instances here, through the same converters the ORM applies (JSON fields,
SQLite's dates and UUIDs), so callers cannot tell the difference.
"""

import contextlib
import functools
from datetime import UTC, datetime

import orjson
from django.db import connection, models


def select_list(model, alias):
    """`alias."col", ...` for every concrete field of `model`, in field order."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(f.column)}" for f in model._meta.concrete_fields)


def placeholders(values):
    """`%s, %s, ...` for an IN list (portable: PostgreSQL and SQLite)."""
    return ", ".join(["%s"] * len(values))


def any_of(column, values, db_type="text"):
    """(SQL, params) for "`column` is one of these `values`" (of the SQL type `db_type`), the raw
    SQL form of the `__any` lookup (riskhub.lookups). On PostgreSQL one array parameter,
    `column = ANY(%b::text[])`: the statement's text is the same whatever the count, so psycopg
    parses it once (splitting a thousand-placeholder IN list cost more client CPU than the lookup
    itself) and the server can prepare it. Elsewhere an IN list.

    One value is a plain equality, `column = %s` (so each statement has two texts, one and
    many): the server plans a prepared statement once for good only when its generic plan is
    about as cheap as one made for the values at hand, and an array's generic plan is estimated
    for an unknown count. A score task for one buyer, the common case under single flags, had its
    largest reads planned afresh at every execution: for the voices aggregate 0.57–0.61 ms of
    PostgreSQL CPU as an array, 0.15–0.16 ms as an equality (docs/benchmarks.md)."""
    values = list(values)
    if connection.vendor == "postgresql":
        if len(values) == 1:
            return f"{column} = %s::{db_type}", values
        array, param = _array_parameter(values, db_type)
        return f"{column} = ANY({array})", [param]
    return f"{column} IN ({placeholders(values)})", values


_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


def _array_parameter(values, db_type):
    """(`%s::type[]` or `%b::type[]`, the parameter): `values` as one array parameter of
    `db_type`. Integers go as the array's text, `{1,2,3}`, which the cast reads: psycopg encodes
    a list element by element in Python, 0.8 µs an element, three times what joining their
    digits costs (docs/benchmarks.md), and a score task sends its buyers' ids several times.
    `int()` keeps anything but a number out of the text. Anything else goes as the list itself,
    in binary (`%b`): psycopg's text format quotes and escapes a list of strings element by
    element through a regular expression, 2.7 µs an element, where its binary format takes 0.2,
    and an import chunk's idempotency keys and new identifiers are ≈ 7 strings a row."""
    if db_type in _INTEGER_TYPES:
        return f"%s::{db_type}[]", "{" + ",".join(map(str, map(int, values))) + "}"
    return f"%b::{db_type}[]", values


def keys_cte(name, columns, keys, types=None):
    """(SQL, params): `WITH name(columns…) AS (…)`, a table of these `keys` (tuples of one value
    per column; `types`: each column's SQL type, text unless given) for a statement to join to,
    each key one probe of an index. On PostgreSQL one array parameter per column (`unnest`): for
    a batch's 500 idempotency keys 4× quicker than IN lists (docs/benchmarks.md), and one
    statement text whatever the count. Elsewhere (SQLite under `make run`) a VALUES list."""
    keys = list(keys)
    head = f"WITH {name}({', '.join(columns)}) AS "
    if connection.vendor == "postgresql":
        types = types or ["text"] * len(columns)
        arrays = [_array_parameter([key[n] for key in keys], db_type) for n, db_type in enumerate(types)]
        sql = f"{head}(SELECT * FROM unnest({', '.join(cast for cast, _ in arrays)})) "  # noqa: S608 - placeholders only
        return sql, [param for _, param in arrays]
    if not keys:
        return f"{head}(SELECT {', '.join(['NULL'] * len(columns))} WHERE 1 = 0) ", []
    row = f"({placeholders(columns)})"
    return f"{head}(VALUES {', '.join([row] * len(keys))}) ", [value for key in keys for value in key]


def aware(moment):
    """A datetime read by hand-written SQL as the ORM would give it: PostgreSQL answers aware
    datetimes; SQLite (make run) naive UTC ones, or their text. None stays None."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


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
    return saved(model, converted, using)


def saved(model, values, using="default"):
    """The instance `model.from_db(using, None, values)` builds from a row's final values, in
    field order, for the bulk paths: the attributes set at once, not field by field through
    `Model.__init__` and its descriptors, 2.0 against 7.2 µs a flag, on every flag of an import
    chunk or a batch (docs/benchmarks.md). A model with its own __init__ or a listener to its
    init signals goes through from_db."""
    attnames = _plain_init(model)
    if attnames is None:
        return model.from_db(using, None, values)
    return _built(model, zip(attnames, values, strict=True), adding=False, db=using)


def _built(model, attributes, *, adding, db):
    """An instance of `model` with these attributes (a mapping or pairs) and a state of its own,
    built without `Model.__init__` (saved, clone)."""
    built = model.__new__(model)
    built.__dict__.update(attributes)
    built._state = models.base.ModelState()
    built._state.adding, built._state.db = adding, db
    return built


@functools.cache
def _plain_init(model):
    """The attribute names `Model.__init__` would set from a full row, or None where building an
    instance can run code of the project's (checked once per model, after the apps are loaded)."""
    if model.__init__ is not models.Model.__init__ or any(
        signal.has_listeners(model) for signal in (models.signals.pre_init, models.signals.post_init)
    ):
        return None
    return tuple(f.attname for f in model._meta.concrete_fields)


def clone(obj):
    """A copy of a model instance read from the database: its field values and a state of its own,
    no cached relations. What `instance` would build again from the same row, at a third of the
    cost (no field-by-field __init__): the API key cache hands one out per request."""
    return _built(obj.__class__, obj.__dict__, adding=obj._state.adding, db=obj._state.db)  # its _state replaced


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
            cursor.execute(sql, [_array(f, column) for f, column in zip(columns, zip(*rows, strict=True), strict=True)])
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


COPY_MIN_ROWS = 32


def copy_in(model, fields, rows):
    """Append `rows` (tuples of `fields` values) to `model`'s table, with no conflict handling: a
    row that breaks a unique constraint makes the whole call an IntegrityError (the caller's
    savepoint decides what happens next).

    The bulk write paths' appends. On PostgreSQL the rows stream in one binary COPY, each value
    encoded by psycopg's C dumpers for the column's own type: for a 500-flag batch that is a
    tenth of the client CPU of building the arrays `insert_many`'s unnest takes, and even a
    single row's values encode quicker. But a COPY is three round trips where an INSERT is one, so
    below COPY_MIN_ROWS rows (a single flag's five appends) `insert_many` is quicker: half the
    time for one row, the same at about 30 (docs/benchmarks.md). Elsewhere (SQLite under `make
    run`) the rows go through `insert_many` too. Values are prepared as `insert_many` prepares them.
    The COPY goes through Django's cursor wrappers, so query logging and execute wrappers see it
    like any statement.
    """
    if not rows:
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_MIN_ROWS:
        insert_many(model, fields, rows)
        return
    columns, sql = _copy_sql(model, tuple(fields))
    converted = [_prepared(f, column) for f, column in zip(columns, zip(*rows, strict=True), strict=True)]
    prepared = list(zip(*converted, strict=True))
    with connection.cursor() as cursor:
        types = _column_types(cursor, model, tuple(f.column for f in columns))

        def copy(sql, params, many, context):
            connection.validate_no_broken_transaction()
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as stream:
                stream.set_types(types)
                for row in prepared:
                    stream.write_row(row)

        logged = cursor.debug_sql(sql, None) if hasattr(cursor, "debug_sql") else contextlib.nullcontext()
        with logged:
            cursor._execute_with_wrappers(sql, None, False, copy)


@functools.cache
def _copy_sql(model, fields):
    qn = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    names = ", ".join(qn(f.column) for f in columns)
    return columns, f"COPY {qn(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"


_types = {}


def _column_types(cursor, model, columns):
    """The type OIDs of these columns, as the server has them (binary COPY sends each value in its
    column's exact type), read once per process and table."""
    table = model._meta.db_table
    if table not in _types:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped",
            [connection.ops.quote_name(table)],
        )
        _types[table] = dict(cursor.fetchall())
    return [_types[table][name] for name in columns]


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
        arrays = ", ".join(f"%b::{f.cast_db_type(connection)}[]" for f in columns)
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


def _array(field, values):
    """One column of insert_many's unnest arrays: the values as `_prepared` makes them, but JSON
    as text, which the statement's `::jsonb[]` cast parses. Not for `copy_in`: a binary COPY
    sends each value as its column's type, and would store that text as a JSON string."""
    target = field.target_field if field.is_relation else field
    if type(target) is models.JSONField and target.encoder is None:
        return [None if v is None else _json_text(v) for v in values]
    return _prepared(field, values)


def _json_text(value):
    """A JSONField value as JSON text, for insert_many's `::jsonb[]` cast (`_array`): written by
    orjson, 0.7 µs for a buyer's score breakdown against 8.4 through Django's and psycopg's JSON
    wrappers, a seventh of a score task's Python (docs/benchmarks.md). Keys that are not text
    become text, as json.dumps makes them. NaN and infinities, which json.dumps writes as tokens
    PostgreSQL refuses, come out as null: no value written here holds one (every factor of a
    score is finite and bounded, scoring.policy)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
