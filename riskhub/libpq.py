"""One read statement run on libpq directly: the decision read's runner (riskhub.db.fetchall).

A psycopg cursor drives a statement through Python generators (prepare bookkeeping, result
checks, the wait loop): about 30 µs of CPU per statement on top of libpq's own round trip, a
third of the decision read's client side (docs/benchmarks.md). This runs the same statement with
libpq's blocking calls (through psycopg's `pgconn`): parameters are dumped and rows loaded by
psycopg's adapters (`psycopg.adapt.Transformer` on the connection, so the loaders registered there
apply), errors are psycopg's (`errors.error_from_result`). Blocking means a signal is handled once
the answer is in, not while PostgreSQL works: fine for the index probes of a decision read, not
for a statement that may run long.

Outside a transaction (autocommit, as every request runs) each statement text and parameter
types is prepared once per connection under a name of its own (riskhub_<n>), so its plan is
cached as psycopg's prepared statements are. Inside a transaction, and with the connection's
`prepare_threshold` set to None (behind PgBouncer in transaction mode, settings.DB_PGBOUNCER), the
statement goes unnamed: planned each time, never failing for a statement the session lost.
psycopg sends DEALLOCATE ALL after every ROLLBACK on the connection, and a session can be reset
(26000) or a table a statement reads change shape (0A000): the statement is then prepared again
and run once more, which is safe as no transaction was open.
"""

import functools
import itertools

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_OK = pq.ExecStatus.TUPLES_OK
_BINARY = pq.Format.BINARY
_IDLE = pq.TransactionStatus.IDLE
_PREPARE_AGAIN = frozenset({"26000", "0A000"})
MAX_PREPARED = 64  # statements beyond this many on one connection run unnamed
_NUMBERS = itertools.count(1)  # names unique in the process, whichever Runner prepares


class Runner:
    """Runs read statements on one psycopg connection (a Django connection's `connection`)."""

    def __init__(self, conn):
        self.conn = conn
        self.pgconn = conn.pgconn
        self.names = {}  # (sql, parameter types) → prepared statement name
        self.tx = Transformer(conn)  # reused, as a psycopg cursor reuses its own

    def usable(self):
        """False where psycopg itself must run the statement: outside autocommit with no
        transaction begun yet, psycopg sends the BEGIN first."""
        return self.conn.autocommit or self.pgconn.transaction_status != _IDLE

    def fetchall(self, sql, params, *, again=True):
        tx = self.tx
        values = tx.dump_sequence(params, [PyFormat.AUTO] * len(params))
        types, formats = tx.types, tx.formats
        query = _numbered(sql)
        idle = self.pgconn.transaction_status == _IDLE
        name = self._name(sql, query, types) if idle and self.conn.prepare_threshold is not None else None
        if name is None:
            result = self.pgconn.exec_params(query, values, types, formats, result_format=_BINARY)
        else:
            result = self.pgconn.exec_prepared(name, values, formats, result_format=_BINARY)
        if result.status != _OK:
            error = self._error(result)
            if name is not None and error.sqlstate in _PREPARE_AGAIN:
                self.names.clear()
                if again:  # prepared statements run outside transactions only: nothing was lost
                    return self.fetchall(sql, params, again=False)
            raise error
        tx.set_pgresult(result)
        return tx.load_rows(0, result.ntuples, tuple)

    def _name(self, sql, query, types):
        key = (sql, tuple(types))
        name = self.names.get(key)
        if name is None and len(self.names) < MAX_PREPARED:
            name = f"riskhub_{next(_NUMBERS)}".encode()
            result = self.pgconn.prepare(name, query, types)
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise self._error(result)
            self.names[key] = name
        return name

    def _error(self, result):
        """psycopg's error for a failed result; OperationalError when the connection died under it,
        as psycopg's cursor raises (riskhub.db.retried then retries on a new connection)."""
        if self.pgconn.status == pq.ConnStatus.BAD:
            message = result.error_message.decode(errors="replace").strip()
            return errors.OperationalError(f"the connection was lost: {message}")
        return errors.error_from_result(result, encoding=self.conn.info.encoding)


@functools.lru_cache(maxsize=256)
def _numbered(sql):
    """`sql` with its `%s` placeholders as $1, $2, … (bytes). No other `%` may appear."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("only %s placeholders are supported here")
    out = [parts[0]]
    for number, part in enumerate(parts[1:], start=1):
        out += [f"${number}", part]
    return "".join(out).encode()
