"""What delegating graphs to Heat's own Python costs (issue 17), on N-root databases where
one root in ten uses a plugin type whose dependencies only Heat's code computes.

  bench/bench-plugins.sh [N...]      (default N: 1000; BACKENDS as bench.sh)

The source: a real legacy heat-engine loading tests/templates/plugin_dir builds the ten
roots of tests/templates/plugin-bench-cases.yaml on MariaDB (nine with plain, port-subclass
and provider-template plugins, which heat-converge computes itself; one plugin-lb, whose
Acme::LB::Monitor has its own add_dependencies); heatbed.py replicate copies it to N roots
per backend. On identical copies, each as its own process:

  delegated   heat-converge --plugin-dir plugin_dir --heat-python (the bed's Heat): N/10
              trees' graphs come from Heat's Python
  native      heat-converge --plugin-dir on the same copy, with a plugin directory in which
              Monitor's add_dependencies is renamed away: every graph native, the same rows
              to write (the same database "without plugins needing Heat")
  heat        Heat's own conversion (heatbed.py convert --plugin-dir), in-process

The delegated and Heat's rows must agree (needed_by aside, which Heat no longer writes).
Prints a Markdown table (also target/bench/plugins.md).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import bench
from bench import BED, bed, copy_db, drop_db, log, measured, url_for

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PLUGINS = os.path.join(TOP, 'tests', 'templates', 'plugin_dir')
WORK = os.path.join(TOP, 'target', 'bench')


def native_plugin_dir(into):
    """plugin_dir with Monitor's add_dependencies renamed: Heat never calls it, and
    heat-converge then computes the Monitor's graph itself."""
    shutil.copytree(PLUGINS, into, ignore=shutil.ignore_patterns('__pycache__'))
    path = os.path.join(into, 'acme_lb.py')
    with open(path) as f:
        text = f.read()
    text, n = re.subn(r'def add_dependencies\(', 'def not_add_dependencies(', text)
    assert n == 1, 'acme_lb.py: expected one add_dependencies'
    with open(path, 'w') as f:
        f.write(text)
    return into


def rows_agree(a_url, b_url):
    a, b = bed('snapshot', a_url), bed('snapshot', b_url)
    for snap in (a, b):
        for r in snap['resource'].values():
            r['needed_by'] = None
    return a == b


def run_ours(url, plugin_dir, heat_python, out):
    argv = [bench.BIN, 'migrate', '--format', 'json', '--db-url', url,
            '--plugin-dir', plugin_dir]
    if heat_python:
        argv += ['--heat-python', heat_python]
    env = dict(os.environ, PATH='/usr/bin:/bin')  # no heat-manage found by default
    rc, seconds, peak = measured(argv, out + '.json', out + '.err', env=env)
    with open(out + '.json') as f:
        report = json.load(f)
    if rc not in (0, 3):
        raise RuntimeError('heat-converge exited %d (see %s.err)' % (rc, out))
    return seconds, peak, report


def main(args):
    ns = [int(a) for a in args] or [1000]
    backends = os.environ.get('BACKENDS', 'sqlite postgresql mariadb').split()
    os.makedirs(os.path.join(WORK, 'db'), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix='bench-plugins-')
    native_dir = native_plugin_dir(os.path.join(scratch, 'plugin_dir_native'))
    src = url_for('mariadb', 'benchpl_src')
    drop_db(src)
    bed('createdb', src)
    log('building the ten plugin roots with a real legacy engine')
    bed('build', src, os.path.join(scratch, 'build'), '--cases', 'plugin-bench-cases.yaml',
        '--plugin-dir', PLUGINS)
    rows = []
    try:
        for backend in backends:
            for n in ns:
                base = 'benchpl_%s_%d' % (backend[:2], n)
                drop_db(url_for(backend, base))
                log('%s: %d roots' % (backend, n))
                bed('replicate', src, url_for(backend, base), str(n))
                names = {k: base + '_' + k for k in ('delegated', 'native', 'heat')}
                for name in names.values():
                    drop_db(url_for(backend, name))
                    copy_db(backend, base, name)
                out = os.path.join(WORK, 'plugins-%s-%d' % (backend, n))
                d_s, d_mb, d_rep = run_ours(url_for(backend, names['delegated']), PLUGINS,
                                            sys.executable, out + '-delegated')
                n_s, n_mb, n_rep = run_ours(url_for(backend, names['native']), native_dir,
                                            None, out + '-native')
                started = time.monotonic()
                subprocess.run([sys.executable, os.path.join(BED, 'heatbed.py'), 'convert',
                                url_for(backend, names['heat']), os.path.join(scratch, 'conv'),
                                '--plugin-dir', PLUGINS],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               check=True)
                h_s = time.monotonic() - started
                agree = rows_agree(url_for(backend, names['delegated']),
                                   url_for(backend, names['heat']))
                delegated = sum(1 for t in d_rep['plugin_types']
                                if t['graph'] == 'heat_python')
                rows.append({
                    'n': n, 'backend': bench.BACKENDS[backend],
                    'converted': d_rep['converted'], 'native_converted': n_rep['converted'],
                    'delegated_s': d_s, 'native_s': n_s, 'heat_s': h_s,
                    'delegated_mb': d_mb, 'native_mb': n_mb,
                    'heat_python_types': delegated, 'rows_agree': agree,
                })
                log('%s %d: delegated %.2f s, native %.2f s, Heat %.1f s, rows agree: %s'
                    % (backend, n, d_s, n_s, h_s, agree))
                if os.environ.get('HEATBED_KEEP') != '1':
                    for name in list(names.values()) + [base]:
                        drop_db(url_for(backend, name))
    finally:
        if os.environ.get('HEATBED_KEEP') != '1':
            drop_db(src)
        shutil.rmtree(scratch, ignore_errors=True)
    lines = ['| N | backend | converted | with Heat\'s Python s | all native s | delegation '
             'cost s | per delegated tree ms | peak MB | Heat\'s own s | speed-up vs Heat '
             '| rows = Heat\'s |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        delegated_trees = r['n'] // 10
        cost = r['delegated_s'] - r['native_s']
        lines.append('| %s | %s | %d | %.2f | %.2f | %.2f | %.1f | %.0f | %.1f | %.0fx | %s |' % (
            '{:,}'.format(r['n']), r['backend'], r['converted'], r['delegated_s'],
            r['native_s'], cost, 1000.0 * cost / max(delegated_trees, 1),
            r['delegated_mb'], r['heat_s'], r['heat_s'] / r['delegated_s'],
            'yes' if r['rows_agree'] else 'NO'))
    table = '\n'.join(lines)
    print(table)
    with open(os.path.join(WORK, 'plugins.md'), 'w') as f:
        f.write(table + '\n')
    return 0 if all(r['rows_agree'] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
