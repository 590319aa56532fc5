"""Helpers for the tests that check how PostgreSQL plans a statement on a table of some size."""

# Parameters: seller, an order-ref prefix, the count. Flags written set-based, the way
# bench/rescore_bench.py loads its millions: the plan, not the write path, is under test.
FLAGS_SQL = """
INSERT INTO blacklist_flag (id, seller_id, buyer_key, reason_id, order_ref, note, occurred_at, created_at, status,
                            status_changed_at)
SELECT gen_random_uuid(), %s, md5(%s || g) || md5(g::text), 'extortion', 'O-' || g, '', now(), now(), 'active', now()
  FROM generate_series(1, %s) AS g
"""


def plan_nodes(node, node_type):
    """Every node of `node_type` in an EXPLAIN (FORMAT JSON) plan, init plans and subplans included."""
    if node["Node Type"] == node_type:
        yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child, node_type)
