"""The database floor of the scale benchmark: a conversion's row changes, nothing else.

How fast can a database take the row changes of converting N trees at all? The floor
writes exactly those changes as multi-row statements, 1,000 trees per transaction, under
Heat's stack locks (inserted and deleted per transaction, as a conversion takes them),
and nothing more: no reads, no planning. heat-converge is measured against it.

The changes are not heat-converge's: they are what Heat's own conversion did to the
source database (the small one the benchmark's databases are replicated from), found by
comparing the source before and after Heat's conversion (derive()), then carried over to
every copy through the replication's Plan (replica.py), which names every copy's ids;
for the giant tree (giant.py), to every copy of a member inside the one tree through
giant.WidenPlan, which names every member's ids (one tree: one transaction).
`needed_by` is the one column Heat leaves empty ([]); heat-converge fills it with the
reverse edges of `requires` within each stack, and so does the floor.

Deleting a raw_template (or any row others point at) makes the database check the
foreign keys that point at it. Heat's PostgreSQL and SQLite schemas index few of those
columns, so each check scans the referencing table. heat-converge creates temporary
indexes named heat_converge_ix_<table>_<column> for them and drops them at the end; the
floor does the same (its time included), so the two are compared on equal terms.
"""

import json
import time
import uuid

import replica
from dbapi import Db

# The tables whose rows a conversion may delete, children first.
DELETE_ORDER = ('resource_data', 'resource', 'resource_properties_data',
                'raw_template', 'raw_template_files')
# Stack columns a conversion changes; anything else changed is not understood here.
STACK_CHANGES = {'convergence', 'current_traversal', 'prev_raw_template_id'}
RESOURCE_CHANGES = {'current_template_id', 'requires', 'needed_by'}

TREES_PER_TRANSACTION = 1000
INDEX_PREFIX = 'heat_converge_ix_'


def _json_ids(text):
    if text is None:
        return []
    return json.loads(text) if isinstance(text, str) else list(text)


def derive(before_url, after_url):
    """Heat's conversion of the source, per source root: what to write and delete.

    {root: {"stacks": [ids converted], "resources": [[id, current_template_id,
    requires, needed_by]], "delete": {table: [ids]}}}. Fails on any change it cannot
    carry over to a copy (a column it does not know, a row inserted).
    """
    src = replica.Source(before_url)
    after = replica.Source(after_url)
    trees = {}

    def tree(root):
        return trees.setdefault(root, {'stacks': [], 'resources': [],
                                       'delete': {t: [] for t in DELETE_ORDER}})

    for table in ('stack', 'resource') + DELETE_ORDER + ('stack_lock',):
        key = 'stack_id' if table == 'stack_lock' else 'id'
        old = {r[key]: r for r in src.dicts(table)}
        new = {r[key]: r for r in after.dicts(table)}
        added = sorted(set(new) - set(old), key=str)
        if added:
            raise RuntimeError('Heat\'s conversion added %s rows %s: the floor cannot '
                               'copy that' % (table, added[:5]))
        for rid in sorted(set(old) - set(new), key=str):
            if table not in DELETE_ORDER:
                raise RuntimeError('Heat\'s conversion deleted %s row %s' % (table, rid))
            root = src.owner[table].get(rid)
            if root is None:
                raise RuntimeError('%s row %s (deleted) belongs to no tree' % (table, rid))
            tree(root)['delete'][table].append(rid)
        for rid in set(old) & set(new):
            changed = {c for c in old[rid]
                       if not c.endswith('_at') and old[rid][c] != new[rid].get(c)}
            allowed = {'stack': STACK_CHANGES, 'resource': RESOURCE_CHANGES}.get(table, set())
            if changed - allowed:
                raise RuntimeError('Heat\'s conversion changed %s.%s of row %s: the floor '
                                   'does not know how to copy that'
                                   % (table, sorted(changed - allowed), rid))
    stacks_before = {s['id']: s for s in src.dicts('stack')}
    stacks_after = {s['id']: s for s in after.dicts('stack')}
    converted = {sid for sid, s in stacks_after.items()
                 if s['convergence'] and not stacks_before[sid]['convergence']}
    for sid in sorted(converted):
        s = stacks_after[sid]
        if s['prev_raw_template_id'] is not None or not _is_uuid4(s['current_traversal']):
            raise RuntimeError('stack %s converted by Heat is not as expected' % sid)
        tree(src.roots[sid])['stacks'].append(sid)
    per_stack = {}
    for r in after.dicts('resource'):
        s = stacks_after[r['stack_id']]
        if r['stack_id'] in converted and r['current_template_id'] == s['raw_template_id'] \
                and not (r['action'] == 'DELETE' and r['status'] == 'COMPLETE'):
            per_stack.setdefault(r['stack_id'], []).append(
                (r['id'], r['current_template_id'], _json_ids(r['requires'])))
    for sid, rows in sorted(per_stack.items()):
        for rid, tid, requires in sorted(rows):
            needed_by = sorted((o for o, _, req in rows if rid in req), reverse=True)
            tree(src.roots[sid])['resources'].append(
                [rid, tid, sorted(requires, reverse=True), needed_by])
    return trees


def _is_uuid4(value):
    try:
        return uuid.UUID(value).version == 4
    except (TypeError, ValueError):
        return False


def id_list(ids):
    """A JSON id list as Heat writes it: [9, 4]."""
    return '[%s]' % ', '.join(str(i) for i in ids)


class Copies(object):
    """A tree's changes as they read in copy k: ids through the Plan."""

    def __init__(self, plan, trees):
        self.plan = plan
        self.trees = trees

    def jobs(self):
        """(k, source root) of every copy of a tree Heat converted."""
        for k, live in self.plan.copies():
            for root in live:
                if self.trees.get(root, {}).get('stacks'):
                    yield k, root

    def changes(self, k, root):
        t = self.trees[root]
        p = self.plan
        rid = lambda i: p.int_id('resource', k, i)  # noqa: E731
        stacks = [p.uuid(k, s) for s in t['stacks']]
        resources = [(rid(r), p.int_id('raw_template', k, tid),
                      id_list(rid(x) for x in req), id_list(rid(x) for x in by))
                     for r, tid, req, by in t['resources']]
        deletes = {table: [p.int_id(table, k, i) for i in ids]
                   for table, ids in t['delete'].items()}
        return stacks, resources, deletes


def needed_indexes(db, delete_tables):
    """(table, column) of the foreign keys pointing at delete_tables that no index leads."""
    out = []
    for table, column, _ in db.foreign_keys_to(set(delete_tables)):
        if column not in db.indexed_columns(table):
            out.append((table, column))
    return out


def copies_of(plan, trees):
    """The changes as they read in the database plan made: replica.Plan's copies of
    whole trees, or a plan's own carrier (giant.WidenPlan: one tree, its members
    copied inside it)."""
    if hasattr(plan, 'floor_copies'):
        return plan.floor_copies(trees)
    return Copies(plan, trees)


def load_plan(d):
    """A plan from its JSON: giant.WidenPlan when it says so, else replica.Plan."""
    if d.get('kind') == 'giant':
        import giant
        return giant.WidenPlan.from_json(d)
    return replica.Plan.from_json(d)


def run(url, plan, trees, engine_id=None):
    """The floor on url: every copy's changes, TREES_PER_TRANSACTION trees at a time."""
    started = time.monotonic()
    copies = copies_of(plan, trees)
    jobs = list(copies.jobs())
    engine_id = engine_id or str(uuid.uuid4())
    db = Db(url)
    deleting = sorted({table for t in trees.values()
                       for table, ids in t['delete'].items() if ids})
    made = []
    try:
        for table, column in needed_indexes(db, deleting):
            name = INDEX_PREFIX + '%s_%s' % (table, column)
            db.execute('CREATE INDEX %s ON %s (%s)'
                       % (db.quote(name), db.quote(table), db.quote(column)))
            db.commit()
            made.append((name, table))
        for start in range(0, len(jobs), TREES_PER_TRANSACTION):
            _transaction(db, copies, jobs[start:start + TREES_PER_TRANSACTION], engine_id)
    finally:
        for name, table in made:
            db.execute('DROP INDEX %s%s' % (
                db.quote(name), ' ON %s' % db.quote(table) if db.backend == 'mysql' else ''))
            db.commit()
        db.close()
    return {'trees': len(jobs), 'indexes': [name for name, _ in made],
            'seconds': round(time.monotonic() - started, 3)}


def _transaction(db, copies, jobs, engine_id):
    stacks, resources = [], []
    deletes = {t: [] for t in DELETE_ORDER}
    for k, root in jobs:
        s, r, d = copies.changes(k, root)
        stacks += s
        resources += r
        for table, ids in d.items():
            deletes[table] += ids
    db.begin()
    db.insert('stack_lock', ['stack_id', 'engine_id'], [(s, engine_id) for s in stacks])
    for table in DELETE_ORDER[:3]:
        if deletes[table]:
            db.delete_in(table, 'id', deletes[table])
    db.update_from('resource', 'id', ['current_template_id', 'requires', 'needed_by'],
                   resources)
    db.update_from('stack', 'id', ['current_traversal'],
                   [(s, str(uuid.uuid4())) for s in stacks],
                   extra_set=('convergence = %s' % db.true(),
                              'prev_raw_template_id = NULL'))
    for table in DELETE_ORDER[3:]:
        if deletes[table]:
            db.delete_in(table, 'id', deletes[table])
    db.delete_in('stack_lock', 'stack_id', stacks, extra=('engine_id = %s', (engine_id,)))
    db.commit()
