"""Django's PostgreSQL backend, with psycopg's C loaders where Django installs Python ones.

Django reads `timestamptz` through a subclass of psycopg's pure-Python loader (to set the time
zone it wants on each value) and `jsonb` through the pure-Python text loader. psycopg's C
implementation (psycopg[binary]) has both, at a sixth of the cost for a timestamp
(docs/benchmarks.md): a score task reads two or three per buyer, an export one per flag.

Django keeps every connection's TimeZone at UTC (`ensure_timezone`; USE_TZ with TIME_ZONE "UTC"
in settings), so psycopg's own loader, which gives each value the connection's time zone, answers
the same aware datetimes as Django's: tzinfo `datetime.UTC`. psycopg's C loader classes cannot be
subclassed, so `UtcTimestamptzLoader` holds one and hands each value to it; its `timezone` is what
Django's `create_cursor` compares to decide whether a cursor needs a loader of its own (with it
equal, none does). `jsonb` read in binary, which only the decision read asks for, is decoded by
orjson.
"""

from datetime import UTC

import orjson
from django.db.backends.postgresql import base
from psycopg import DataError, adapters
from psycopg.adapt import Loader
from psycopg.pq import Format


def _default_loader(type_name):
    """The class psycopg itself loads `type_name` (text format) with: its C one when installed."""
    return adapters.get_loader(adapters.types[type_name].oid, Format.TEXT)


class UtcTimestamptzLoader(Loader):
    timezone = UTC  # Django's create_cursor reads it
    _loader = _default_loader("timestamptz")

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._psycopg = self._loader(oid, context)

    def load(self, data):
        return self._psycopg.load(data)


class OrjsonJsonbBinaryLoader(Loader):
    """`jsonb` sent in binary (the decision read, riskhub.db.fetchall), decoded by orjson: psycopg's
    own binary loader copies the value and decodes it with json.loads, at about three times the
    cost for a buyer's reasons (docs/benchmarks.md)."""

    format = Format.BINARY

    def load(self, data):
        if data[:1] != b"\x01":
            raise DataError(f"unknown jsonb binary format: {bytes(data[:1])!r}")
        return orjson.loads(memoryview(data)[1:])


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.timezone is UTC:  # else Django's loader stays: it sets another zone on each value
            connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
        connection.adapters.register_loader("jsonb", _default_loader("text"))  # JSONField decodes it
        connection.adapters.register_loader("jsonb", OrjsonJsonbBinaryLoader)
        return connection
