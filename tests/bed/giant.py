"""Widens a giant tree: one root whose ResourceGroup holds thousands of provider stacks.

A cloud's biggest stacks are not many small roots but one tree: a ResourceGroup of
thousands of provider stacks (an autoscaled fleet). A real engine would take hours to
create one of 5,000 members here, so the scale benchmark has the real legacy engine
create the same tree with a few members (tests/templates/giant.yaml, examples/giant.sqlite)
and widens it: the members' subtrees are copied inside the same tree until the group has
`width` members, as Heat would have made them had it been asked for that count.

What Heat stores for a ResourceGroup of N members (seen with a real engine at 3 and 6
members, tests/bench_generator.rs compares a widening of 3 to 6 with Heat's own 6):
- the group's nested stack has one resource per member, named '0' .. 'N-1', each pointing
  at its member's provider stack; its raw_template is a template of those N resources,
  every one the group's resource_def, and an output refs_map of {name: get_resource name};
- each member is a provider stack of its own (name: the group stack's name, the member's
  name and the short id of the member resource's uuid), with its own raw_template, its
  resources, their properties data, resource data and events;
- the group resource's properties data hold the count, and the root's environment the
  count parameter it was given.

A member is a *unit*: the group stack's resource named m, its events, properties and
resource data, and the member's whole subtree (stacks, templates, resources, their data,
events, tags). Member j of the widened tree is a copy of source member m = j mod M (M the
source's members) with k = j div M; copy k renews each id the unit owns as replica.py
renews a tree's (an integer id i of table T becomes i + k * stride(T), a uuid u a
version-4-shaped hash of (seed, k, u)) and keeps every id it does not own (the group
stack, the root, the shared template files and user credentials). Random values (a
RandomString's secret) repeat from copy to copy; they are data, not structure.

The member definitions must be equal (a resource_def without %index%): a member's
properties, environment and data are then the same in every member and only ids and
names change. A source that is not so is refused, not approximated.
"""

import copy
import json
import re
import time
import uuid

import replica
from dbapi import Db

GROUP_TYPE = 'OS::Heat::ResourceGroup'
# Copies written per transaction.
COPIES_PER_BATCH = 500
# Heat's short id (heat.common.short_id): 12 characters of lower-case base32.
_SHORT_ID = re.compile(r'^[a-z2-7]{12}$')


class WidenPlan(object):
    """What a widening made: enough to name every member's rows (the floor's carrier)."""

    kind = 'giant'

    def __init__(self, seed, root, width, members, strides, owner, uuids):
        self.seed = seed
        self.root = root
        self.width = width
        self.members = members          # M: the source's members
        self.strides = dict(strides)
        # table -> {id: m} of the integer ids a unit owns; uuid -> m of its uuids
        self.owner = {t: {int(i): m for i, m in ids.items()}
                      for t, ids in owner.items() if t in self.strides and ids}
        self.uuids = dict(uuids)

    def to_json(self):
        return {'kind': self.kind, 'seed': self.seed, 'root': self.root,
                'width': self.width, 'members': self.members, 'strides': self.strides,
                'owner': {t: {str(i): m for i, m in ids.items()}
                          for t, ids in self.owner.items()},
                'uuids': self.uuids}

    @classmethod
    def from_json(cls, d):
        return cls(d['seed'], d['root'], d['width'], d['members'], d['strides'],
                   d['owner'], d['uuids'])

    def copies(self):
        """(k, m, j) of every member copy beyond the source's own (k >= 1)."""
        for j in range(self.members, self.width):
            yield j // self.members, j % self.members, j

    def unit_of(self, table, value):
        """The unit (source member) owning an integer id of table, or None (shared)."""
        return self.owner.get(table, {}).get(value)

    def int_id(self, table, k, value):
        """value in copy k: renewed when a unit owns it, else kept."""
        if value is None or k == 0 or self.unit_of(table, value) is None:
            return value
        return value + k * self.strides[table]

    def uuid(self, k, value):
        if value is None or k == 0 or value not in self.uuids:
            return value
        return replica.Plan.uuid(self, k, value)

    def floor_copies(self, trees):
        return FloorCopies(self, trees)


class FloorCopies(object):
    """The floor's view of a widened tree (floor.Copies' interface): one job, the whole
    tree; its changes are Heat's conversion of the source tree, each row a unit owns
    carried over to every copy of that unit."""

    def __init__(self, plan, trees):
        self.plan = plan
        self.trees = trees

    def jobs(self):
        if self.trees.get(self.plan.root, {}).get('stacks'):
            yield 0, self.plan.root

    def changes(self, k0, root):
        p = self.plan
        t = self.trees[root]
        # every k a unit is copied with, per unit (k = 0: the source's own)
        ks = {m: [0] for m in range(p.members)}
        for k, m, _ in p.copies():
            ks[m].append(k)

        def each(table, value):
            m = p.unit_of(table, value)
            return [0] if m is None else ks[m]

        stacks = []
        for s in t['stacks']:
            m = p.uuids.get(s)
            stacks += [p.uuid(k, s) for k in ([0] if m is None else ks[m])]
        resources = []
        for rid, tid, req, by in t['resources']:
            # An edge stays within its stack, so within its unit (or out of every unit):
            # a member's copy then carries its edges with it.
            m = p.unit_of('resource', rid)
            if any(p.unit_of('resource', x) != m for x in list(req) + list(by)):
                raise RuntimeError('resource %s has edges across members' % rid)
            for k in each('resource', rid):
                resources.append((
                    p.int_id('resource', k, rid), p.int_id('raw_template', k, tid),
                    _id_list(p.int_id('resource', k, x) for x in req),
                    _id_list(p.int_id('resource', k, x) for x in by)))
        deletes = {}
        for table, ids in t['delete'].items():
            deletes[table] = [p.int_id(table, k, i) for i in ids for k in each(table, i)]
        return stacks, resources, deletes


def _id_list(ids):
    return '[%s]' % ', '.join(str(i) for i in ids)


class Tree(object):
    """The source's giant tree: its rows, its group and its units."""

    def __init__(self, src, root_name):
        self.src = src
        stacks = {s['id']: s for s in src.dicts('stack')}
        roots = [sid for sid, s in stacks.items() if s['name'] == root_name
                 and s['owner_id'] is None and s['deleted_at'] is None]
        if len(roots) != 1:
            raise RuntimeError('the source has %d live roots named %s, 1 expected'
                               % (len(roots), root_name))
        self.root = roots[0]
        self.stacks = {sid: s for sid, s in stacks.items() if src.roots[sid] == self.root}
        self.resources = [r for r in src.dicts('resource') if r['stack_id'] in self.stacks]
        templates = {t['id']: t for t in src.dicts('raw_template')}
        root_tmpl = json.loads(templates[self.stacks[self.root]['raw_template_id']]
                               ['template'])
        groups = [n for n, d in root_tmpl.get('resources', {}).items()
                  if d.get('type') == GROUP_TYPE]
        if len(groups) != 1:
            raise RuntimeError('the root has %d %s resources, 1 expected'
                               % (len(groups), GROUP_TYPE))
        self.group_name = groups[0]
        self.group_res = self._one(lambda r: r['stack_id'] == self.root
                                   and r['name'] == self.group_name)
        self.group_stack = self.group_res['nova_instance']
        if self.group_stack not in self.stacks:
            raise RuntimeError('the group %s has no nested stack' % self.group_name)
        members = sorted((r for r in self.resources if r['stack_id'] == self.group_stack),
                         key=lambda r: int(r['name']))
        if [r['name'] for r in members] != [str(i) for i in range(len(members))] \
                or not members:
            raise RuntimeError('the group\'s members are not named 0 .. M-1: %s'
                               % [r['name'] for r in members])
        self.members = members
        self._units()

    def _one(self, pred):
        hits = [r for r in self.resources if pred(r)]
        if len(hits) != 1:
            raise RuntimeError('%d resources where 1 was expected' % len(hits))
        return hits[0]

    def _units(self):
        """Which rows each member (unit) owns."""
        src = self.src
        children = {}
        for sid, s in self.stacks.items():
            children.setdefault(s['owner_id'], []).append(sid)
        unit_stack = {}        # stack id -> m
        self.member_stack = {}  # m -> the member's provider stack
        for m, r in enumerate(self.members):
            top = r['nova_instance']
            if top not in self.stacks or self.stacks[top]['owner_id'] != self.group_stack:
                raise RuntimeError('member %d has no provider stack' % m)
            self.member_stack[m] = top
            todo = [top]
            while todo:
                sid = todo.pop()
                unit_stack[sid] = m
                todo += children.get(sid, [])
        member_res = {r['id']: m for m, r in enumerate(self.members)}
        owner = {t: {} for t in replica.RENEW}
        uuids = {}
        for sid, m in unit_stack.items():
            owner['stack'][sid] = m
            uuids[sid] = m
            s = self.stacks[sid]
            for col in ('raw_template_id', 'prev_raw_template_id'):
                if s.get(col) is not None:
                    owner['raw_template'][s[col]] = m
        for r in self.resources:
            m = unit_stack.get(r['stack_id'], member_res.get(r['id']))
            if m is None:
                continue
            owner['resource'][r['id']] = m
            uuids[r['uuid']] = m
            for col in ('rsrc_prop_data_id', 'attr_data_id'):
                if r.get(col) is not None:
                    owner['resource_properties_data'][r[col]] = m
            # A None's physical id is a random uuid: each member has its own.
            if _is_uuid4(r['nova_instance']) and r['nova_instance'] not in self.stacks:
                uuids[r['nova_instance']] = m
        member_name = {r['name']: m for m, r in enumerate(self.members)}
        for e in src.dicts('event'):
            m = unit_stack.get(e['stack_id'])
            if m is None and e['stack_id'] == self.group_stack:
                m = member_name.get(e['resource_name'])
            if m is None:
                continue
            owner['event'][e['id']] = m
            uuids[e['uuid']] = m
            if e.get('rsrc_prop_data_id') is not None:
                owner['resource_properties_data'].setdefault(e['rsrc_prop_data_id'], m)
        for d in src.dicts('resource_data'):
            m = owner['resource'].get(d['resource_id'])
            if m is not None:
                owner['resource_data'][d['id']] = m
        for t in src.dicts('stack_tag'):
            m = unit_stack.get(t['stack_id'])
            if m is not None:
                owner['stack_tag'][t['id']] = m
        # Rows a unit shares with the rest of the tree (the tree's template files, its
        # user credentials) stay shared: a unit owns them only when no one else uses them.
        for table, col, refs in (
                ('raw_template_files', 'files_id', src.dicts('raw_template')),
                ('user_creds', 'user_creds_id', self.stacks.values())):
            users = {}
            for row in refs:
                v = row.get(col)
                if v is None:
                    continue
                key = row['id']
                m = owner['raw_template'].get(key) if table == 'raw_template_files' \
                    else unit_stack.get(key)
                if table == 'raw_template_files' and \
                        src.owner['raw_template'].get(key) != self.root:
                    continue
                users.setdefault(v, set()).add(m)
            for v, ms in users.items():
                if len(ms) == 1 and None not in ms:
                    owner[table][v] = ms.pop()
        self.owner = owner
        self.uuids = uuids
        self.unit_stack = unit_stack
        # Each unit must own the same shape of rows: the copies are of it.
        shapes = {tuple(sum(1 for v in ids.values() if v == m) for ids in owner.values())
                  for m in range(len(self.members))}
        if len(shapes) != 1:
            raise RuntimeError('the members are not alike: %s' % sorted(shapes))

    def in_tree(self, table, row):
        return self.src.group_of(table, row) == self.root


def _is_uuid4(value):
    try:
        return uuid.UUID(value).version == 4
    except (TypeError, ValueError, AttributeError):
        return False


def _member_defs(tree, tmpl):
    """The group template's member definitions, all equal (else the widening refuses)."""
    names = [str(i) for i in range(len(tree.members))]
    if list(tmpl.get('resources', {})) != names:
        raise RuntimeError('the group\'s template holds %s, members %s'
                           % (list(tmpl.get('resources', {})), names))
    first = tmpl['resources']['0']
    if any(tmpl['resources'][n] != first for n in names):
        raise RuntimeError('the members\' definitions differ (%%index%% in resource_def?):'
                           ' the widening copies one definition')
    return first


def _per_member(value, names, width, what):
    """An output value given per member (a dict keyed by member name or a list of one
    entry per member, each naming its member), widened to `width` members."""
    def rename(v, old, new):
        if isinstance(v, str):
            return new if v == old else v
        if isinstance(v, dict):
            return {k: rename(x, old, new) for k, x in v.items()}
        if isinstance(v, list):
            return [rename(x, old, new) for x in v]
        return v

    if isinstance(value, dict) and list(value) == names:
        return {str(j): rename(value['0'], '0', str(j)) for j in range(width)}
    if isinstance(value, list) and len(value) == len(names):
        return [rename(value[0], '0', str(j)) for j in range(width)]
    raise RuntimeError('the group\'s output %s is not one entry per member' % what)


def widened_group_template(tree, text, width):
    """The group stack's template at `width` members, as Heat writes it (JSON text)."""
    tmpl = json.loads(text)
    first = _member_defs(tree, tmpl)
    names = [str(i) for i in range(len(tree.members))]
    tmpl['resources'] = {str(j): copy.deepcopy(first) for j in range(width)}
    for name, out in tmpl.get('outputs', {}).items():
        out['value'] = _per_member(out['value'], names, width, name)
    return json.dumps(tmpl)


def widened_root(tree, template_text, environment_text, width):
    """The root's template and environment with the group's count set to `width`."""
    tmpl = json.loads(template_text)
    env = json.loads(environment_text) if environment_text else {}
    count = tmpl['resources'][tree.group_name].get('properties', {}).get('count')
    if isinstance(count, dict) and list(count) == ['get_param']:
        env.setdefault('parameters', {})[count['get_param']] = width
        return template_text, json.dumps(env)
    if isinstance(count, int):
        tmpl['resources'][tree.group_name]['properties']['count'] = width
        return json.dumps(tmpl), environment_text
    raise RuntimeError('the group\'s count is %r: neither a number nor a get_param'
                       % (count,))


class Renamer(object):
    """Names in copy k of unit m (member j): stacks, physical names, member names."""

    def __init__(self, tree, plan):
        self.tree = tree
        self.plan = plan
        stacks = tree.stacks
        self.parent = {r['nova_instance']: r for r in tree.resources
                       if r['nova_instance'] in stacks}
        self.member_ids = {r['id'] for r in tree.members}
        # A unit stack's name must be the one Heat gives it: checked, not assumed.
        for sid in tree.unit_stack:
            p = self.parent.get(sid)
            want = p and '%s-%s-%s' % (stacks[p['stack_id']]['name'], p['name'],
                                       replica.short_id(p['uuid']))
            if stacks[sid]['name'] != want:
                raise RuntimeError('stack %s is named %s, not as Heat names a nested '
                                   'stack (%s)' % (sid, stacks[sid]['name'], want))
        # physical name -> the resource it names (stack, name, uuid)
        self.by_physical = {}
        for r in tree.resources:
            if r['stack_id'] in tree.unit_stack or r['id'] in self.member_ids:
                self.by_physical[self._physical(r, lambda s: stacks[s]['name'],
                                             r['name'], r['uuid'])] = r

    @staticmethod
    def _physical(r, name_of, res_name, res_uuid):
        return '%s-%s-%s' % (name_of(r['stack_id']).rstrip('*'), res_name,
                             replica.short_id(res_uuid))

    def resource_name(self, r, j):
        return str(j) if r['id'] in self.member_ids else r['name']

    def stack_name(self, sid, k, j, memo):
        if sid not in self.tree.unit_stack:
            return self.tree.stacks[sid]['name']
        if sid not in memo:
            p = self.parent[sid]
            memo[sid] = self._physical(
                p, lambda s: self.stack_name(s, k, j, memo), self.resource_name(p, j),
                self.plan.uuid(k, p['uuid']))
        return memo[sid]

    def physical(self, value, k, j, memo):
        if value in self.tree.stacks:
            return self.plan.uuid(k, value)
        r = self.by_physical.get(value)
        if r is not None:
            return self._physical(r, lambda s: self.stack_name(s, k, j, memo),
                                  self.resource_name(r, j), self.plan.uuid(k, r['uuid']))
        return self.plan.uuid(k, value)


def widen(src_url, dst_url, width, root_name='giant', seed='giant'):
    """Write the source's tree `root_name`, widened to `width` members, into dst (a
    fresh Heat schema): a JSON report with the plan."""
    started = time.monotonic()
    src = replica.Source(src_url)
    tree = Tree(src, root_name)
    if width < len(tree.members):
        raise RuntimeError('width %d is below the source\'s %d members'
                           % (width, len(tree.members)))
    plan = WidenPlan(seed, tree.root, width, len(tree.members), src.strides(),
                     tree.owner, tree.uuids)
    names = Renamer(tree, plan)
    order = replica._table_order(dst_url)
    group_tmpl = tree.stacks[tree.group_stack]['raw_template_id']
    root_tmpl = tree.stacks[tree.root]['raw_template_id']
    group_props = tree.group_res['rsrc_prop_data_id']

    # Per table: (columns, shared rows edited for the width, unit rows by unit).
    tables = []
    for table, dst_cols in order:
        if table not in replica.RENEW or not src.rows.get(table):
            continue
        cols = [c for c in dst_cols if c in src.columns[table]]
        at = {c: i for i, c in enumerate(cols)}
        idx = [src.columns[table].index(c) for c in cols]
        key = 'stack_id' if table == 'stack_lock' else 'id'
        shared, units = [], {}
        for raw in src.rows[table]:
            if not tree.in_tree(table, raw):
                continue
            row = [raw[i] for i in idx]
            rid = row[at[key]]
            m = plan.uuids.get(rid) if isinstance(rid, str) else plan.unit_of(table, rid)
            if m is not None:
                units.setdefault(m, []).append(tuple(row))
                continue
            if table == 'raw_template' and rid == group_tmpl:
                row[at['template']] = widened_group_template(
                    tree, row[at['template']], width)
            elif table == 'raw_template' and rid == root_tmpl:
                row[at['template']], row[at['environment']] = widened_root(
                    tree, row[at['template']], row[at['environment']], width)
            elif table == 'resource_properties_data' and rid == group_props:
                data = json.loads(row[at['data']])
                data['count'] = width
                row[at['data']] = json.dumps(data)
            shared.append(tuple(row))
        tables.append((table, cols, shared, units))

    db = Db(dst_url)
    counts = {}
    if db.backend == 'sqlite':
        db.execute('PRAGMA cache_size = -262144')
    if db.backend == 'mysql':  # as replica.py: the rows are checked on the other backends
        db.execute('SET foreign_key_checks = 0')
        db.execute('SET unique_checks = 0')
    copies = list(plan.copies())
    try:
        db.begin()
        for table, cols, shared, _ in tables:
            counts[table] = db.load(table, cols, [tuple(db.value(v) for v in r)
                                                  for r in shared])
        for table, cols, _, units in tables:
            counts[table] += db.load(table, cols, [tuple(db.value(v) for v in r)
                                                   for m in sorted(units)
                                                   for r in units[m]])
        db.commit()
        for start in range(0, len(copies), COPIES_PER_BATCH):
            batch = copies[start:start + COPIES_PER_BATCH]
            db.begin()
            for table, cols, _, units in tables:
                rows = []
                for k, m, j in batch:
                    memo = {}
                    for r in units.get(m, ()):
                        rows.append(tuple(db.value(v) for v in
                                          _renew(table, cols, r, plan, names, k, j, memo)))
                counts[table] += db.load(table, cols, rows)
            db.commit()
        if db.backend == 'postgresql':
            replica._fix_sequences(db, [t for t, cols in order if 'id' in cols])
            db.commit()
    finally:
        db.close()
    return {'width': width, 'members': len(tree.members), 'rows': counts,
            'stacks': counts.get('stack', 0), 'resources': counts.get('resource', 0),
            'seconds': round(time.monotonic() - started, 1), 'plan': plan.to_json()}


def _renew(table, cols, row, plan, names, k, j, memo):
    """A unit's row as copy k (member j) holds it."""
    renew = replica.RENEW[table]
    out = list(row)
    at = {c: i for i, c in enumerate(cols)}
    for c, how in renew.items():
        i = at.get(c)
        if i is None or out[i] is None:
            continue
        v = out[i]
        if how == 'uuid':
            out[i] = plan.uuid(k, v)
        elif how == 'physical':
            out[i] = names.physical(v, k, j, memo)
        elif how == 'name':
            out[i] = names.stack_name(row[at['id']], k, j, memo)
        else:
            out[i] = plan.int_id(how[1], k, v)
    tree = names.tree
    if table == 'resource' and row[at['id']] in names.member_ids:
        out[at['name']] = str(j)
    elif table == 'stack' and row[at['owner_id']] == tree.group_stack:
        out[at['parent_resource_name']] = str(j)
    elif table == 'event':
        sid = row[at['stack_id']]
        if sid == tree.group_stack:
            out[at['resource_name']] = str(j)
        elif row[at['resource_name']] == tree.stacks[sid]['name']:
            out[at['resource_name']] = names.stack_name(sid, k, j, memo)
    return out


def shape(url, root_name):
    """A tree's rows with what Heat makes afresh each time taken out (ids, uuids, short
    ids in names, random values, timestamps): two trees Heat made from the same template
    at the same count have the same shape, and so must a widening and Heat's own tree.

    Names are given relative to the root's; physical ids that are stacks by the stack's
    name, other uuids as 'uuid'; integer ids that point into the tree by what they name.
    """
    src = replica.Source(url)
    stacks = {s['id']: s for s in src.dicts('stack')}
    root = [sid for sid, s in stacks.items() if s['name'] == root_name
            and s['owner_id'] is None and s['deleted_at'] is None]
    if len(root) != 1:
        raise RuntimeError('%d live roots named %s' % (len(root), root_name))
    root = root[0]
    tree = {sid for sid in stacks if src.roots[sid] == root}
    rname = stacks[root]['name']

    def name(n):
        if n is None:
            return None
        if n == rname or n.startswith(rname + '-'):
            n = 'ROOT' + n[len(rname):]
        return '-'.join('ID' if _SHORT_ID.match(p) else p for p in n.split('-'))

    def physical(v):
        if v in stacks:
            return 'stack ' + name(stacks[v]['name'])
        if _is_uuid4(v):
            return 'uuid'
        return name(v)

    templates = {t['id']: t for t in src.dicts('raw_template')}
    files = {t['id']: t for t in src.dicts('raw_template_files')}
    props = {p['id']: p for p in src.dicts('resource_properties_data')}
    resources = [r for r in src.dicts('resource') if r['stack_id'] in tree]
    res_by_id = {r['id']: r for r in resources}

    def template(tid):
        t = templates.get(tid)
        if t is None:
            return None
        return [t['template'], t['environment'],
                files[t['files_id']]['files'] if t.get('files_id') in files else None]

    def data(pid):
        p = props.get(pid)
        return None if p is None else [_no_random(p['data']), bool(p['encrypted'])]

    out = {'stacks': sorted(
        [name(s['name']), name(stacks[s['owner_id']]['name']) if s['owner_id'] else None,
         s['parent_resource_name'], s['nested_depth'], s['action'], s['status'],
         s['status_reason'], bool(s['convergence']), s['disable_rollback'], s['timeout'],
         s['tenant'], s['username'], s['stack_user_project_id'], bool(s['backup']),
         template(s['raw_template_id']), template(s['prev_raw_template_id']),
         s['user_creds_id'] == stacks[root]['user_creds_id']]
        for sid, s in stacks.items() if sid in tree)}
    out['resources'] = sorted(
        [name(stacks[r['stack_id']]['name']), r['name'], physical(r['nova_instance']),
         r['action'], r['status'], r['status_reason'], r['requires'], r['needed_by'],
         r['current_template_id'], r['rsrc_metadata'], data(r['rsrc_prop_data_id']),
         data(r['attr_data_id']), r['root_stack_id'] == root, r['properties_data']]
        for r in resources)
    out['resource_data'] = sorted(
        [name(stacks[res_by_id[d['resource_id']]['stack_id']]['name']),
         res_by_id[d['resource_id']]['name'], d['key'], bool(d['redact']),
         d['decrypt_method'], None if d['redact'] else _no_random(d['value'])]
        for d in src.dicts('resource_data') if d['resource_id'] in res_by_id)
    out['events'] = sorted(
        [name(stacks[e['stack_id']]['name']), name(e['resource_name']),
         physical(e['physical_resource_id']), e['resource_action'], e['resource_status'],
         e['resource_status_reason'], e['resource_type'], data(e['rsrc_prop_data_id'])]
        for e in src.dicts('event') if e['stack_id'] in tree)
    return json.loads(json.dumps(out, default=str))


def _no_random(text):
    """A RandomString's value (the label, a dash and 8 random letters and digits) with
    the random part taken out."""
    return re.sub(r'-[A-Za-z0-9]{8}\b', '-RANDOM', text) if isinstance(text, str) else text
