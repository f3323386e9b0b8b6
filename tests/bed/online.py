#!/usr/bin/env python3
"""online: a real heat-engine at work while heat-converge runs (issue 12, tests/running_engines.rs).

Operators will not stop Heat to convert its stacks, so heat-converge must be right with
engines running. This driver, run in the bed's virtualenv, offers:

  drive URL WORKDIR --stop FILE [--ready FILE] [--threads N] [--seed S]
      Starts a real legacy heat-engine (convergence_engine = false) on the database and
      keeps it busy with updates (PATCH, template kept), suspends, resumes and deletes of
      random root stacks, from N threads, until FILE exists; then waits for every
      operation to settle, stops the engine and prints what it did. READY is written once
      the engine has accepted its first operation.

  window URL WORKDIR OP ROOT -- COMMAND...
      The race the issue asks about, made deterministic: Heat's own EngineService code
      (in this process, legacy) runs OP (update, suspend or delete) on ROOT, and COMMAND
      (a heat-converge run) is run right after the service has loaded the stack
      (Stack.load) and before it takes the stack lock. Prints the rows before, after
      heat-converge and after the engine's operation.

  name-nested URL
      Renames the nested stacks of a replicated database as Heat derives their names,
      so that an engine finds them (see cmd_name_nested).

Each prints one JSON document on stdout.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

import heatbed

SETTLE_SECS = 300


def _db(url):
    return sa.create_engine(url, pool_pre_ping=True)


def _rows(db, sql, **params):
    with db.connect() as c:
        return [dict(r._mapping) for r in c.execute(sa.text(sql), params)]


# --------------------------------------------------------------------------- names

def cmd_name_nested(args):
    """Give every live nested stack the name Heat derives for it.

    heatbed.py replicate makes each copy's stack names unique by a suffix, but Heat finds
    a nested stack by identity: its id and the name its parent resource derives
    (Resource.physical_resource_name: the parent stack's name, the resource's name and a
    short id of the resource's uuid), and refuses a name that differs (EntityNotFound).
    A copy's nested stacks are renamed so, parents first, so that an engine can work on
    whole trees. Prints the number renamed.
    """
    from heat.common import short_id
    db = _db(args.url)
    renamed = 0
    with db.begin() as c:
        level = [dict(r._mapping) for r in c.execute(sa.text(
            'SELECT id, name FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL'))]
        while level:
            below = []
            for parent in level:
                for child in c.execute(sa.text(
                        'SELECT s.id, s.name, r.name AS rname, r.uuid AS ruuid '
                        'FROM stack s JOIN resource r ON r.stack_id = s.owner_id '
                        'AND r.nova_instance = s.id WHERE s.owner_id = :id '
                        'AND s.deleted_at IS NULL AND s.backup = :no'),
                        {'id': parent['id'], 'no': False}):
                    name = '%s-%s-%s' % (parent['name'].rstrip('*'), child.rname,
                                         short_id.get_id(child.ruuid))
                    if name != child.name:
                        c.execute(sa.text('UPDATE stack SET name = :n WHERE id = :id'),
                                  {'n': name, 'id': child.id})
                        renamed += 1
                    below.append({'id': child.id, 'name': name})
            level = below
    db.dispose()
    return {'renamed': renamed}


# --------------------------------------------------------------------------- drive

class Tally(object):
    """What the driver asked of the engine and what the engine answered, per operation."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        # root id -> [[op, convergence as the driver read it, answer, unix time]]
        self.touched = {}

    def add(self, op, answer, root, convergence):
        key = '%s %s' % (op, answer)
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.touched.setdefault(root, []).append(
                [op, convergence, answer, round(time.time(), 3)])


def _choose(row, rnd):
    """The operation an operator might ask for a stack in this state (None: leave it)."""
    if row['status'] == 'IN_PROGRESS':
        return None
    if row['status'] == 'FAILED':
        return 'delete'
    if row['action'] == 'SUSPEND':
        return 'resume'
    return rnd.choices(['update', 'suspend', 'delete'], weights=[6, 2, 1])[0]


def _worker(eng, db, roots, tally, stop, ready, seed, deadline):
    rnd = random.Random(seed)
    ctx = heatbed.request_context()
    shuffle = 'RAND()' if db.dialect.name == 'mysql' else 'RANDOM()'
    while not os.path.exists(stop) and time.time() < deadline:
        # Two picks in three among the roots still legacy, where the race with
        # heat-converge is; the rest among all of them.
        legacy = rnd.random() < 2 / 3 and _rows(
            db, 'SELECT id FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL '
                'AND convergence = :no ORDER BY %s LIMIT 1' % shuffle, no=False)
        root = legacy[0]['id'] if legacy else rnd.choice(roots)
        rows = _rows(db, 'SELECT name, tenant, action, status, convergence, deleted_at '
                         'FROM stack WHERE id = :id', id=root)
        if not rows or rows[0]['deleted_at'] is not None:
            continue
        row = rows[0]
        op = _choose(row, rnd)
        if op is None:
            continue
        ident = {'tenant': row['tenant'], 'stack_name': row['name'],
                 'stack_id': root, 'path': ''}
        try:
            if op == 'update':
                eng.rpc.update_stack(ctx, ident, None, {}, {},
                                     {'existing': True, 'timeout_mins': 10})
            elif op == 'suspend':
                eng.rpc.stack_suspend(ctx, ident)
            elif op == 'resume':
                eng.rpc.stack_resume(ctx, ident)
            else:
                eng.rpc.delete_stack(ctx, ident, cast=False)
            answer = 'accepted'
        except Exception as e:  # the engine refused: its exception's class says why
            answer = getattr(e, 'exc_type', None) or type(e).__name__
        tally.add(op, answer, root, int(bool(row['convergence'])))
        if answer == 'accepted' and ready and not os.path.exists(ready):
            with open(ready, 'w') as f:
                f.write('ready\n')


def _in_progress(db):
    return _rows(db, "SELECT id, name, action, status, owner_id FROM stack "
                     "WHERE status = 'IN_PROGRESS' AND deleted_at IS NULL")


def cmd_drive(args):
    db = _db(args.url)
    roots = [r['id'] for r in _rows(
        db, 'SELECT id FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL')]
    busy_before = {r['id'] for r in _in_progress(db)}
    tally = Tally()
    started = time.time()
    with heatbed.Engine(args.url, args.workdir, convergence=False) as eng:
        threads = [threading.Thread(
            target=_worker, args=(eng, db, roots, tally, args.stop, args.ready,
                                  '%s-%d' % (args.seed, i),
                                  started + args.max_seconds))
            for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        driven = time.time() - started
        # Settle: every operation the engine started ends (COMPLETE or FAILED).
        deadline = time.time() + SETTLE_SECS
        while True:
            busy = [r for r in _in_progress(db) if r['id'] not in busy_before]
            if not busy or time.time() > deadline:
                break
            time.sleep(1)
        # The engine's convergence path ends with purge_db in its own thread.
        time.sleep(3)
        settled = time.time() - started - driven
    db.dispose()
    return {'roots': len(roots), 'seconds_driven': round(driven, 1),
            'seconds_to_settle': round(settled, 1),
            'operations': dict(sorted(tally.counts.items())),
            'touched': tally.touched,
            'still_in_progress': busy}


# --------------------------------------------------------------------------- window

def _tree_state(db, root):
    """The rows the window is about, for every stack of the tree under ROOT."""
    ids = [root]
    for sid in ids:
        ids.extend(r['id'] for r in _rows(
            db, 'SELECT id FROM stack WHERE owner_id = :id', id=sid))
    out = {}
    for sid in ids:
        s = _rows(db, 'SELECT name, action, status, status_reason, convergence, '
                      'current_traversal, raw_template_id, prev_raw_template_id, '
                      'backup, deleted_at FROM stack WHERE id = :id', id=sid)[0]
        s['convergence'] = bool(s['convergence'])
        s['backup'] = bool(s['backup'])
        s['deleted'] = s.pop('deleted_at') is not None
        s['resources'] = _rows(
            db, 'SELECT id, name, action, status, current_template_id, requires '
                'FROM resource WHERE stack_id = :id ORDER BY id', id=sid)
        for r in s['resources']:
            r['requires'] = heatbed._maybe_json(r['requires'])
        tmpl_ids = {s['raw_template_id'], s['prev_raw_template_id']}
        tmpl_ids |= {r['current_template_id'] for r in s['resources']}
        tmpl_ids.discard(None)
        s['templates_missing'] = sorted(
            t for t in tmpl_ids
            if not _rows(db, 'SELECT id FROM raw_template WHERE id = :id', id=t))
        s['lock'] = [r['engine_id'] for r in _rows(
            db, 'SELECT engine_id FROM stack_lock WHERE stack_id = :id', id=sid)]
        out[sid] = s
    return out


def cmd_window(args):
    # As heat-engine itself starts: oslo.service's threading backend (chosen before any
    # of Heat's engine modules is imported), and oslo.messaging's options registered.
    from oslo_service import backend
    backend.init_backend(backend.BackendType.THREADING)
    conf = heatbed.write_conf(args.workdir, args.url, convergence=False)
    heatbed.heat_in_process(conf)
    from oslo_config import cfg
    from oslo_messaging.rpc import client as oslo_rpc_client
    cfg.CONF.register_opts(oslo_rpc_client._client_opts)
    from heat.common import service_utils
    from heat.engine import service
    from heat.engine import stack as parser

    db = _db(args.url)
    result = {'before': _tree_state(db, args.root)}
    original_load = parser.Stack.load.__func__
    fired = []

    def load_then_convert(cls, context, stack_id=None, stack=None, **kwargs):
        """Stack.load as Heat has it; for ROOT, the first time, heat-converge runs
        right after it: between the engine's load and its stack lock."""
        st = original_load(cls, context, stack_id=stack_id, stack=stack, **kwargs)
        if st.id == args.root and not fired:
            fired.append(True)
            run = subprocess.run(args.command, capture_output=True, text=True)
            result['converge'] = {'exit_code': run.returncode,
                                  'report': _json_or_text(run.stdout)}
            result['loaded_convergence'] = st.convergence
            result['after_converge'] = _tree_state(db, args.root)
        return st

    parser.Stack.load = classmethod(load_then_convert)

    svc = service.EngineService('heatbed-window', 'engine')
    svc.engine_id = service_utils.generate_engine_id()
    svc.thread_group_mgr = service.ThreadGroupManager()
    ctx = heatbed.request_context()
    row = _rows(db, 'SELECT name, tenant FROM stack WHERE id = :id', id=args.root)[0]
    ident = {'tenant': row['tenant'], 'stack_name': row['name'],
             'stack_id': args.root, 'path': ''}
    try:
        if args.op == 'update':
            svc.update_stack(ctx, ident, None, {}, {},
                             {'existing': True, 'timeout_mins': 10})
        elif args.op == 'suspend':
            svc.stack_suspend(ctx, ident)
        elif args.op == 'delete':
            svc.delete_stack(ctx, ident)
        result['engine_answer'] = 'accepted'
    except Exception as e:
        result['engine_answer'] = '%s: %s' % (type(e).__name__, e)
    group = svc.thread_group_mgr.groups.get(args.root)
    for th in list(group.threads) if group else ():
        th.join(heatbed.WAIT_SECS)
    result['fired'] = bool(fired)
    result['after_engine'] = _tree_state(db, args.root)
    db.dispose()
    return result


def _json_or_text(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- main

def main(argv):
    p = argparse.ArgumentParser(prog='online', description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest='command_name', required=True)
    s = sub.add_parser('name-nested')
    s.add_argument('url'); s.set_defaults(f=cmd_name_nested)
    s = sub.add_parser('drive')
    s.add_argument('url'); s.add_argument('workdir')
    s.add_argument('--stop', required=True)
    s.add_argument('--ready')
    s.add_argument('--threads', type=int, default=4)
    s.add_argument('--seed', default='online')
    s.add_argument('--max-seconds', type=float, default=900,
                   help='stop driving after this long even without the stop file')
    s.set_defaults(f=cmd_drive)
    s = sub.add_parser('window')
    s.add_argument('url'); s.add_argument('workdir')
    s.add_argument('op', choices=['update', 'suspend', 'delete'])
    s.add_argument('root')
    s.add_argument('command', nargs=argparse.REMAINDER)
    s.set_defaults(f=cmd_window)
    args = p.parse_args(argv)
    if getattr(args, 'command', None) and args.command[:1] == ['--']:
        args.command = args.command[1:]
    result = args.f(args)
    json.dump(result, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
