"""The scale benchmark of issue 11: heat-converge, Heat's own logic and the database floor,
side by side on identical N-root Heat databases, per backend; and heat-converge's
read-only commands on the same databases (issue 18): status, migrate --dry-run and plan
before the conversion, verify after it. And the giant tree (issue 20): one root whose
ResourceGroup holds GIANT provider stacks, the same contenders on it.

  run [N...] [giant]          the benchmark (bench/bench.sh runs it; see README); with
                              no argument N = 1000 10000 100000 and the giant tree,
                              else what is named (giant: the giant tree)
  floor URL PLAN CHANGES      the floor on URL (a child of run, so it is timed alone)
  derive BEFORE AFTER         the floor's changes: what Heat's conversion did to BEFORE
                              (AFTER is a copy Heat converted), as JSON
  agree URL_A URL_B [--ignore TABLE.COLUMN]...
                              whether two databases hold the same converted rows (JSON)
  explain URL                 which foreign-key columns a conversion's deletes check,
                              whether an index leads each, and the database's plan

For each backend and N, run builds an N-root database (heatbed.py replicate of
examples/demo.sqlite), copies it for each contender, runs each as a child process
(wall seconds; peak RSS from GNU time), checks that the rows agree, drops every database
and prints two Markdown tables (also written to target/bench/results.md, with the raw
figures in target/bench/results.json).

The giant tree is examples/giant.sqlite's tree "giant" (a root, a ResourceGroup of 3
provider stacks of 4 resources each, made by the real legacy engine) widened by
`heatbed.py widen` (tests/bed/giant.py) to GIANT members inside the same tree: 5,000
members are 5,002 stacks and 25,002 resources, converted in one transaction. The floor's
changes are Heat's own conversion of the 3-member source, carried over to every member.
Heat's own logic runs on the giant tree when GIANT <= GIANT_HEAT_MAX; when GIANT is
larger, a second giant tree GIANT_HEAT_MAX members wide is built and all three
contenders run on it, so that heat-converge's rows are compared with Heat's there.

Environment: BACKENDS (default "sqlite mariadb postgresql"), HEAT_MAX_N (default 1000:
Heat's logic runs up to that N, larger N are extrapolated linearly from the largest N
it ran on that backend and marked "*"), BENCH_SOURCE (default examples/demo.sqlite),
GIANT (default 5000: the giant tree's members; 0 leaves it out), GIANT_HEAT_MAX
(default 500), BENCH_GIANT_SOURCE (default examples/giant.sqlite), BENCH_TAG (default
hc_bench: the databases are named TAG_PID_...), HEATBED_KEEP=1 keeps the databases.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
# The test bed's driver and generator, which the benchmark builds its databases with.
BED = os.path.join(TOP, 'tests', 'bed')
sys.path.insert(0, BED)

import agree  # noqa: E402
import floor  # noqa: E402
import heatbed  # noqa: E402
from dbapi import Db  # noqa: E402

# BENCH_BIN: another build to measure (e.g. the previous commit's, to compare two runs).
BIN = os.environ.get('BENCH_BIN') or os.path.join(TOP, 'target', 'release', 'heat-converge')
WORK = os.path.join(TOP, 'target', 'bench')
USER = 'heatconv'  # made by tests/bed/setup.sh on both servers

BACKENDS = {'sqlite': 'SQLite', 'mariadb': 'MariaDB', 'postgresql': 'PostgreSQL'}

# The foreign keys whose parents a conversion deletes (raw_template, raw_template_files,
# resource with its resource_data, resource_properties_data) and the one it reads by.
FK_PARENTS = ('raw_template', 'raw_template_files', 'resource', 'resource_properties_data')
READ_PATHS = (('resource', 'stack_id'),)


def log(msg):
    print('bench %s: %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes

def measured(argv, out_path, err_path, env=None):
    """Runs argv to its end: (exit code, wall seconds, peak RSS in MB) of that process.

    The peak comes from GNU time (/usr/bin/time -f %M), not from our own wait4: Linux
    keeps a process's peak across fork and exec, so a child forked from this Python
    process (150 MB and more once it has built a database) would report Python's peak as
    its own. GNU time's child is forked from GNU time, which is small.
    """
    peak_path = out_path + '.peak'
    with open(out_path, 'wb') as out, open(err_path, 'wb') as err:
        started = time.monotonic()
        p = subprocess.Popen(['/usr/bin/time', '-f', '%M', '-o', peak_path] + list(argv),
                             stdout=out, stderr=err, env=env)
        p.wait()
        seconds = time.monotonic() - started
    with open(peak_path) as f:
        lines = [l for l in f.read().splitlines() if l.strip().isdigit()]
    os.unlink(peak_path)
    return p.returncode, seconds, int(lines[-1]) / 1024.0


def bed(*args):
    """heatbed.py ARGS in this interpreter (the Heat virtualenv): its JSON output."""
    out = subprocess.run([sys.executable, os.path.join(BED, 'heatbed.py')] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        raise RuntimeError('heatbed.py %s failed: %s' % (
            args[0], out.stderr.decode(errors='replace').strip().splitlines()[-5:]))
    return json.loads(out.stdout)


# --------------------------------------------------------------------------- databases

def url_for(backend, name):
    if backend == 'mariadb':
        return 'mysql+pymysql://%s:%s@127.0.0.1:3306/%s?charset=utf8' % (USER, USER, name)
    if backend == 'postgresql':
        return 'postgresql+psycopg2://%s:%s@127.0.0.1:5432/%s' % (USER, USER, name)
    return 'sqlite:///%s' % os.path.join(WORK, 'db', name + '.sqlite')


def copy_db(backend, src_name, name):
    """An identical copy of database src_name named name: the server's own fastest way."""
    src_url = url_for(backend, src_name)
    dst_url = url_for(backend, name)
    if backend == 'sqlite':
        shutil.copyfile(src_url[len('sqlite:///'):], dst_url[len('sqlite:///'):])
    elif backend == 'postgresql':
        db = Db(url_for('postgresql', 'postgres'), autocommit=True)
        try:
            db.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (name, src_name))
        finally:
            db.close()
    else:
        db = Db(src_url, autocommit=True)
        try:
            db.execute('SET foreign_key_checks = 0')
            db.execute('CREATE DATABASE `%s` CHARACTER SET utf8' % name)
            tables = [r[0] for r in db.rows('SHOW TABLES')]
            for t in tables:
                create = db.rows('SHOW CREATE TABLE `%s`' % t)[0][1]
                db.execute(create.replace('CREATE TABLE `%s`' % t,
                                          'CREATE TABLE `%s`.`%s`' % (name, t), 1))
            for t in tables:
                db.execute('INSERT INTO `%s`.`%s` SELECT * FROM `%s`.`%s`'
                           % (name, t, src_name, t))
        finally:
            db.close()
    return dst_url


def settle(backend):
    """Before a contender is timed: what the copies wrote reaches the disk, so that each
    contender starts from the same quiet server instead of paying for the writes made
    before it (PostgreSQL flushes a copy's pages at its next checkpoint, InnoDB its dirty
    pages in the background, the kernel a copied SQLite file: during whichever run comes
    next). A checkpoint on PostgreSQL, InnoDB's dirty pages flushed on MariaDB, then the
    kernel's sync. Needs the servers' administrators (as tests/bed/setup.sh sets up)."""
    if backend == 'postgresql':
        db = Db('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True)
        try:
            db.execute('CHECKPOINT')
        finally:
            db.close()
    elif backend == 'mariadb':
        db = Db('mysql+pymysql://root@127.0.0.1:3306/mysql', autocommit=True)
        try:
            pct = db.rows("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")[0][0]
            db.execute('SET GLOBAL innodb_max_dirty_pages_pct = 0')
            try:
                deadline = time.time() + 120
                while time.time() < deadline:
                    dirty = int(db.rows("SHOW GLOBAL STATUS LIKE "
                                        "'Innodb_buffer_pool_pages_dirty'")[0][1])
                    if dirty < 50:
                        break
                    time.sleep(0.2)
            finally:
                db.execute('SET GLOBAL innodb_max_dirty_pages_pct = %s' % pct)
        finally:
            db.close()
    os.sync()


def drop_db(url):
    try:
        heatbed.cmd_dropdb(argparse.Namespace(url=url))
        if url.startswith('sqlite:///'):  # heat-converge's run lock file, left by design
            lock = url[len('sqlite:///'):] + '.heat-converge-lock'
            if os.path.exists(lock):
                os.unlink(lock)
    except Exception as e:  # reported, the others are still dropped
        log('could not drop %s: %s' % (url.rsplit('/', 1)[1], e))


# --------------------------------------------------------------------------- explain

def explain(url):
    """Every FK column a conversion's deletes make the database check, and resource.stack_id."""
    db = Db(url)
    try:
        cols = [(t, c) for t, c, _ in db.foreign_keys_to(set(FK_PARENTS))] + list(READ_PATHS)
        out = []
        for table, column in sorted(set(cols)):
            indexed = column in db.indexed_columns(table)
            out.append({'table': table, 'column': column, 'indexed': indexed,
                        'plan': _plan(db, table, column)})
        db.commit()
        return out
    finally:
        db.close()


def _plan(db, table, column):
    """The plan of the look-up a foreign-key check (or a read by column) makes."""
    probe = "'x'" if column == 'stack_id' else '1'
    if db.backend == 'sqlite':
        rows = db.rows('EXPLAIN QUERY PLAN SELECT 1 FROM %s WHERE %s = %s'
                       % (table, column, probe))
        return '; '.join(str(r[-1]) for r in rows)
    if db.backend == 'postgresql':
        rows = db.rows('EXPLAIN SELECT 1 FROM ONLY %s x WHERE %s = %s FOR KEY SHARE OF x'
                       % (table, column, probe))
        return '; '.join(r[0].strip() for r in rows if '->' in r[0] or rows.index(r) == 0)
    rows = db.rows('EXPLAIN SELECT 1 FROM `%s` WHERE `%s` = %s' % (table, column, probe))
    return '; '.join('type=%s key=%s rows=%s' % (r[3], r[5], r[8]) for r in rows)


def leftover_indexes(url):
    """Indexes named as heat-converge's temporary ones (it must drop them at the end)."""
    import sqlalchemy as sa
    eng = sa.create_engine(url)
    try:
        insp = sa.inspect(eng)
        return sorted(ix['name'] for t in insp.get_table_names()
                      for ix in insp.get_indexes(t)
                      if (ix.get('name') or '').startswith(floor.INDEX_PREFIX))
    finally:
        eng.dispose()


def needs_index(entry):
    """An FK check or read that scans the table: the plan says so."""
    plan = entry['plan']
    return not entry['indexed'] and (
        'Seq Scan' in plan or plan.startswith('SCAN') or 'type=ALL' in plan)


# --------------------------------------------------------------------------- the run

class Case(object):
    """One database of the benchmark: N roots (kind 'roots') or the giant tree N members
    wide (kind 'giant'); trees: the floor's changes, derived from the source `changes`."""

    def __init__(self, kind, n, trees, changes):
        self.kind = kind
        self.n = n
        self.trees = trees
        self.changes = changes
        # heat-converge's exit code on it: 3 while trees remain legacy (the demo's failed
        # and busy trees), 0 when every tree converts (the giant tree).
        self.rc = 0 if kind == 'giant' else 3

    def label(self):
        return _label({'case': self.kind, 'n': self.n})


def _label(r):
    if r.get('case') == 'giant':
        return 'giant tree of %s members' % '{:,}'.format(r['n'])
    return 'N=%s' % '{:,}'.format(r['n'])


class Run(object):
    def __init__(self, ns, backends, heat_max, keep, giants=(), giant_heat_max=500):
        self.ns = ns
        self.backends = backends
        self.heat_max = heat_max
        self.keep = keep
        self.giants = list(giants)          # the giant trees' widths, largest first
        self.giant_heat_max = giant_heat_max
        self.tag = '%s_%d' % (os.environ.get('BENCH_TAG', 'hc_bench'), os.getpid())
        self.dir = os.path.join(WORK, 'run-%d' % os.getpid())
        self.source = os.environ.get('BENCH_SOURCE',
                                     os.path.join(TOP, 'examples', 'demo.sqlite'))
        self.giant_source = os.environ.get('BENCH_GIANT_SOURCE',
                                           os.path.join(TOP, 'examples', 'giant.sqlite'))
        self.made = []
        self.results = []
        self.failures = []

    def file(self, name):
        return os.path.join(self.dir, name)

    def derive_changes(self, source, what):
        """What Heat's own conversion does to a source, once (for the floor)."""
        before = self.file('%s.sqlite' % what)
        after = self.file('%s-heat.sqlite' % what)
        shutil.copyfile(source, before)
        shutil.copyfile(source, after)
        rc, secs, _ = measured(
            [sys.executable, os.path.join(BED, 'heatbed.py'), 'convert',
             'sqlite:///' + after, self.file('%s-convert' % what)],
            self.file('%s-convert.json' % what), self.file('%s-convert.err' % what))
        if rc != 0:
            raise RuntimeError('Heat\'s conversion of %s failed (see %s)'
                               % (source, self.file('%s-convert.err' % what)))
        trees = floor.derive('sqlite:///' + before, 'sqlite:///' + after)
        with open(self.file('changes-%s.json' % what), 'w') as f:
            json.dump(trees, f)
        log('Heat converted %d of %s\'s trees in %.1f s; the floor copies that'
            % (sum(1 for t in trees.values() if t['stacks']), os.path.basename(source),
               secs))
        return trees

    def main(self):
        os.makedirs(os.path.join(WORK, 'db'), exist_ok=True)
        os.makedirs(self.dir, exist_ok=True)
        try:
            cases = []
            if self.ns:
                trees = self.derive_changes(self.source, 'source')
                cases += [Case('roots', n, trees, 'source') for n in self.ns]
            if self.giants:
                trees = self.derive_changes(self.giant_source, 'giant')
                cases += [Case('giant', w, trees, 'giant') for w in self.giants]
            for backend in self.backends:
                for case in cases:
                    self.one(backend, case)
        finally:
            if not self.keep:
                for url in self.made:
                    drop_db(url)
            else:
                log('keeping %s' % ', '.join(self.made))
        self.extrapolate()
        table = self.table()
        print(table)
        with open(os.path.join(WORK, 'results.md'), 'w') as f:
            f.write(table + '\n')
        with open(os.path.join(WORK, 'results.json'), 'w') as f:
            json.dump(self.results, f, indent=1)
        for msg in self.failures:
            print('FAILED: ' + msg, file=sys.stderr)
        if not self.failures and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return 1 if self.failures else 0

    def name(self, backend, case, what):
        return '%s_%s_%s%d_%s' % (self.tag, backend[:2],
                                  'g' if case.kind == 'giant' else '', case.n, what)

    def one(self, backend, case):
        n = case.n
        r = {'n': n, 'backend': backend, 'case': case.kind}
        self.results.append(r)
        label = case.label()
        base = url_for(backend, self.name(backend, case, 'base'))
        self.made.append(base)
        plan_file = self.file('plan-%s-%s%d.json' % (backend, case.kind, n))
        if case.kind == 'giant':
            log('%s %s: widening' % (backend, label))
            gen = bed('widen', 'sqlite:///' + self.giant_source, base, str(n))
            r.update(stacks=gen['stacks'], resources=gen['resources'])
        else:
            log('%s %s: replicating' % (backend, label))
            gen = bed('replicate', 'sqlite:///' + self.source, base, str(n))
        r['replicate_s'] = gen['seconds']
        r['rows'] = sum(gen['rows'].values())
        plan = floor.load_plan(gen['plan'])
        with open(plan_file, 'w') as f:
            json.dump(gen['plan'], f)
        expected = sum(1 for _ in floor.copies_of(plan, case.trees).jobs())
        r['indexes'] = explain(base)
        log('%s %s: %d rows in %.1f s; copying' % (backend, label, r['rows'],
                                                   gen['seconds']))
        heat_max = self.giant_heat_max if case.kind == 'giant' else self.heat_max
        runs = ['ours', 'floor'] + (['heat'] if n <= heat_max else [])
        urls = {}
        for what in runs:
            urls[what] = url_for(backend, self.name(backend, case, what))
            self.made.append(urls[what])
            copy_db(backend, self.name(backend, case, 'base'),
                    self.name(backend, case, what))
        # heat-converge's read-only commands, on its copy before it converts
        self.read_only(r, urls['ours'], expected, case.rc)
        # heat-converge
        log('%s %s: heat-converge' % (backend, label))
        settle(backend)
        rc, secs, mb = measured([BIN, 'migrate', '--db-url', urls['ours'], '--format',
                                 'json', '--quiet'], self.file('ours.json'),
                                self.file('ours.err'))
        r.update(ours_s=secs, ours_mb=mb, ours_rc=rc)
        try:
            with open(self.file('ours.json')) as f:
                report = json.load(f)
            r['converted'] = report.get('converted')
        except ValueError:
            report = {}
        if rc != case.rc or r.get('converted') != expected:
            self.fail(r, 'heat-converge exited %d and converted %s trees, %d expected '
                      '(see %s)' % (rc, r.get('converted'), expected, self.file('ours.err')))
        left = leftover_indexes(urls['ours'])
        if left:
            self.fail(r, 'heat-converge left its temporary indexes behind: %s'
                      % ', '.join(left))
        self.verify(r, urls['ours'], report, case.rc)
        # the floor
        log('%s %s: floor' % (backend, label))
        settle(backend)
        rc, secs, mb = measured(
            [sys.executable, os.path.join(HERE, 'bench.py'), 'floor', urls['floor'],
             plan_file, self.file('changes-%s.json' % case.changes)],
            self.file('floor.json'), self.file('floor.err'))
        # The floor's own time (connect, indexes, statements): Python's start and
        # imports are not the database's work. Its process time is kept as well.
        r.update(floor_process_s=secs, floor_mb=mb)
        if rc != 0:
            self.fail(r, 'the floor failed (see %s)' % self.file('floor.err'))
        else:
            with open(self.file('floor.json')) as f:
                r['floor'] = json.load(f)
            r['floor_s'] = r['floor']['seconds']
            if r['floor']['trees'] != expected:
                self.fail(r, 'the floor converted %d trees, %d expected'
                          % (r['floor']['trees'], expected))
        # Heat's own logic
        if 'heat' in urls:
            log('%s %s: Heat\'s own logic' % (backend, label))
            settle(backend)
            rc, secs, mb = measured(
                [sys.executable, os.path.join(BED, 'heatbed.py'), 'convert', urls['heat'],
                 self.file('heat-convert-%s-%s%d' % (backend, case.kind, n))],
                self.file('heat.json'), self.file('heat.err'))
            r.update(heat_s=secs, heat_mb=mb)
            converted = None
            if rc == 0:
                with open(self.file('heat.json')) as f:
                    converted = sum(1 for v in json.load(f).values()
                                    if v['outcome'] == 'converted')
            r['heat_converted'] = converted
            if converted != expected:
                self.fail(r, 'Heat\'s logic converted %s trees, %d expected (see %s)'
                          % (converted, expected, self.file('heat.err')))
        # rows
        log('%s %s: comparing rows' % (backend, label))
        r['agree'] = {}
        r['agree']['floor'] = agree.compare(urls['ours'], urls['floor'])
        if 'heat' in urls:
            # Heat leaves needed_by empty ([]); heat-converge fills it.
            r['agree']['heat'] = agree.compare(urls['ours'], urls['heat'],
                                               ignore={('resource', 'needed_by')})
        for who, res in r['agree'].items():
            if not res['agree']:
                self.fail(r, 'heat-converge (first) and %s (second) disagree on %d rows:\n  %s'
                          % (who, res['differences'], '\n  '.join(res['first'])))
        if not self.keep:
            for url in [base] + list(urls.values()):
                drop_db(url)
                self.made.remove(url)
        log('%s %s: heat-converge %.1f s, verify %.1f s, floor %.1f s%s' % (
            backend, label, r['ours_s'], r.get('verify_s', -1), r.get('floor_s', -1),
            ', Heat %.1f s' % r['heat_s'] if 'heat_s' in r else ''))

    def read_only(self, r, url, expected, want_rc):
        """status, migrate --dry-run and plan on the unconverted copy: timed, and what they
        predict checked against the trees the floor converts."""
        plan_file = self.file('plan-out.json')
        for what, argv in (
                ('status', ['status', '--format', 'json']),
                ('dry_run', ['migrate', '--dry-run', '--format', 'json']),
                ('plan', ['plan', '--out', plan_file])):
            log('%s %s: heat-converge %s' % (r['backend'], _label(r), ' '.join(argv[:2])))
            rc, secs, mb = measured([BIN] + argv + ['--db-url', url, '--quiet'],
                                    self.file(what + '.out'), self.file(what + '.err'))
            r.update({what + '_s': secs, what + '_mb': mb, what + '_rc': rc})
            if rc != want_rc:
                self.fail(r, 'heat-converge %s exited %d, %d expected (see %s)'
                          % (' '.join(argv[:2]), rc, want_rc, self.file(what + '.err')))
                continue
            if what == 'dry_run':
                with open(self.file(what + '.out')) as f:
                    would = json.load(f).get('would_convert')
                if would != expected:
                    self.fail(r, 'migrate --dry-run would convert %s trees, %d expected'
                              % (would, expected))
            if what == 'plan':
                with open(plan_file) as f:
                    planned = len(json.load(f)['trees'])
                os.unlink(plan_file)
                if planned != expected:
                    self.fail(r, 'plan planned %d trees, %d expected' % (planned, expected))
        left = leftover_indexes(url)
        if left:
            self.fail(r, 'a read-only command left indexes behind: %s' % ', '.join(left))

    def verify(self, r, url, report, want_rc):
        """verify on heat-converge's copy after its migrate: every converted stack holds,
        and no index is left."""
        log('%s %s: heat-converge verify' % (r['backend'], _label(r)))
        rc, secs, mb = measured([BIN, 'verify', '--db-url', url, '--format', 'json',
                                 '--quiet'], self.file('verify.json'),
                                self.file('verify.err'))
        r.update(verify_s=secs, verify_mb=mb, verify_rc=rc)
        converted = sum(t.get('stacks', 0) for t in report.get('trees', [])
                        if t.get('outcome') == 'converted')
        try:
            with open(self.file('verify.json')) as f:
                v = json.load(f)
        except ValueError:
            v = {}
        holding = sum(1 for s in v.get('stacks', []) if s.get('finding') == 'holds')
        r['verify_checked'] = v.get('checked')
        if rc != want_rc or v.get('checked') != converted or holding != converted:
            self.fail(r, 'verify exited %d: %s stacks checked, %d holding, %d converted '
                      '(see %s)' % (rc, v.get('checked'), holding, converted,
                                    self.file('verify.err')))
        left = leftover_indexes(url)
        if left:
            self.fail(r, 'verify left indexes behind: %s' % ', '.join(left))

    def fail(self, r, msg):
        r.setdefault('failures', []).append(msg)
        self.failures.append('%s %s: %s' % (r['backend'], _label(r), msg))
        log('FAILED: ' + msg)

    def extrapolate(self):
        """Heat's time where it did not run: linear in N from its largest run."""
        for r in self.results:
            if 'heat_s' in r or r['case'] == 'giant':
                continue
            done = [x for x in self.results if x['backend'] == r['backend']
                    and 'heat_s' in x and x['case'] != 'giant']
            if done:
                top = max(done, key=lambda x: x['n'])
                r['heat_s_extrapolated'] = top['heat_s'] * r['n'] / top['n']
                r['heat_extrapolated_from'] = top['n']

    def table(self):
        head = ('| N | backend | heat-converge s | roots/s | peak MB | floor s | '
                'ratio to floor | Heat\'s logic s | heat-converge speed-up vs Heat | '
                'verify s | verify / migrate | rows agree |')
        lines = [head, '|' + '---|' * 12]
        starred = False
        for r in self.results:
            if r['case'] == 'giant':
                continue
            ours = r.get('ours_s')
            heat = r.get('heat_s')
            mark = ''
            if heat is None and 'heat_s_extrapolated' in r:
                heat, mark = r['heat_s_extrapolated'], '*'
                starred = True
            rows = _agreed(r)
            verify = r.get('verify_s')
            lines.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                '{:,}'.format(r['n']), BACKENDS[r['backend']], _s(ours),
                '{:,.0f}'.format(r['n'] / ours) if ours else '-',
                '%.0f' % r['ours_mb'] if 'ours_mb' in r else '-',
                _s(r.get('floor_s')),
                '%.1fx' % (ours / r['floor_s']) if ours and r.get('floor_s') else '-',
                ('~' if mark else '') + _s(heat) + mark if heat else '-',
                ('~' if mark else '') + '%.0fx' % (heat / ours) + mark
                if heat and ours else '-',
                _s(verify), '%.2f' % (verify / ours) if verify and ours else '-',
                rows))
        notes = ['', 'Seconds: wall time of the process (heat-converge, Heat\'s logic); the '
                 'floor\'s from its connection to its last commit, its temporary indexes '
                 'included. Peak MB: heat-converge\'s peak resident memory (GNU time). Rows '
                 'agree: heat-converge against the floor (every column) and against '
                 'Heat\'s logic (needed_by aside, which Heat leaves empty), except '
                 'timestamps and the value of current_traversal. Verify: `heat-converge '
                 'verify --format json` on heat-converge\'s copy after its migrate (every '
                 'converted stack must hold); verify / migrate is its time over '
                 'heat-converge\'s.']
        if starred:
            notes.append('* extrapolated linearly in N from Heat\'s run at the largest N '
                         'it ran on that backend (HEAT_MAX_N).')
        gens = ['%s %s: %s rows in %.1f s' % (BACKENDS[r['backend']],
                                              '{:,}'.format(r['n']),
                                              '{:,}'.format(r['rows']), r['replicate_s'])
                for r in self.results if 'replicate_s' in r and r['case'] != 'giant']
        if gens:
            notes.append('Databases built by `heatbed.py replicate`: ' + '; '.join(gens) + '.')
        gens = ['%s %s: %s rows in %.1f s' % (BACKENDS[r['backend']],
                                              '{:,}'.format(r['n']),
                                              '{:,}'.format(r['rows']), r['replicate_s'])
                for r in self.results if 'replicate_s' in r and r['case'] == 'giant']
        if gens:
            notes.append('Giant trees built by `heatbed.py widen` (members: rows in all '
                         'tables): ' + '; '.join(gens) + '.')
        idx = {}
        for r in self.results:
            for e in r.get('indexes', []):
                if needs_index(e):
                    idx.setdefault(BACKENDS[r['backend']], set()).add(
                        '%s.%s' % (e['table'], e['column']))
        if idx:
            notes.append('Foreign-key columns (and reads) the database scans for want of '
                         'an index (EXPLAIN): ' + '; '.join(
                             '%s: %s' % (b, ', '.join(sorted(v)))
                             for b, v in sorted(idx.items())) + '.')
        if not any(r['case'] != 'giant' for r in self.results):
            lines, notes = [], notes[1:]  # no roots: only the notes on the columns
        return '\n'.join(lines + notes + [''] + self.giant_table() + [''] +
                         self.read_only_table())

    def giant_table(self):
        """The giant tree: one root, its ResourceGroup GIANT members wide."""
        rows = [r for r in self.results if r['case'] == 'giant']
        if not rows:
            return []
        lines = ['| giant tree: members | backend | stacks | resources | heat-converge s | '
                 'peak MB | floor s | ratio to floor | Heat\'s logic s | heat-converge '
                 'speed-up vs Heat | verify s | rows agree |', '|' + '---|' * 12]
        for r in rows:
            ours, heat = r.get('ours_s'), r.get('heat_s')
            lines.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                '{:,}'.format(r['n']), BACKENDS[r['backend']],
                '{:,}'.format(r['stacks']) if 'stacks' in r else '-',
                '{:,}'.format(r['resources']) if 'resources' in r else '-',
                _s(ours), '%.0f' % r['ours_mb'] if 'ours_mb' in r else '-',
                _s(r.get('floor_s')),
                '%.1fx' % (ours / r['floor_s']) if ours and r.get('floor_s') else '-',
                _s(heat), '%.0fx' % (heat / ours) if heat and ours else '-',
                _s(r.get('verify_s')), _agreed(r)))
        return lines + ['', 'The giant tree: one root whose ResourceGroup holds that many '
                        'provider stacks of 4 resources each (examples/giant.sqlite\'s '
                        'tree, made by the real legacy engine with 3 members, widened by '
                        '`heatbed.py widen`), converted in one transaction. Columns as '
                        'above; Heat\'s logic runs on trees of up to GIANT_HEAT_MAX (%s) '
                        'members.' % '{:,}'.format(self.giant_heat_max)]

    def read_only_table(self):
        """The read-only commands: seconds (and per 1,000 roots, which stays flat where
        time grows linearly) and peak MB."""
        lines = ['| N | backend | status s | migrate --dry-run s | plan s | verify s | '
                 'per 1,000 roots: status / dry run / plan / verify s | peak MB: status / '
                 'dry run / plan / verify |', '|' + '---|' * 8]
        kinds = ('status', 'dry_run', 'plan', 'verify')
        for r in self.results:
            if not any(k + '_s' in r for k in kinds):
                continue
            giant = r['case'] == 'giant'
            lines.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
                ('giant %s' if giant else '%s') % '{:,}'.format(r['n']),
                BACKENDS[r['backend']],
                *[_s(r.get(k + '_s')) for k in kinds],
                ' / '.join('%.2f' % (r[k + '_s'] * 1000 / r['n'])
                           if k + '_s' in r and not giant else '-' for k in kinds),
                ' / '.join('%.0f' % r[k + '_mb'] if k + '_mb' in r else '-'
                           for k in kinds)))
        return lines + ['', 'Read-only commands (`--format json --quiet`; plan with '
                        '`--out`): status, migrate --dry-run and plan on heat-converge\'s '
                        'copy before its migrate, verify after it. None creates an index; '
                        'each must leave none. "giant W": the giant tree W members wide (one '
                        'root: no figure per 1,000 roots).']


def _agreed(r):
    agreed = r.get('agree', {})
    if not agreed:
        rows = 'not checked'
    elif all(v['agree'] for v in agreed.values()):
        rows = 'yes (%s)' % ', '.join(
            {'floor': 'floor', 'heat': 'Heat'}[k] for k in agreed)
    else:
        rows = 'NO: ' + ', '.join('%s %d' % (k, v['differences'])
                                  for k, v in agreed.items() if not v['agree'])
    if r.get('failures') and rows.startswith('yes'):
        rows = 'FAILED'
    return rows


def _s(v):
    if v is None:
        return '-'
    return '%.2f' % v if v < 10 else '{:,.1f}'.format(v) if v < 1000 else '{:,.0f}'.format(v)


# --------------------------------------------------------------------------- main

def main(argv):
    p = argparse.ArgumentParser(prog='bench', description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest='command', required=True)
    s = sub.add_parser('run')
    s.add_argument('n', nargs='*', help='N (roots) or "giant"')
    s = sub.add_parser('floor')
    s.add_argument('url'); s.add_argument('plan'); s.add_argument('changes')
    s = sub.add_parser('explain')
    s.add_argument('url')
    s = sub.add_parser('derive')
    s.add_argument('before'); s.add_argument('after')
    s = sub.add_parser('agree')
    s.add_argument('a'); s.add_argument('b')
    s.add_argument('--ignore', action='append', default=[])
    args = p.parse_args(argv)
    if args.command == 'derive':
        json.dump(floor.derive(args.before, args.after), sys.stdout)
        return 0
    if args.command == 'agree':
        json.dump(agree.compare(args.a, args.b, ignore={tuple(i.split('.', 1))
                                                        for i in args.ignore}), sys.stdout)
        return 0
    if args.command == 'floor':
        with open(args.plan) as f:
            plan = floor.load_plan(json.load(f))
        with open(args.changes) as f:
            trees = json.load(f)
        json.dump(floor.run(args.url, plan, trees), sys.stdout)
        return 0
    if args.command == 'explain':
        json.dump(explain(args.url), sys.stdout, indent=1)
        return 0
    backends = os.environ.get('BACKENDS', 'sqlite mariadb postgresql').split()
    bad = [b for b in backends if b not in BACKENDS]
    if bad:
        p.error('unknown backend %s (known: %s)' % (', '.join(bad), ', '.join(BACKENDS)))
    if not os.path.exists(BIN):
        p.error('%s is missing: cargo build --release' % BIN)
    bad = [n for n in args.n if n != 'giant' and not n.isdigit()]
    if bad:
        p.error('not an N nor "giant": %s' % ', '.join(bad))
    ns = [int(n) for n in args.n if n != 'giant'] if args.n else [1000, 10000, 100000]
    width = int(os.environ.get('GIANT', '5000'))
    giant_heat_max = int(os.environ.get('GIANT_HEAT_MAX', '500'))
    giants = []
    if width > 0 and ('giant' in args.n or not args.n):
        # Heat's logic runs on the giant tree up to GIANT_HEAT_MAX members; above, a
        # second tree that wide is where heat-converge's rows meet Heat's.
        giants = [width] + ([giant_heat_max] if width > giant_heat_max > 0 else [])
    run = Run(ns, backends, int(os.environ.get('HEAT_MAX_N', '1000')),
              os.environ.get('HEATBED_KEEP') == '1', giants, giant_heat_max)
    return run.main()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
