"""Copies a small Heat database's stack trees until there are N root stacks.

The scale benchmark needs Heat databases of 1,000 to 100,000 roots made of real Heat's
work; driving a heat-engine that long is out of the question. So the trees of a small
database made by Heat (examples/demo.sqlite) are copied round-robin, every id and every
link renewed, each copy a tree of its own.

Ids are derived, not random, so the benchmark's floor and row checks find every copy's
rows from this module's Plan alone (no map of a million entries): copy k (1, 2, ...) of
a row whose integer id is i gets i + k * stride (the stride of a table is the source's
largest id in it), and a uuid u becomes a version-4-shaped hash of (seed, k, u). Copy k
holds the live root trees in the source's id order (the last copy only the first few,
so that there are exactly N live roots), the source's deleted root trees once per copy,
and rows of no tree (a template no stack uses) once per copy.
"""

import hashlib
import queue
import threading
import time

import sqlalchemy as sa

from dbapi import Db

# How a copy renews each column that holds an id or must stay unique:
# ('int', T): an integer id of table T; 'uuid': a uuid; 'stack_ref': a stack's id when
# it is one (a nested stack's resource keeps its stack's id as physical id, events too),
# otherwise kept; 'name': a stack name, made unique (a backup stack keeps its '*').
RENEW = {
    'raw_template_files': {'id': ('int', 'raw_template_files')},
    'raw_template': {'id': ('int', 'raw_template'),
                     'files_id': ('int', 'raw_template_files')},
    'user_creds': {'id': ('int', 'user_creds')},
    'resource_properties_data': {'id': ('int', 'resource_properties_data')},
    'stack': {'id': 'uuid', 'owner_id': 'uuid', 'name': 'name',
              'raw_template_id': ('int', 'raw_template'),
              'prev_raw_template_id': ('int', 'raw_template'),
              'user_creds_id': ('int', 'user_creds')},
    'resource': {'id': ('int', 'resource'), 'uuid': 'uuid', 'stack_id': 'uuid',
                 'root_stack_id': 'uuid', 'nova_instance': 'stack_ref',
                 'replaces': ('int', 'resource'), 'replaced_by': ('int', 'resource'),
                 'current_template_id': ('int', 'raw_template'),
                 'rsrc_prop_data_id': ('int', 'resource_properties_data'),
                 'attr_data_id': ('int', 'resource_properties_data')},
    'resource_data': {'id': ('int', 'resource_data'), 'resource_id': ('int', 'resource')},
    'event': {'id': ('int', 'event'), 'uuid': 'uuid', 'stack_id': 'uuid',
              'physical_resource_id': 'stack_ref',
              'rsrc_prop_data_id': ('int', 'resource_properties_data')},
    'stack_tag': {'id': ('int', 'stack_tag'), 'stack_id': 'uuid'},
    'stack_lock': {'stack_id': 'uuid'},
    'snapshot': {'id': 'uuid', 'stack_id': 'uuid'},
    'resource_snapshot': {'id': 'uuid', 'snapshot_id': 'uuid'},
}

# Written once, as they are: the engines' service rows (a lock names its engine).
KEEP_ONCE = ('service',)
# Written by db_sync itself.
SCHEMA_ROWS = ('alembic_version', 'migrate_version')

# Copies written per transaction.
COPIES_PER_BATCH = 200


class Plan(object):
    """What a replication made: enough to name every row of every copy."""

    def __init__(self, seed, roots, live, dead, strides):
        self.seed = seed
        self.roots = roots
        self.live = list(live)      # the source's live root ids, in copy order
        self.dead = list(dead)      # its deleted roots (and stacks of no root)
        self.strides = dict(strides)

    def to_json(self):
        return {'seed': self.seed, 'roots': self.roots, 'live_roots': self.live,
                'dead_roots': self.dead, 'strides': self.strides}

    @classmethod
    def from_json(cls, d):
        return cls(d['seed'], d['roots'], d['live_roots'], d['dead_roots'], d['strides'])

    def copies(self):
        """(k, the live source roots copy k holds), k = 1, 2, ..."""
        per = len(self.live)
        k = 1
        while (k - 1) * per < self.roots:
            yield k, self.live[:min(per, self.roots - (k - 1) * per)]
            k += 1

    def int_id(self, table, k, old):
        return old + k * self.strides[table]

    def uuid(self, k, old):
        h = hashlib.md5(('%s:%d:%s' % (self.seed, k, old)).encode()).hexdigest()
        return '%s-%s-4%s-%s%s-%s' % (h[:8], h[8:12], h[13:16],
                                      '89ab'[int(h[16], 16) & 3], h[17:20], h[20:32])

    @staticmethod
    def name(k, old):
        if old.endswith('*'):  # a backup stack is its owner's name and '*'
            return '%s-c%d*' % (old[:-1], k)
        return '%s-c%d' % (old, k)


class Source(object):
    """Every row of the source, read once, each given to the tree it belongs to."""

    def __init__(self, url):
        eng = sa.create_engine(url)
        meta = sa.MetaData()
        meta.reflect(eng)
        self.columns = {}
        self.rows = {}
        with eng.connect() as c:
            for name, t in meta.tables.items():
                self.columns[name] = [col.name for col in t.columns]
                self.rows[name] = [tuple(r) for r in c.execute(sa.select(t))]
        eng.dispose()
        unknown = sorted(n for n, rows in self.rows.items()
                         if rows and n not in RENEW and n not in KEEP_ONCE
                         and n not in SCHEMA_ROWS)
        if unknown:
            raise RuntimeError('replicate does not know how to copy the rows of %s'
                               % ', '.join(unknown))
        self._group()

    def dicts(self, table):
        cols = self.columns.get(table, [])
        return [dict(zip(cols, r)) for r in self.rows.get(table, [])]

    def _group(self):
        stacks = {s['id']: s for s in self.dicts('stack')}
        self.stack_ids = set(stacks)

        def root_of(sid):
            seen = set()
            while stacks[sid]['owner_id'] in stacks and sid not in seen:
                seen.add(sid)
                sid = stacks[sid]['owner_id']
            return sid

        roots = {sid: root_of(sid) for sid in stacks}
        self.live = sorted(r for r in set(roots.values())
                           if stacks[r]['owner_id'] is None
                           and stacks[r]['deleted_at'] is None)
        self.dead = sorted(set(roots.values()) - set(self.live))
        # table -> {row id: root id}; a row claimed by two trees cannot be copied per tree.
        owner = {t: {} for t in RENEW}

        def claim(table, rid, root):
            if rid is None:
                return
            had = owner[table].setdefault(rid, root)
            if had != root:
                raise RuntimeError('%s row %s belongs to two trees (%s, %s)'
                                   % (table, rid, had, root))

        for s in stacks.values():
            claim('stack', s['id'], roots[s['id']])
            claim('raw_template', s['raw_template_id'], roots[s['id']])
            claim('raw_template', s.get('prev_raw_template_id'), roots[s['id']])
            claim('user_creds', s.get('user_creds_id'), roots[s['id']])
        for r in self.dicts('resource'):
            root = roots[r['stack_id']]
            claim('resource', r['id'], root)
            claim('raw_template', r.get('current_template_id'), root)
            claim('resource_properties_data', r.get('rsrc_prop_data_id'), root)
            claim('resource_properties_data', r.get('attr_data_id'), root)
        for e in self.dicts('event'):
            claim('event', e['id'], roots[e['stack_id']])
            claim('resource_properties_data', e.get('rsrc_prop_data_id'), roots[e['stack_id']])
        for t in self.dicts('raw_template'):
            claim('raw_template_files', t.get('files_id'), owner['raw_template'].get(t['id']))
        for d in self.dicts('resource_data'):
            claim('resource_data', d['id'], owner['resource'][d['resource_id']])
        for table in ('stack_tag', 'snapshot'):
            for r in self.dicts(table):
                claim(table, r['id'], roots[r['stack_id']])
        for r in self.dicts('stack_lock'):
            claim('stack_lock', r['stack_id'], roots[r['stack_id']])
        for r in self.dicts('resource_snapshot'):
            claim('resource_snapshot', r['id'], owner['snapshot'][r['snapshot_id']])
        self.owner = owner
        self.roots = roots

    def group_of(self, table, row):
        """The root whose tree holds row, or None (a row of no tree)."""
        key = 'stack_id' if table == 'stack_lock' else 'id'
        return self.owner[table].get(row[self.columns[table].index(key)])

    def strides(self):
        out = {}
        for table, renew in RENEW.items():
            if renew.get('id', None) == ('int', table):
                ids = [r[self.columns[table].index('id')] for r in self.rows.get(table, [])]
                out[table] = max(ids + [0]) or 1
        return out


def _table_order(dst_url):
    """Heat's tables, parents first, as db_sync made them at dst."""
    eng = sa.create_engine(dst_url)
    meta = sa.MetaData()
    meta.reflect(eng)
    order = [(t.name, [c.name for c in t.columns]) for t in meta.sorted_tables]
    eng.dispose()
    return order


def replicate(src_url, dst_url, roots, seed='heatbed'):
    """Write `roots` live roots into dst (a fresh Heat schema): a JSON report."""
    started = time.monotonic()
    src = Source(src_url)
    if not src.live:
        raise RuntimeError('the source has no live root stack to copy')
    plan = Plan(seed, roots, src.live, src.dead, src.strides())
    order = _table_order(dst_url)
    db = Db(dst_url)
    counts = {}
    if db.backend == 'sqlite':  # the file outgrows the default page cache of 2 MB
        db.execute('PRAGMA cache_size = -262144')
    if db.backend == 'mysql':
        # InnoDB checks each foreign key and unique index by reading the parent or index
        # page: at 100k roots (1.6 GB) that is a disk read per row with a default buffer
        # pool. The rows are the same as on PostgreSQL, which checks every key, and on
        # SQLite, whose foreign_key_check the bench test runs.
        db.execute('SET foreign_key_checks = 0')
        db.execute('SET unique_checks = 0')
    try:
        db.begin()
        for table, dst_cols in order:
            if table in KEEP_ONCE:
                cols = [c for c in dst_cols if c in src.columns.get(table, [])]
                idx = [src.columns[table].index(c) for c in cols]
                rows = [tuple(db.value(r[i]) for i in idx) for r in src.rows[table]]
                counts[table] = db.insert(table, cols, rows)
        db.commit()
        writers = _writers(src, plan, db, order)
        copies = list(plan.copies())
        for batch in _batches(writers, plan, copies, threaded=db.backend != 'sqlite'):
            db.begin()
            for table, cols, _ in writers:
                counts[table] = counts.get(table, 0) + db.load(table, cols, batch[table])
            db.commit()
        if db.backend == 'postgresql':
            _fix_sequences(db, [t for t, cols in order if 'id' in cols])
            db.commit()
    finally:
        db.close()
    return {'roots': roots, 'rows': counts, 'copies': len(copies),
            'seconds': round(time.monotonic() - started, 1), 'plan': plan.to_json()}


def _batches(writers, plan, copies, threaded):
    """The rows of COPIES_PER_BATCH copies at a time, per table. threaded: the next
    batch is made in a thread while the caller writes this one (the server works
    meanwhile; SQLite works in this process, so it gains nothing)."""
    def make(start):
        batch = {table: [] for table, _, _ in writers}
        for k, live in copies[start:start + COPIES_PER_BATCH]:
            groups = list(live) + plan.dead + [None]
            cache = {}
            for table, _, emit in writers:
                emit(k, groups, cache, batch[table])
        return batch

    starts = list(range(0, len(copies), COPIES_PER_BATCH))
    if not threaded:
        for start in starts:
            yield make(start)
        return
    made = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce():
        try:
            for start in starts:
                if stop.is_set():
                    return
                made.put(('rows', make(start)))
            made.put(('end', None))
        except Exception as e:  # raised again by the consumer
            made.put(('error', e))

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        while True:
            kind, value = made.get()
            if kind == 'end':
                return
            if kind == 'error':
                raise value
            yield value
    finally:
        stop.set()
        while producer.is_alive():  # unblock a put() waiting on a full queue
            try:
                made.get(timeout=0.1)
            except queue.Empty:
                pass


def _writers(src, plan, db, order):
    """Per table to copy: (table, columns, emit(k, groups, uuid_cache, out))."""
    out = []
    for table, dst_cols in order:
        if table not in RENEW or not src.rows.get(table):
            continue
        cols = [c for c in dst_cols if c in src.columns[table]]
        idx = [src.columns[table].index(c) for c in cols]
        renew = [(i, RENEW[table][c]) for i, c in enumerate(cols) if c in RENEW[table]]
        by_group = {}
        for r in src.rows[table]:
            by_group.setdefault(src.group_of(table, r), []).append(
                tuple(db.value(r[i]) for i in idx))
        out.append((table, cols, _emitter(plan, src.stack_ids, by_group, renew)))
    return out


def _emitter(plan, stack_ids, by_group, renew):
    def emit(k, groups, cache, out):
        def new_uuid(old):
            v = cache.get(old)
            if v is None:
                v = cache[old] = plan.uuid(k, old)
            return v
        offset = {t: k * s for t, s in plan.strides.items()}
        for g in groups:
            for base in by_group.get(g, ()):
                row = list(base)
                for i, how in renew:
                    v = row[i]
                    if v is None:
                        continue
                    if how == 'uuid':
                        row[i] = new_uuid(v)
                    elif how == 'stack_ref':
                        if v in stack_ids:
                            row[i] = new_uuid(v)
                    elif how == 'name':
                        row[i] = plan.name(k, v)
                    else:
                        row[i] = v + offset[how[1]]
                out.append(tuple(row))
    return emit


def _fix_sequences(db, tables):
    """PostgreSQL's serial columns go on after the ids written here."""
    for name in tables:
        seq = db.rows("SELECT pg_get_serial_sequence(%s, 'id')", (name,))[0][0]
        if seq:
            db.execute("SELECT setval(%s, COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)"
                       % ('%s', db.quote(name)), (seq,))
