"""Do two Heat databases of the same backend hold the same converted rows?

The scale benchmark runs heat-converge, Heat's own logic and the floor on identical
copies; their results must agree row for row in the tables a conversion touches. At
100,000 roots that is about a million rows a side, so both databases are read as
streams in key order and merged, never held in memory. What may differ: timestamps
(when, not what) and current_traversal, a fresh uuid4 per conversion (only whether it
is set, and a uuid4, counts). Callers may ignore more columns (Heat leaves needed_by
empty where heat-converge fills it).
"""

import json

from dbapi import Db
from heatbed import traversal_kind

TABLES = {'stack': 'id', 'resource': 'id', 'raw_template': 'id',
          'raw_template_files': 'id', 'stack_lock': 'stack_id'}
TEXT_KEYS = ('stack', 'stack_lock')
JSON_COLUMNS = ('requires', 'needed_by')
FETCH = 5000


def _columns(db, table, ignore):
    cur = db.execute('SELECT * FROM %s WHERE 1 = 0' % db.quote(table))
    names = [d[0] for d in cur.description]
    cur.close()
    return [c for c in names
            if (c == 'deleted_at' or not c.endswith('_at')) and (table, c) not in ignore]


def _stream(db, table, key, columns):
    """The rows of table in the byte order of key, normalised, as (key, row)."""
    order = db.quote(key)
    if table in TEXT_KEYS:  # byte order, as Python compares the keys in _merge
        if db.backend == 'postgresql':
            order += ' COLLATE "C"'
        elif db.backend == 'mysql':
            order = 'CAST(%s AS BINARY)' % order
    text = 'SELECT %s FROM %s ORDER BY %s' % (db.cols(columns), db.quote(table), order)
    if db.backend == 'postgresql':
        cur = db.conn.cursor(name='agree_%s' % table)  # server-side: streamed
        cur.itersize = FETCH
    elif db.backend == 'mysql':
        import pymysql.cursors
        cur = db.conn.cursor(pymysql.cursors.SSCursor)
    else:
        cur = db.conn.cursor()
    cur.execute(text)
    at = columns.index(key)
    kinds = []
    for c in columns:
        if c == 'deleted_at':
            kinds.append(lambda v: v is not None)
        elif c == 'current_traversal':
            kinds.append(traversal_kind)
        elif c in JSON_COLUMNS:
            kinds.append(lambda v: json.loads(v) if isinstance(v, str) else v)
        else:
            kinds.append(None)
    try:
        while True:
            chunk = cur.fetchmany(FETCH)
            if not chunk:
                return
            for r in chunk:
                row = tuple(v if f is None else f(v) for f, v in zip(kinds, r))
                k = r[at]
                yield (k.encode() if isinstance(k, str) else k), row
    finally:
        cur.close()


def compare(url_a, url_b, ignore=(), limit=10):
    """{"agree": bool, "differences": count, "first": [text...]} over TABLES."""
    ignore = set(ignore)
    first = []
    count = 0
    a, b = Db(url_a), Db(url_b)
    try:
        for table, key in TABLES.items():
            cols = _columns(a, table, ignore)
            other = _columns(b, table, ignore)
            if cols != other:
                count += 1
                first.append('%s: columns differ: %s vs %s' % (table, cols, other))
                continue
            for what in _merge(_stream(a, table, key, cols), _stream(b, table, key, cols)):
                count += 1
                if len(first) < limit:
                    first.append('%s %s' % (table, what(cols)))
            a.commit()  # ends the read transactions (PostgreSQL's named cursors)
            b.commit()
    finally:
        a.close()
        b.close()
    return {'agree': count == 0, 'differences': count, 'first': first}


def _merge(left, right):
    """Differences between two key-ordered streams, as functions of the column names."""
    end = object()
    la, lb = next(left, end), next(right, end)
    while la is not end or lb is not end:
        if lb is end or (la is not end and la[0] < lb[0]):
            yield lambda cols, r=la: '%s only in the first: %s' % (_key(r), _show(cols, r[1]))
            la = next(left, end)
        elif la is end or lb[0] < la[0]:
            yield lambda cols, r=lb: '%s only in the second: %s' % (_key(r), _show(cols, r[1]))
            lb = next(right, end)
        else:
            if la[1] != lb[1]:
                yield lambda cols, x=la, y=lb: '%s: %s' % (_key(x), ', '.join(
                    '%s %r vs %r' % (c, u, v)
                    for c, u, v in zip(cols, x[1], y[1]) if u != v))
            la, lb = next(left, end), next(right, end)


def _key(r):
    return r[0].decode() if isinstance(r[0], bytes) else r[0]


def _show(cols, row):
    return ', '.join('%s=%r' % (c, v) for c, v in zip(cols, row))
