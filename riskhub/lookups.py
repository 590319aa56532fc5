"""`field__any=[…]`: the IN lookup, sent as one array parameter on PostgreSQL.

For the scorer's chunk queries (hundreds of ids each): an IN list is a new statement text for every
length, which psycopg splits placeholder by placeholder on every run and the server plans again;
`= ANY(%s)` is one text whatever the count, converted once and prepared once (docs/benchmarks.md).
Registered (`register`) by identity's AppConfig, the lowest of the project's apps.
"""

from django.db.models import Field, ForeignObject
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class _OneArray:
    """`field = ANY(%s::type[])` on PostgreSQL; the IN lookup it extends elsewhere, for a subquery
    and for a composite key. Values are prepared as for `__in` (None dropped, an empty list
    matches nothing)."""

    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value() or isinstance(self.lhs, ColPairs):
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _, rhs_params = self.process_rhs(compiler, connection)
        array = f"{self.lhs.output_field.cast_db_type(connection)}[]"
        return f"{lhs} = ANY(%s::{array})", (*lhs_params, list(rhs_params))


class AnyOf(_OneArray, In):
    pass


class RelatedAnyOf(_OneArray, RelatedIn):
    """For foreign keys, whose lookups Django keeps apart from other fields'."""


def register():
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(RelatedAnyOf)
