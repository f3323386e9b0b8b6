#!/usr/bin/env python3
"""heatbed: the real Heat, driven for heat-converge's tests.

The Rust tests never guess what Heat would do: they ask Heat. This driver runs inside the
virtualenv made by tests/bed/setup.sh (openstack-heat 27.0.1) and offers:

  createdb URL                 create an empty database and give it Heat's schema (db_sync)
  dropdb URL                   drop it again
  copy SRC DST                 make DST a Heat database holding the same rows as SRC
  replicate SRC DST N [--seed S] [--map F]
                               make DST a Heat database of N live roots: SRC's trees
                               copied round-robin, fresh ids everywhere (see replica.py;
                               --map: also write the plan that names every copy's ids)
  widen SRC DST WIDTH [--root NAME] [--seed S] [--map F]
                               make DST a Heat database holding SRC's tree NAME (default
                               giant) with its ResourceGroup widened to WIDTH members, as
                               Heat would have made it (see giant.py; --map: also write
                               the plan that names every member's ids)
  giant-shape URL ROOT         the tree ROOT with what Heat makes afresh each time taken
                               out (ids, short ids, random values): a widening's shape
                               must be Heat's own tree's (giant.shape)
  build URL WORKDIR [--cases F] [--global-env F] [--auth-key K] [--plugin-dir D]...
                               start a legacy heat-engine, create every test case, stop it
                               (--auth-key: the engine encrypts hidden parameters with K)
  snapshot URL                 the rows heat-converge changes, normalised for comparison
  convert URL WORKDIR [--auth-key K] [--plugin-dir D]...
                               Heat's own conversion (migrate_convergence_1) of every
                               legacy root stack
  crypt JOBS                   heat.common.crypt's encrypt/decrypt of each job of a JSON
                               list, and oslo-incubator's old encrypt (oslo_decrypt_v1)
  prove URL WORKDIR [--keep] [--plugin-dir D]... ID...
                               a convergence engine updates, then deletes (unless
                               --keep), each stack
  graph TEMPLATE [--environment F]... [--parameter K=V]... [--file NAME=PATH]...
        [--plugin-dir D]...    Heat's dependency graph for a template
  graph-batch JOBS [--plugin-dir D]...
                               the graph of every job of a JSON list, Heat loaded once
  parse FILE...                each file as JSON, parsed as Heat parses a template
  resource-types [--plugin-dir D]...
                               the resource type names Heat's global environment registers

--plugin-dir D (repeatable): a directory of third-party resource plugins, written into
heat.conf's [DEFAULT] plugin_dirs for every engine and in-process Heat the command runs
(in that order; without the option heat.conf does not set plugin_dirs, so Heat's default
applies). A relative D is taken from the current directory, else from tests/templates.

Every command prints one JSON document on stdout; diagnostics go to stderr. URLs are
SQLAlchemy URLs (mysql+pymysql://, postgresql+psycopg2://, sqlite:///).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(os.path.dirname(HERE), 'templates')
VENV_BIN = os.path.dirname(sys.executable)

# Every stack the bed creates belongs to this made-up project and user.
PROJECT_ID = '5f0c2b5a1d9e4e0b9c6a3f8e7d6c5b4a'
USER_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00'
USERNAME = 'bed-user'
PASSWORD = 'bed-password'

# The tables a snapshot covers: the ones heat-converge may change.
SNAPSHOT_TABLES = ('stack', 'resource', 'raw_template', 'raw_template_files',
                   'stack_lock')

WAIT_SECS = 240


def log(msg):
    print('heatbed: %s' % msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- databases

def _server_engine(url):
    """An engine on the server's maintenance database, for CREATE/DROP DATABASE."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() == 'postgresql':
        return sa.create_engine(u.set(database='postgres'),
                                isolation_level='AUTOCOMMIT'), u.database
    return sa.create_engine(u.set(database='')), u.database


def plugin_dirs(args):
    """The --plugin-dir options of a command, as absolute paths (see the docstring)."""
    out = []
    for d in getattr(args, 'plugin_dir', None) or ():
        for path in (os.path.abspath(d), os.path.join(TEMPLATES, d)):
            if os.path.isdir(path):
                out.append(path)
                break
        else:
            raise ValueError('--plugin-dir %s: no such directory' % d)
    return out


def write_conf(workdir, url, convergence=False, vhost=None, host=None,
               auth_key=None, plugin_dirs=None):
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, 'heat.conf')
    transport = 'rabbit://guest:guest@127.0.0.1:5672/%s' % (vhost or '')
    with open(path, 'w') as f:
        if auth_key is not None:
            f.write('[DEFAULT]\n'
                    'encrypt_parameters_and_properties = true\n'
                    'auth_encryption_key = %s\n' % auth_key)
        if plugin_dirs:
            # Heat loads every module of these directories as heat.engine.plugins.*
            # (a ListOpt: comma-separated).
            f.write('[DEFAULT]\nplugin_dirs = %s\n' % ','.join(plugin_dirs))
        f.write('[DEFAULT]\n'
                'convergence_engine = %s\n'
                'deferred_auth_method = password\n'
                'transport_url = %s\n'
                'num_engine_workers = 1\n'
                'client_retry_limit = 0\n'
                'host = %s\n'
                'log_file = %s\n'
                'environment_dir = %s\n'
                '[database]\nconnection = %s\n'
                '[oslo_messaging_notifications]\ndriver = noop\n'

                % ('true' if convergence else 'false', transport,
                   host or 'heatbed', os.path.join(workdir, 'heat.log'),
                   os.path.join(workdir, 'environment.d'), url))
    os.makedirs(os.path.join(workdir, 'environment.d'), exist_ok=True)
    return path


def db_sync(url):
    workdir = os.path.join(os.environ.get('TMPDIR', '/tmp'),
                           'heatbed-sync-%s' % uuid.uuid4().hex)
    conf = write_conf(workdir, url)
    try:
        subprocess.run([os.path.join(VENV_BIN, 'heat-manage'),
                        '--config-file', conf, 'db_sync'],
                       check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def cmd_createdb(args):
    u = sa.engine.make_url(args.url)
    if u.get_backend_name() == 'sqlite':
        if u.database and os.path.exists(u.database):
            os.unlink(u.database)
    else:
        eng, name = _server_engine(args.url)
        with eng.connect() as c:
            if u.get_backend_name() == 'mysql':
                c.execute(sa.text('CREATE DATABASE `%s` CHARACTER SET utf8'
                                  % name))
            else:
                c.execute(sa.text('CREATE DATABASE "%s"' % name))
        eng.dispose()
    db_sync(args.url)
    return {'created': u.database}


def cmd_dropdb(args):
    u = sa.engine.make_url(args.url)
    if u.get_backend_name() == 'sqlite':
        if u.database and os.path.exists(u.database):
            os.unlink(u.database)
        return {'dropped': u.database}
    eng, name = _server_engine(args.url)
    with eng.connect() as c:
        if u.get_backend_name() == 'mysql':
            c.execute(sa.text('DROP DATABASE IF EXISTS `%s`' % name))
        else:
            c.execute(sa.text('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                              % name))
    eng.dispose()
    return {'dropped': name}


# --------------------------------------------------------------------------- releases
#
# The release matrix (tests/releases.rs) runs this driver in each release's own
# virtualenv. The few places where Heat's internal API moved between releases go
# through these shims; each branch names the releases it is for.

def heat_db(name):
    """heat.db.<name>: Heat 2023.2 and later; heat.db.sqlalchemy.<name> in 2023.1."""
    import importlib
    try:
        return importlib.import_module('heat.db.' + name)
    except ImportError:  # Heat 2023.1 (20.x) and older
        return importlib.import_module('heat.db.sqlalchemy.' + name)


def writer_transaction(ctx):
    """One writer transaction, as the release's own migrate_convergence_1 means it.

    Heat 2024.1 and later run the database through enginefacade's context_manager (their
    migrate_convergence_1 still says ctxt.session.begin(), which fails there with
    NoEngineContextEstablished); Heat 2023.1 and 2023.2 have the legacy session, which
    is what their migrate_convergence_1 uses.
    """
    db_api = heat_db('api')
    if hasattr(db_api, 'context_manager'):
        return db_api.context_manager.writer.using(ctx)
    return ctx.session.begin()  # Heat 2023.1 and 2023.2 (20.x, 21.x)


def _heat_tables():
    models = heat_db('models')
    return [t for t in models.BASE.metadata.sorted_tables]


def cmd_copy(args):
    """Copy every Heat row from SRC into a fresh Heat schema at DST, ids kept."""
    cmd_createdb(argparse.Namespace(url=args.dst))
    src = sa.create_engine(args.src)
    dst = sa.create_engine(args.dst)
    src_meta = sa.MetaData()
    src_meta.reflect(src)
    dst_meta = sa.MetaData()
    dst_meta.reflect(dst)
    counts = {}
    with src.connect() as s, dst.begin() as d:
        for model_table in _heat_tables():
            name = model_table.name
            if name not in src_meta.tables or name not in dst_meta.tables:
                continue
            st, dt = src_meta.tables[name], dst_meta.tables[name]
            cols = [c.name for c in st.columns if c.name in dt.columns]
            order = [st.c[k] for k in ('id', 'stack_id') if k in st.c][:1]
            rows = [dict(r._mapping) for r in
                    s.execute(sa.select(*[st.c[c] for c in cols])
                              .order_by(*order))]
            if rows:
                d.execute(dt.insert(), rows)
            counts[name] = len(rows)
        if dst.dialect.name == 'postgresql':
            for name, t in dst_meta.tables.items():
                if 'id' in t.c and isinstance(t.c.id.type, sa.Integer):
                    d.execute(sa.text(
                        "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
                        "COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)"
                        % (name, name)))
    src.dispose()
    dst.dispose()
    return {'copied': counts}


def cmd_replicate(args):
    """SRC's trees copied into a fresh Heat schema at DST until it has N live roots."""
    import replica
    if args.n < 1:
        raise ValueError('N must be at least 1')
    cmd_createdb(argparse.Namespace(url=args.dst))
    result = replica.replicate(args.src, args.dst, args.n, seed=args.seed)
    if args.map:
        with open(args.map, 'w') as f:
            json.dump(result['plan'], f, indent=1, sort_keys=True)
    return result


def cmd_widen(args):
    """SRC's giant tree in a fresh Heat schema at DST, its group WIDTH members wide."""
    import giant
    cmd_createdb(argparse.Namespace(url=args.dst))
    result = giant.widen(args.src, args.dst, args.width, root_name=args.root,
                         seed=args.seed)
    if args.map:
        with open(args.map, 'w') as f:
            json.dump(result['plan'], f, indent=1, sort_keys=True)
    return result


def cmd_giant_shape(args):
    import giant
    return giant.shape(args.url, args.root)


# --------------------------------------------------------------------------- snapshot

def _bool_columns():
    models = heat_db('models')
    out = {}
    for t in models.BASE.metadata.sorted_tables:
        out[t.name] = {c.name for c in t.columns
                       if isinstance(c.type, sa.Boolean)}
    return out


def _maybe_json(value):
    if isinstance(value, bytes):
        value = value.decode('utf-8')
    if isinstance(value, str) and value[:1] in ('{', '['):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def traversal_kind(value):
    """current_traversal is random: a snapshot only says what kind of value it is."""
    if not value:
        return value
    try:
        return 'uuid4' if uuid.UUID(value).version == 4 else value
    except ValueError:
        return value


def snapshot(url):
    eng = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(eng, only=[t for t in SNAPSHOT_TABLES])
    bools = _bool_columns()
    out = {}
    with eng.connect() as c:
        for name in SNAPSHOT_TABLES:
            t = meta.tables[name]
            key = 'stack_id' if name == 'stack_lock' else 'id'
            rows = {}
            for r in c.execute(sa.select(t)):
                row = {}
                for col, value in r._mapping.items():
                    if col == 'deleted_at':
                        row['deleted'] = value is not None
                    elif col.endswith('_at'):
                        continue  # timestamps: when, not what
                    elif col in bools.get(name, ()):
                        row[col] = None if value is None else bool(value)
                    elif col == 'current_traversal':
                        row[col] = traversal_kind(value)
                    else:
                        row[col] = _maybe_json(value)
                rows[str(row[key])] = row
            out[name] = rows
    eng.dispose()
    return out


def cmd_snapshot(args):
    return snapshot(args.url)


# --------------------------------------------------------------------------- heat in-process

_CONF_LOADED = False


def heat_in_process(conf_path):
    """Load Heat's configuration and a fake message bus, once."""
    global _CONF_LOADED
    if _CONF_LOADED:
        return
    from oslo_config import cfg
    from oslo_log import log as logging
    from heat.common import config  # noqa: F401  (registers options)
    from heat.common import messaging
    from heat.engine import resources
    logging.register_options(cfg.CONF)
    cfg.CONF(['--config-file', conf_path], project='heat',
             prog='heatbed')
    messaging.setup('fake://', optional=True)
    resources.initialise()
    _CONF_LOADED = True


def request_context(**extra):
    """An admin context for the bed's project.

    There is no Keystone here. Heat builds a Keystone client when it deletes a stack;
    without a stack domain configured it then makes no call, but building it wants an
    endpoint, and one given in the context is taken as it is (no discovery). Nothing
    listens on it.
    """
    from heat.common import context
    return context.RequestContext(
        username=USERNAME, password=PASSWORD, user_id=USER_ID,
        project_id=PROJECT_ID, is_admin=True, roles=['admin'],
        auth_url='http://127.0.0.1:9/v3', **extra)


# --------------------------------------------------------------------------- engine

class Engine(object):
    """A real heat-engine process on its own RabbitMQ virtual host."""

    def __init__(self, url, workdir, convergence, auth_key=None,
                 global_env=None, plugin_dirs=None):
        self.url = url
        self.workdir = workdir
        self.vhost = 'heatbed-%s' % uuid.uuid4().hex[:12]
        self.conf = write_conf(workdir, url, convergence=convergence,
                               vhost=self.vhost, host=self.vhost,
                               auth_key=auth_key, plugin_dirs=plugin_dirs)
        if global_env:
            shutil.copy(os.path.join(TEMPLATES, global_env),
                        os.path.join(workdir, 'environment.d'))
        self.proc = None

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            # An engine that cannot start (e.g. a plugin directory whose module fails
            # to import) leaves neither a process nor a virtual host behind.
            self.__exit__(None, None, None)
            raise

    def _start(self):
        subprocess.run(['rabbitmqctl', '-q', 'add_vhost', self.vhost],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(['rabbitmqctl', '-q', 'set_permissions', '-p',
                        self.vhost, 'guest', '.*', '.*', '.*'],
                       check=True, stdout=subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            [os.path.join(VENV_BIN, 'heat-engine'), '--config-file',
             self.conf], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.workdir, 'engine.stderr'), 'a'),
            start_new_session=True)
        from oslo_config import cfg
        from heat.common import messaging
        from heat.rpc import client as rpc_client
        self._load_conf()
        messaging.setup()
        self.rpc = rpc_client.EngineClient()
        self.ctx = request_context()
        deadline = time.time() + 120
        while True:
            try:
                # One stack at most: a full listing of a large database takes longer
                # than the probe's timeout.
                self.rpc.call(self.ctx, self.rpc.make_msg('list_stacks', limit=1),
                              timeout=5)
                break
            except Exception as e:  # not up yet
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError('heat-engine did not start: %s (see %s)'
                                       % (e, self.workdir))
                time.sleep(1)
        log('engine up on vhost %s' % self.vhost)
        return self

    def _load_conf(self):
        from oslo_config import cfg
        from oslo_log import log as logging
        from heat.common import config  # noqa: F401
        logging.register_options(cfg.CONF)
        cfg.CONF(['--config-file', self.conf], project='heat', prog='heatbed')

    def __exit__(self, *exc):
        # SIGKILL, as when an engine host dies: an in-progress stack keeps its lock and
        # its IN_PROGRESS state, which is exactly the case the bed needs.
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        from heat.common import messaging
        messaging.cleanup()
        subprocess.run(['rabbitmqctl', '-q', 'delete_vhost', self.vhost],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return False

    # -- stacks

    def identity(self, stack_id):
        row = self.stack_row(stack_id)
        return {'tenant': row['tenant'], 'stack_name': row['name'],
                'stack_id': stack_id, 'path': ''}

    def stack_row(self, stack_id):
        if not hasattr(self, '_db'):
            self._db = sa.create_engine(self.url)
        with self._db.connect() as c:
            r = c.execute(sa.text('SELECT name, tenant, action, status, '
                                  'current_traversal, updated_at, deleted_at '
                                  'FROM stack WHERE id = :id'),
                          {'id': stack_id}).first()
        return dict(r._mapping)

    def mark(self, stack_id):
        """What the stack looks like now, so that wait() ignores a stale end state."""
        row = self.stack_row(stack_id)
        return (row['action'], row['status'], row['current_traversal'],
                row['updated_at'])

    def settled(self, stack_id, action):
        """The engine has finished with the stack, not only written its state: its lock
        is released (the operation's thread is over) and, after a delete, deleted_at is
        set. Heat writes DELETE_COMPLETE before deleted_at; a bed that stopped waiting at
        the state alone and killed the engine left a DELETE_COMPLETE stack that was never
        marked deleted (the flaky `deleted` case under load)."""
        with self._db.connect() as c:
            locked = c.execute(sa.text('SELECT COUNT(*) FROM stack_lock '
                                       'WHERE stack_id = :id'),
                               {'id': stack_id}).scalar()
        if locked:
            return False
        if action == 'DELETE':
            return self.stack_row(stack_id)['deleted_at'] is not None
        return True

    def wait(self, stack_id, action, statuses=('COMPLETE', 'FAILED'),
             since=None):
        deadline = time.time() + WAIT_SECS
        while time.time() < deadline:
            row = self.stack_row(stack_id)
            fresh = since is None or since != (
                row['action'], row['status'], row['current_traversal'],
                row['updated_at'])
            if (fresh and row['action'] == action and row['status'] in statuses
                    and (statuses == ('IN_PROGRESS',)
                         or self.settled(stack_id, action))):
                return '%s_%s' % (row['action'], row['status'])
            time.sleep(0.5)
        row = self.stack_row(stack_id)
        raise RuntimeError('stack %s still %s_%s after %ss' % (
            stack_id, row['action'], row['status'], WAIT_SECS))

    def create(self, name, template, params, files, environment):
        env = dict(environment or {})
        env.setdefault('parameters', {}).update(params or {})
        # A stack user project is normally made in Keystone; there is none here, and
        # naming one up front is what Heat itself does for nested stacks.
        ident = self.rpc._create_stack(
            self.ctx, name, template, env, files or {},
            {'timeout_mins': 10, 'disable_rollback': True},
            stack_user_project_id=PROJECT_ID)
        return ident['stack_id']

    def update(self, stack_id, template=None, environment=None, files=None):
        args = {'timeout_mins': 10, 'disable_rollback': True}
        if template is None:
            args['existing'] = True
        self.rpc.update_stack(self.ctx, self.identity(stack_id), template,
                              environment or {}, files or {}, args)

    def suspend(self, stack_id):
        self.rpc.stack_suspend(self.ctx, self.identity(stack_id))

    def resume(self, stack_id):
        self.rpc.stack_resume(self.ctx, self.identity(stack_id))

    def delete(self, stack_id):
        self.rpc.delete_stack(self.ctx, self.identity(stack_id), cast=False)


# --------------------------------------------------------------------------- cases

def load_cases(name='cases.yaml'):
    with open(os.path.join(TEMPLATES, name)) as f:
        return yaml.safe_load(f)['cases']


def read_template(name):
    from heat.common import template_format
    with open(os.path.join(TEMPLATES, name)) as f:
        return template_format.parse(f.read())


def read_environment(name):
    from heat.common import environment_format
    if not name:
        return {}
    with open(os.path.join(TEMPLATES, name)) as f:
        return environment_format.parse(f.read())


def read_files(names):
    out = {}
    for n in names or ():
        with open(os.path.join(TEMPLATES, n)) as f:
            out[n] = f.read()
    return out


def cmd_build(args):
    """Create every case with a legacy engine; print {case: {id, state}}.

    --cases: another cases file of tests/templates; --global-env: a file of
    tests/templates put in the engine's environment_dir (the global environment);
    --auth-key: the engine encrypts hidden parameters with that key; --plugin-dir: the
    engine loads the resource plugins of that directory.
    """
    cases = load_cases(args.cases)
    result = {}
    with Engine(args.url, args.workdir, convergence=False,
                auth_key=args.auth_key, global_env=args.global_env,
                plugin_dirs=plugin_dirs(args)) as eng:
        ids = {}
        for case in cases:
            ids[case['name']] = eng.create(
                case['name'], read_template(case['template']),
                case.get('parameters'), read_files(case.get('files')),
                read_environment(case.get('environment')))
        for case in cases:
            sid = ids[case['name']]
            then = case.get('then')
            if case['expect'] == 'CREATE_IN_PROGRESS':
                state = eng.wait(sid, 'CREATE', ('IN_PROGRESS',))
                time.sleep(3)  # let the slow resource start: it holds the lock
                result[case['name']] = {'id': sid, 'state': state}
                continue
            state = eng.wait(sid, 'CREATE')
            mark = eng.mark(sid)
            if then == 'update':
                eng.update(sid, read_template(case['update']),
                           read_environment(case.get('environment')),
                           read_files(case.get('files')))
                state = eng.wait(sid, 'UPDATE', since=mark)
            elif then == 'suspend':
                eng.suspend(sid)
                state = eng.wait(sid, 'SUSPEND', since=mark)
            elif then == 'delete':
                eng.delete(sid)
                state = eng.wait(sid, 'DELETE', since=mark)
            result[case['name']] = {'id': sid, 'state': state}
    wrong = ['%s ended %s, expected %s' % (c['name'], result[c['name']]['state'],
                                            c['expect'])
             for c in cases if result[c['name']]['state'] != c['expect']]
    if wrong:
        raise RuntimeError('cases not as expected (engine log in %s): %s'
                           % (args.workdir, '; '.join(wrong)))
    return result


# --------------------------------------------------------------------------- oracles

def cmd_convert(args):
    """Heat's own conversion, as migrate_convergence_1 does it, for every legacy root.

    heat-manage's command needs an engine and fails on every call in 27.0.1, so the
    same steps run here in-process: load, check every stack of the tree is COMPLETE,
    take Heat's stack locks, migrate_to_convergence() each in one writer transaction.
    With --plugin-dir, Heat loads those plugins first (resources.initialise() after the
    configuration with plugin_dirs is read); without them, a stack with a plugin type
    fails to load and its tree is refused.
    """
    heat_in_process(write_conf(args.workdir, args.url, auth_key=args.auth_key,
                               plugin_dirs=plugin_dirs(args)))
    from heat.common import exception
    from heat.engine import stack as parser
    from heat.engine import stack_lock
    from heat.objects import stack as stack_object

    engine_id = 'heatbed-convert-%s' % uuid.uuid4().hex[:8]
    eng = sa.create_engine(args.url)
    with eng.connect() as c:
        roots = [r[0] for r in c.execute(sa.text(
            'SELECT id FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL'
            ' ORDER BY id'))]
    eng.dispose()
    report = {}
    for root_id in roots:
        ctx = request_context()
        try:
            root = parser.Stack.load(ctx, stack_id=root_id, show_deleted=False)
            if root.convergence:
                report[root_id] = {'outcome': 'already'}
                continue
            if root.status != root.COMPLETE:
                raise exception.ActionNotComplete(stack_name=root.name,
                                                  action=root.action)
            stacks = [parser.Stack.load(ctx, stack_id=st.id, stack=st)
                      for st in stack_object.Stack.get_all_by_root_owner_id(
                          ctx, root.id)]
            for st in stacks:
                if st.status != st.COMPLETE:
                    raise exception.ActionNotComplete(stack_name=st.name,
                                                      action=st.action)
            stacks.append(root)
            locks = []
            try:
                for st in stacks:
                    lock = stack_lock.StackLock(ctx, st.id, engine_id)
                    locks.append(lock)
                    lock.acquire()
                with writer_transaction(ctx):
                    for st in stacks:
                        if not st.convergence:
                            st.migrate_to_convergence()
            finally:
                for lock in locks:
                    lock.release()
            report[root_id] = {'outcome': 'converted',
                               'stacks': len(stacks)}
        except Exception as e:
            report[root_id] = {'outcome': 'refused',
                               'reason': '%s: %s' % (type(e).__name__, e)}
    return report


def oslo_incubator_encrypt(key, msg):
    """oslo-incubator's SymmetricCrypto.encrypt (openstack/common/crypto/utils.py),
    which older Heat used for what heat.common.crypt.oslo_decrypt_v1 still reads: AES-CBC
    with a random IV, the message padded with zeros and a last byte giving their number.
    """
    import base64
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    iv = os.urandom(16)
    r = len(msg) % 16
    padlen = 16 - r - 1
    msg = msg + b'\x00' * padlen + bytes([padlen])
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(msg) + enc.finalize()).decode()


def cmd_crypt(args):
    """heat.common.crypt on each job of the JSON list JOBS, in order:
    {"encrypt": VALUE, "key": K} -> {"method": M, "data": D} (Heat's encrypt);
    {"oslo_encrypt": VALUE, "key": K} -> {"method": "oslo_decrypt_v1", "data": D}
      (oslo-incubator's old encrypt, the key as get_valid_encryption_key gives it);
    {"decrypt": [M, D], "key": K} -> {"value": V} or {"error": "Class"}.
    """
    from heat.common import crypt
    with open(args.jobs) as f:
        jobs = json.load(f)
    out = []
    for j in jobs:
        try:
            if 'encrypt' in j:
                m, d = crypt.encrypt(j['encrypt'], j['key'])
                out.append({'method': m, 'data': d})
            elif 'oslo_encrypt' in j:
                key = crypt.get_valid_encryption_key(j['key']).encode()
                out.append({'method': 'oslo_decrypt_v1',
                            'data': oslo_incubator_encrypt(
                                key, j['oslo_encrypt'].encode())})
            else:
                m, d = j['decrypt']
                out.append({'value': crypt.decrypt(m, d, j['key'])})
        except Exception as e:
            out.append({'error': type(e).__name__})
    return out


def cmd_prove(args):
    """A convergence engine updates (PATCH, template kept) then deletes each stack."""
    states = {}
    with Engine(args.url, args.workdir, convergence=True,
                plugin_dirs=plugin_dirs(args)) as eng:
        for sid in args.stack_ids:
            try:
                states[sid] = {}
                # Heat refuses to update a suspended stack: resume it first.
                if eng.stack_row(sid)['action'] == 'SUSPEND':
                    mark = eng.mark(sid)
                    eng.resume(sid)
                    states[sid]['resume'] = eng.wait(sid, 'RESUME', since=mark)
                mark = eng.mark(sid)
                eng.update(sid)
                states[sid]['update'] = eng.wait(sid, 'UPDATE', since=mark)
                if args.keep:
                    continue
                mark = eng.mark(sid)
                eng.delete(sid)
                states[sid]['delete'] = eng.wait(sid, 'DELETE', since=mark)
            except Exception as e:
                states[sid]['error'] = '%s: %s' % (type(e).__name__,
                                                   str(e).splitlines()[0])
    return states


def graph(template, environments=(), parameters=None, files=None,
          plugin_dirs=None):
    """Heat's dependency graph: {"resources": {name: {"type", "requires"}}}.

    environments are paths, merged in order; parameters maps names to values; files maps
    the name a template uses (get_file, a provider template as a type) to the path read
    for it; plugin_dirs, Heat's plugin_dirs (read when Heat is first loaded in this
    process). When Heat rejects the template: {"error": "Class: message"}.
    """
    workdir = os.path.join(os.environ.get('TMPDIR', '/tmp'),
                           'heatbed-graph-%s' % uuid.uuid4().hex)
    heat_in_process(write_conf(workdir, 'sqlite://', plugin_dirs=plugin_dirs))
    shutil.rmtree(workdir, ignore_errors=True)
    from heat.common import environment_format
    from heat.common import template_format
    from heat.engine import environment
    from heat.engine import stack as parser
    from heat.engine import template as templatem

    try:
        with open(template) as f:
            tmpl = template_format.parse(f.read())
        env = {}
        for path in environments:
            with open(path) as f:
                e = environment_format.parse(f.read())
            for k, v in e.items():
                if isinstance(v, dict):
                    env.setdefault(k, {}).update(v)
                else:
                    env[k] = v
        for k, v in (parameters or {}).items():
            env.setdefault('parameters', {})[k] = v
        contents = {}
        for n, p in (files or {}).items():
            with open(p) as f:
                contents[n] = f.read()
        t = templatem.Template(tmpl, files=contents,
                               env=environment.Environment(env))
        st = parser.Stack(request_context(), 'graph', t)
        deps = st.dependencies
        out = {}
        for name, res in st.resources.items():
            out[name] = {'type': res.type(),
                         'requires': sorted(r.name for r in deps.requires(res))}
        return {'resources': dict(sorted(out.items()))}
    except Exception as e:
        return {'error': '%s: %s' % (type(e).__name__, e)}


def cmd_graph(args):
    """Heat's dependency graph for one template (see graph())."""
    return graph(args.template, args.environment,
                 dict(kv.partition('=')[::2] for kv in args.parameter),
                 dict(nv.partition('=')[::2] for nv in args.file),
                 plugin_dirs(args))


def cmd_graph_batch(args):
    """graph() of every job in JOBS, in one process (Heat loads once): a list, in order.

    JOBS is a JSON file holding a list of {"template": PATH, "environments": [PATH],
    "parameters": {NAME: VALUE}, "files": {NAME: PATH}}; only template is required.
    """
    with open(args.jobs) as f:
        jobs = json.load(f)
    dirs = plugin_dirs(args)
    return [graph(j['template'], j.get('environments', ()),
                  j.get('parameters'), j.get('files'), dirs) for j in jobs]


def cmd_parse(args):
    """Each file parsed as Heat parses a template (JSON or YAML, dates kept as strings).

    {path: {"value": ...}} or {path: {"error": "..."}} when it is not a JSON object or
    YAML mapping. No version key is required, so environments parse too.
    """
    from heat.common import template_format
    out = {}
    for path in args.paths:
        try:
            with open(path) as f:
                out[path] = {'value': template_format.simple_parse(f.read())}
        except Exception as e:
            out[path] = {'error': '%s: %s' % (type(e).__name__, e)}
    return out


def cmd_resource_types(args):
    """The type names Heat's plugins register: a sorted JSON list.

    The keys of the global environment's registry after resources.initialise(), less
    'resources' (the resource-specific section, not a type). The environment directory
    is an empty one, so only the plugins speak.
    """
    workdir = os.path.join(os.environ.get('TMPDIR', '/tmp'),
                           'heatbed-types-%s' % uuid.uuid4().hex)
    heat_in_process(write_conf(workdir, 'sqlite://',
                               plugin_dirs=plugin_dirs(args)))
    shutil.rmtree(workdir, ignore_errors=True)
    from heat.engine import resources
    resources.initialise()
    registry = resources.global_env().registry._registry
    return sorted(name for name in registry if name != 'resources')


# --------------------------------------------------------------------------- main

def main(argv):
    p = argparse.ArgumentParser(prog='heatbed', description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest='command', required=True)
    s = sub.add_parser('createdb'); s.add_argument('url'); s.set_defaults(f=cmd_createdb)
    s = sub.add_parser('dropdb'); s.add_argument('url'); s.set_defaults(f=cmd_dropdb)
    s = sub.add_parser('copy'); s.add_argument('src'); s.add_argument('dst')
    s.set_defaults(f=cmd_copy)
    s = sub.add_parser('replicate'); s.add_argument('src'); s.add_argument('dst')
    s.add_argument('n', type=int); s.add_argument('--seed', default='heatbed')
    s.add_argument('--map'); s.set_defaults(f=cmd_replicate)
    s = sub.add_parser('widen'); s.add_argument('src'); s.add_argument('dst')
    s.add_argument('width', type=int); s.add_argument('--root', default='giant')
    s.add_argument('--seed', default='giant')
    s.add_argument('--map'); s.set_defaults(f=cmd_widen)
    s = sub.add_parser('giant-shape'); s.add_argument('url'); s.add_argument('root')
    s.set_defaults(f=cmd_giant_shape)
    s = sub.add_parser('build'); s.add_argument('url'); s.add_argument('workdir')
    s.add_argument('--cases', default='cases.yaml')
    s.add_argument('--global-env'); s.add_argument('--auth-key')
    s.add_argument('--plugin-dir', action='append', default=[])
    s.set_defaults(f=cmd_build)
    s = sub.add_parser('snapshot'); s.add_argument('url'); s.set_defaults(f=cmd_snapshot)
    s = sub.add_parser('convert'); s.add_argument('url'); s.add_argument('workdir')
    s.add_argument('--auth-key')
    s.add_argument('--plugin-dir', action='append', default=[])
    s.set_defaults(f=cmd_convert)
    s = sub.add_parser('crypt'); s.add_argument('jobs'); s.set_defaults(f=cmd_crypt)
    s = sub.add_parser('prove'); s.add_argument('url'); s.add_argument('workdir')
    s.add_argument('--keep', action='store_true',
                   help='update only: keep the stacks (no delete)')
    s.add_argument('--plugin-dir', action='append', default=[])
    s.add_argument('stack_ids', nargs='+'); s.set_defaults(f=cmd_prove)
    s = sub.add_parser('graph'); s.add_argument('template')
    s.add_argument('--environment', action='append', default=[])
    s.add_argument('--parameter', action='append', default=[])
    s.add_argument('--file', action='append', default=[])
    s.add_argument('--plugin-dir', action='append', default=[])
    s.set_defaults(f=cmd_graph)
    s = sub.add_parser('graph-batch'); s.add_argument('jobs')
    s.add_argument('--plugin-dir', action='append', default=[])
    s.set_defaults(f=cmd_graph_batch)
    s = sub.add_parser('parse'); s.add_argument('paths', nargs='+')
    s.set_defaults(f=cmd_parse)
    s = sub.add_parser('resource-types')
    s.add_argument('--plugin-dir', action='append', default=[])
    s.set_defaults(f=cmd_resource_types)
    args = p.parse_args(argv)
    result = args.f(args)
    json.dump(result, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
