"""Plain driver connections for the bed's bulk work: replication, the floor, row checks.

The scale benchmark writes and reads millions of rows. SQLAlchemy's statement layer costs
more per row than the databases do, so this module talks to each driver directly
(PyMySQL, psycopg2, sqlite3) with the multi-row statements each one is fastest with:
PyMySQL's executemany on INSERT ... VALUES (sent as multi-row INSERTs), psycopg2's
execute_values, sqlite3's executemany inside one transaction. URLs are the bed's
SQLAlchemy URLs; SQL is written with %s placeholders and rewritten for sqlite3.
"""

import datetime
import io
import sqlite3

import sqlalchemy as sa

# The most bound parameters one statement may carry: SQLite's limit since 3.32 is 32766,
# PostgreSQL's 65535; MariaDB has none but a packet size. One number keeps it simple.
MAX_PARAMS = 30000

# SQLAlchemy's storage format for DATETIME on SQLite (what Heat reads back).
SQLITE_DATETIME = '%Y-%m-%d %H:%M:%S.%f'


class Db(object):
    """One connection, its backend ('mysql', 'postgresql', 'sqlite') and helpers."""

    def __init__(self, url, autocommit=False):
        u = sa.engine.make_url(url)
        self.url = url
        self.backend = u.get_backend_name()
        self.database = u.database
        if self.backend == 'sqlite':
            # isolation_level=None: no implicit transactions; begin() says when.
            self.conn = sqlite3.connect(u.database, isolation_level=None,
                                        check_same_thread=False)
            self.conn.execute('PRAGMA foreign_keys = ON')
            self._in_tx = False
        elif self.backend == 'mysql':
            import pymysql
            self.conn = pymysql.connect(
                host=u.host or '127.0.0.1', port=u.port or 3306, user=u.username,
                password=u.password or '', database=u.database,
                charset=u.query.get('charset', 'utf8'), autocommit=autocommit)
        elif self.backend == 'postgresql':
            import psycopg2
            self.conn = psycopg2.connect(
                host=u.host or '127.0.0.1', port=u.port or 5432, user=u.username,
                password=u.password or '', dbname=u.database)
            self.conn.autocommit = autocommit
        else:
            raise ValueError('backend %s is not one the bed knows' % self.backend)

    # -- SQL text

    def sql(self, text):
        """%s placeholders as the driver wants them."""
        return text.replace('%s', '?') if self.backend == 'sqlite' else text

    def quote(self, name):
        return '`%s`' % name if self.backend == 'mysql' else '"%s"' % name

    def cols(self, names):
        return ', '.join(self.quote(c) for c in names)

    def true(self):
        return 'true' if self.backend == 'postgresql' else '1'

    def value(self, v):
        """A Python value as this driver stores it (SQLite keeps datetimes as text)."""
        if self.backend == 'sqlite' and isinstance(v, datetime.datetime):
            return v.strftime(SQLITE_DATETIME)
        return v

    # -- transactions and plain statements

    def begin(self):
        if self.backend == 'sqlite' and not self._in_tx:
            self.conn.execute('BEGIN')
            self._in_tx = True

    def commit(self):
        if self.backend == 'sqlite':
            if self._in_tx:
                self.conn.execute('COMMIT')
                self._in_tx = False
        else:
            self.conn.commit()

    def execute(self, text, params=()):
        cur = self.conn.cursor()
        cur.execute(self.sql(text), tuple(params))
        return cur

    def rows(self, text, params=()):
        cur = self.execute(text, params)
        out = cur.fetchall()
        cur.close()
        return out

    def close(self):
        self.conn.close()
        if hasattr(self, '_sa'):
            self._sa.dispose()

    # -- multi-row statements

    def insert(self, table, columns, rows):
        """INSERT every row (tuples in columns' order) as multi-row statements."""
        if not rows:
            return 0
        head = 'INSERT INTO %s (%s) VALUES ' % (self.quote(table), self.cols(columns))
        cur = self.conn.cursor()
        if self.backend == 'postgresql':
            from psycopg2 import extras
            extras.execute_values(cur, head + '%s', rows, page_size=1000)
        elif self.backend == 'mysql':
            # PyMySQL turns this into INSERTs of many rows each (up to ~1 MB).
            cur.executemany(head + '(%s)' % ', '.join(['%s'] * len(columns)), rows)
        else:
            cur.executemany(head + '(%s)' % ', '.join(['?'] * len(columns)), rows)
        cur.close()
        return len(rows)

    def load(self, table, columns, rows):
        """Bulk-load rows: PostgreSQL's COPY (execute_values parses and plans three times
        slower), otherwise insert()."""
        if self.backend != 'postgresql' or not rows:
            return self.insert(table, columns, rows)
        buf = io.StringIO()
        for r in rows:
            buf.write('\t'.join([_copy_text(v) for v in r]))
            buf.write('\n')
        buf.seek(0)
        cur = self.conn.cursor()
        cur.copy_expert('COPY %s (%s) FROM STDIN' % (self.quote(table), self.cols(columns)),
                        buf)
        cur.close()
        return len(rows)

    def update_from(self, table, key, columns, rows, extra_set=()):
        """UPDATE many rows to their own values in few statements.

        rows are tuples (key, value of columns[0], ...); extra_set are SET clauses
        shared by every row (e.g. "convergence = true"). Each backend's own multi-row
        form: PostgreSQL and SQLite UPDATE ... FROM (VALUES ...), MariaDB a join on a
        derived table of UNION ALL rows.
        """
        width = len(columns) + 1
        per = max(1, MAX_PARAMS // width)
        cur = self.conn.cursor()
        for start in range(0, len(rows), per):
            part = rows[start:start + per]
            flat = [v for r in part for v in r]
            if self.backend == 'postgresql':
                names = ['k'] + ['v%d' % i for i in range(len(columns))]
                sets = ['%s = v.v%d' % (self.quote(c), i) for i, c in enumerate(columns)]
                one = '(%s)' % ', '.join(['%s'] * width)
                text = 'UPDATE %s AS t SET %s FROM (VALUES %s) AS v(%s) WHERE t.%s = v.k' % (
                    self.quote(table), ', '.join(sets + list(extra_set)),
                    ', '.join([one] * len(part)), ', '.join(names), self.quote(key))
            elif self.backend == 'sqlite':
                sets = ['%s = v.column%d' % (self.quote(c), i + 2)
                        for i, c in enumerate(columns)]
                one = '(%s)' % ', '.join(['?'] * width)
                text = 'UPDATE %s SET %s FROM (VALUES %s) AS v WHERE %s.%s = v.column1' % (
                    self.quote(table), ', '.join(sets + list(extra_set)),
                    ', '.join([one] * len(part)), self.quote(table), self.quote(key))
            else:
                first = 'SELECT %s AS k, %s' % ('%s', ', '.join(
                    '%%s AS v%d' % i for i in range(len(columns))))
                rest = ' UNION ALL SELECT %s' % ', '.join(['%s'] * width)
                sets = ['t.%s = v.v%d' % (self.quote(c), i) for i, c in enumerate(columns)]
                sets += ['t.' + s for s in extra_set]
                text = 'UPDATE %s AS t JOIN (%s%s) AS v ON t.%s = v.k SET %s' % (
                    self.quote(table), first, rest * (len(part) - 1), self.quote(key),
                    ', '.join(sets))
            cur.execute(text, flat)
        cur.close()

    def delete_in(self, table, column, values, extra=''):
        """DELETE the rows whose column is one of values, in few statements."""
        values = list(values)
        cur = self.conn.cursor()
        ph = '?' if self.backend == 'sqlite' else '%s'
        extra_params = ()
        if extra:
            extra_text, extra_params = extra
        per = MAX_PARAMS - len(extra_params)
        done = 0
        for start in range(0, len(values), per):
            part = values[start:start + per]
            text = 'DELETE FROM %s WHERE %s IN (%s)' % (
                self.quote(table), self.quote(column), ', '.join([ph] * len(part)))
            if extra:
                text += ' AND ' + self.sql(extra_text)
            cur.execute(text, tuple(part) + tuple(extra_params))
            done += cur.rowcount
        cur.close()
        return done

    # -- schema

    def indexed_columns(self, table):
        """The columns that lead an index (or the primary key) of table."""
        insp = sa.inspect(self._engine())
        lead = set()
        for ix in insp.get_indexes(table):
            if ix.get('column_names') and ix['column_names'][0]:
                lead.add(ix['column_names'][0])
        pk = insp.get_pk_constraint(table).get('constrained_columns') or []
        if pk:
            lead.add(pk[0])
        for uq in insp.get_unique_constraints(table):
            if uq.get('column_names'):
                lead.add(uq['column_names'][0])
        return lead

    def foreign_keys_to(self, tables):
        """(table, column) of every single-column foreign key that references tables."""
        insp = sa.inspect(self._engine())
        out = []
        for t in insp.get_table_names():
            for fk in insp.get_foreign_keys(t):
                if fk['referred_table'] in tables and len(fk['constrained_columns']) == 1:
                    out.append((t, fk['constrained_columns'][0], fk['referred_table']))
        return sorted(out)

    def _engine(self):
        if not hasattr(self, '_sa'):
            self._sa = sa.create_engine(self.url)
        return self._sa


def _copy_text(v):
    """One value in COPY's text format."""
    if v is None:
        return '\\N'
    if isinstance(v, bool):
        return 't' if v else 'f'
    if isinstance(v, (bytes, bytearray, memoryview)):
        return '\\\\x' + bytes(v).hex()
    if isinstance(v, datetime.datetime):
        return v.isoformat(' ')
    return (str(v).replace('\\', '\\\\').replace('\t', '\\t')
            .replace('\n', '\\n').replace('\r', '\\r'))
