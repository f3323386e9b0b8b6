//! heat-converge on a 3-node MariaDB Galera cluster (issue 12): it converts through node 1
//! while a writer on node 2 makes the writes a heat-engine makes to the same stacks.
//!
//! On Galera two nodes do not wait for each other's row locks: each transaction runs
//! locally and the cluster certifies its write-set at commit; the loser gets MySQL error
//! 1213 (a certification failure on its own commit, or a brute-force abort when the
//! winner's write-set is applied under its locks). So what this test proves is what
//! happens on that error: no tree half-converted, Heat's `stack_lock` still excludes an
//! engine and heat-converge across nodes, rows equal on every node afterwards, and a
//! second run converts what the first left.
//!
//! The writer's intensity: `HC_GALERA_WRITERS` threads (default 4), each pausing
//! `HC_GALERA_PAUSE_MS` between operations (default 0). Each round converts a fresh copy
//! of the demo under the writer, then again without it: at least `HC_GALERA_ROUNDS`
//! rounds (default 2), more (up to 8) until a certification conflict has hit
//! heat-converge's own transactions, which the test requires: a test that never saw a
//! conflict proves nothing about them.
//!
//! Then: the run lock (a named lock) is node-local on Galera (asserted as it is today);
//! and, ignored because it fails today, a cluster that requires primary keys.

mod common;
mod servers;

use common::{Backend, Bed, Rng};
use mysql::prelude::Queryable;
use serde_json::Value;
use servers::galera::{Galera, Node};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
        })
        .unwrap_or(default)
}

fn connect(node: &Node, db: &str) -> mysql::Conn {
    let url = format!("mysql://heatconv:heatconv@127.0.0.1:{}/{db}", node.port);
    mysql::Conn::new(mysql::Opts::from_url(&url).expect("a mysql URL"))
        .unwrap_or_else(|e| panic!("connect to {}: {e}", node.name))
}

fn server_code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

/// What the writer saw, counted across its threads.
#[derive(Default)]
struct Counts {
    committed: AtomicU64,
    /// 1213 on the writer's own statements or commits.
    deadlocks: AtomicU64,
    /// Its stack_lock insert found the lock held (1062): the stack was busy.
    lock_busy: AtomicU64,
    actions: AtomicU64,
    signals: AtomicU64,
}

impl Counts {
    fn get(a: &AtomicU64) -> u64 {
        a.load(Ordering::Relaxed)
    }
}

/// One short transaction; rolled back on error.
fn transaction(
    conn: &mut mysql::Conn,
    statements: &[(&str, Vec<mysql::Value>)],
) -> mysql::Result<()> {
    conn.query_drop("START TRANSACTION")?;
    let result = statements
        .iter()
        .try_for_each(|(sql, p)| conn.exec_drop(*sql, mysql::Params::Positional(p.clone())))
        .and_then(|()| conn.query_drop("COMMIT"));
    if result.is_err() {
        let _ = conn.query_drop("ROLLBACK");
    }
    result
}

/// A transaction the engine must get through (its stack is locked by it): retried on
/// 1213 as oslo.db's deadlock retry does, at most 100 times.
fn must_commit(conn: &mut mysql::Conn, counts: &Counts, statements: &[(&str, Vec<mysql::Value>)]) {
    for _ in 0..100 {
        match transaction(conn, statements) {
            Ok(()) => {
                counts.committed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) if server_code(&e) == Some(1213) => {
                counts.deadlocks.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => panic!("writer: {}: {e}", statements[0].0),
        }
    }
    panic!("writer: {} deadlocked 100 times", statements[0].0);
}

/// The stacks the writer works on and their live resources.
type Work = Vec<(String, Vec<i64>)>;

/// Writes of the kind a legacy heat-engine makes, in short transactions, until `stop`:
/// an action on a stack (take its stack_lock, mark it IN_PROGRESS, touch each resource,
/// mark it COMPLETE, release the lock), or a signal (a resource's metadata, no lock).
fn writer(
    mut conn: mysql::Conn,
    engine: String,
    work: Arc<Work>,
    pause: Duration,
    seed: u64,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) {
    let mut rng = Rng(seed);
    while !stop.load(Ordering::Relaxed) {
        let (stack, resources) = &work[rng.below(work.len())];
        let s = || mysql::Value::from(stack.as_str());
        if rng.chance(60) || resources.is_empty() {
            let lock = [(
                "INSERT INTO stack_lock (created_at, stack_id, engine_id) VALUES (UTC_TIMESTAMP(), ?, ?)",
                vec![s(), engine.as_str().into()],
            )];
            match transaction(&mut conn, &lock) {
                Ok(()) => counts.committed.fetch_add(1, Ordering::Relaxed),
                Err(e) if server_code(&e) == Some(1062) => {
                    counts.lock_busy.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(e) if server_code(&e) == Some(1213) => {
                    counts.deadlocks.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(e) => panic!("writer: lock {stack}: {e}"),
            };
            must_commit(&mut conn, &counts, &[(
                "UPDATE stack SET status = 'IN_PROGRESS', status_reason = 'Stack UPDATE started', updated_at = UTC_TIMESTAMP() WHERE id = ?",
                vec![s()],
            )]);
            for r in resources {
                must_commit(&mut conn, &counts, &[(
                    "UPDATE resource SET status_reason = 'state changed', updated_at = UTC_TIMESTAMP(), atomic_key = COALESCE(atomic_key, 0) + 1 WHERE id = ?",
                    vec![(*r).into()],
                )]);
            }
            must_commit(&mut conn, &counts, &[(
                "UPDATE stack SET status = 'COMPLETE', status_reason = 'Stack UPDATE completed successfully', updated_at = UTC_TIMESTAMP() WHERE id = ?",
                vec![s()],
            )]);
            must_commit(
                &mut conn,
                &counts,
                &[(
                    "DELETE FROM stack_lock WHERE stack_id = ? AND engine_id = ?",
                    vec![s(), engine.as_str().into()],
                )],
            );
            counts.actions.fetch_add(1, Ordering::Relaxed);
        } else {
            let r = resources[rng.below(resources.len())];
            let signal = [(
                "UPDATE resource SET rsrc_metadata = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                vec![
                    format!("{{\"signal\": {}}}", rng.below(1_000_000)).into(),
                    r.into(),
                ],
            )];
            match transaction(&mut conn, &signal) {
                Ok(()) => {
                    counts.committed.fetch_add(1, Ordering::Relaxed);
                    counts.signals.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) if server_code(&e) == Some(1213) => {
                    counts.deadlocks.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => panic!("writer: signal {r}: {e}"),
            }
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// A live heat-engine of the writer's: its service row, heartbeat kept fresh until `stop`
/// (heat-converge takes over the locks of an engine with no service row).
fn engine_heartbeat(mut conn: mysql::Conn, engine: String, stop: Arc<AtomicBool>) {
    conn.exec_drop(
        "INSERT INTO service (id, engine_id, host, hostname, `binary`, topic, report_interval, created_at, updated_at) \
         VALUES (UUID(), ?, 'galera-writer', 'galera-writer', 'heat-engine', 'engine', 60, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
        (engine.as_str(),),
    )
    .expect("register the writer's engine");
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(500));
        // A lost heartbeat (1213) is harmless: the next one comes.
        let _ = conn.exec_drop(
            "UPDATE service SET updated_at = UTC_TIMESTAMP() WHERE engine_id = ?",
            (engine.as_str(),),
        );
    }
}

struct Writer {
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(node: &Node, db: &str, threads: usize, pause: Duration, seed: u64) -> Writer {
        let mut conn = connect(node, db);
        let stacks: Vec<String> = conn
            .query(
                "SELECT id FROM stack WHERE deleted_at IS NULL AND backup = 0 AND status = 'COMPLETE' ORDER BY id",
            )
            .expect("the writer's stacks");
        let work: Work = stacks
            .into_iter()
            .map(|id| {
                let r: Vec<i64> = conn
                    .exec(
                        "SELECT id FROM resource WHERE stack_id = ? AND NOT (action = 'DELETE' AND status = 'COMPLETE') ORDER BY id",
                        (id.as_str(),),
                    )
                    .expect("the writer's resources");
                (id, r)
            })
            .collect();
        let work = Arc::new(work);
        let engine = uuid::Uuid::new_v4().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Counts::default());
        let mut handles = vec![{
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::spawn(move || engine_heartbeat(conn, engine, stop))
        }];
        // Let the service row be committed before the first lock names the engine.
        std::thread::sleep(Duration::from_millis(200));
        for t in 0..threads {
            let conn = connect(node, db);
            let (engine, work, stop, counts) =
                (engine.clone(), work.clone(), stop.clone(), counts.clone());
            let seed = seed.wrapping_add(t as u64);
            handles.push(std::thread::spawn(move || {
                writer(conn, engine, work, pause, seed, stop, counts)
            }));
        }
        Writer {
            stop,
            counts,
            threads: handles,
        }
    }

    /// Stops every thread after its current operation (each action runs to its end, so no
    /// stack is left IN_PROGRESS and no lock is left behind).
    fn stop(self) -> Arc<Counts> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().expect("a writer thread panicked");
        }
        self.counts
    }
}

/// Every table of `db` on `node`: its CHECKSUM TABLE value.
fn checksums(node: &Node, db: &str) -> BTreeMap<String, String> {
    let tables = node.sql(&format!(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = '{db}' ORDER BY 1"
    ));
    let list: Vec<String> = tables.lines().map(|t| format!("`{db}`.`{t}`")).collect();
    node.sql(&format!("CHECKSUM TABLE {}", list.join(", ")))
        .lines()
        .map(|l| {
            let mut parts = l.split('\t');
            let table = parts.next().unwrap_or_default().to_string();
            (table, parts.next().unwrap_or_default().to_string())
        })
        .collect()
}

/// Waits until every node applied every write-set, then asserts equal rows on all of them.
fn assert_nodes_equal(cluster: &Galera, db: &str, when: &str) -> usize {
    cluster.wait_quiet();
    let first = checksums(&cluster.nodes[0], db);
    assert!(first.len() > 10, "{when}: tables of {db}: {first:?}");
    for node in &cluster.nodes[1..] {
        let other = checksums(node, db);
        let differ: Vec<&String> = first
            .keys()
            .filter(|t| other.get(*t) != first.get(*t))
            .collect();
        assert!(
            differ.is_empty() && other.len() == first.len(),
            "{when}: {} differs from {} in {differ:?}",
            node.name,
            cluster.nodes[0].name
        );
    }
    first.len()
}

/// No tree half-converted: every stack of a tree has its root's `convergence`, and in a
/// converted tree every live resource points at its stack's current template. Returns
/// (converted trees, legacy trees).
fn assert_whole_trees(conn: &mut mysql::Conn, when: &str) -> (usize, usize) {
    let stacks: Vec<(String, Option<String>, i64, Option<i64>, Option<String>)> = conn
        .query(
            "SELECT id, owner_id, convergence, raw_template_id, current_traversal FROM stack \
             WHERE deleted_at IS NULL AND backup = 0",
        )
        .expect("read stacks");
    let resources: Vec<(String, String, Option<i64>)> = conn
        .query(
            "SELECT stack_id, name, current_template_id FROM resource \
             WHERE NOT (action = 'DELETE' AND status = 'COMPLETE')",
        )
        .expect("read resources");
    let (mut converted, mut legacy) = (0, 0);
    for (root, _, root_conv, _, _) in stacks.iter().filter(|s| s.1.is_none()) {
        let mut tree = vec![root.clone()];
        let mut i = 0;
        while i < tree.len() {
            let id = tree[i].clone();
            tree.extend(
                stacks
                    .iter()
                    .filter(|s| s.1.as_deref() == Some(id.as_str()))
                    .map(|s| s.0.clone()),
            );
            i += 1;
        }
        for id in &tree {
            let (_, _, conv, template, traversal) = stacks
                .iter()
                .find(|s| &s.0 == id)
                .expect("a stack of the tree");
            assert_eq!(
                conv, root_conv,
                "{when}: tree {root} half-converted: stack {id} has convergence {conv}"
            );
            if *conv == 1 {
                assert!(
                    traversal.is_some(),
                    "{when}: converted stack {id} has no traversal"
                );
                for (_, name, current) in resources.iter().filter(|r| &r.0 == id) {
                    assert_eq!(
                        current, template,
                        "{when}: resource {name} of converted stack {id}: current_template_id"
                    );
                }
            }
        }
        if *root_conv == 1 {
            converted += 1;
        } else {
            legacy += 1;
        }
    }
    (converted, legacy)
}

/// Each left-alone tree of a report: "name: reason_kind: reason".
fn left_alone(report: &Value) -> Vec<String> {
    report["trees"]
        .as_array()
        .expect("the report's trees")
        .iter()
        .filter(|t| t["outcome"] == "left_alone")
        .map(|t| {
            format!(
                "{}: {}: {}",
                t["name"].as_str().unwrap_or("?"),
                t["reason_kind"].as_str().unwrap_or("?"),
                t["reason"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// Per node: (wsrep_local_cert_failures, wsrep_local_bf_aborts).
fn cluster_counters(cluster: &Galera) -> Vec<(u64, u64)> {
    let n = |node: &Node, name: &str| node.status(name).parse::<u64>().unwrap_or(0);
    cluster
        .nodes
        .iter()
        .map(|node| {
            (
                n(node, "wsrep_local_cert_failures"),
                n(node, "wsrep_local_bf_aborts"),
            )
        })
        .collect()
}

/// The counters' growth, per node, in words.
fn counters_grown(cluster: &Galera, before: &[(u64, u64)], after: &[(u64, u64)]) -> String {
    cluster
        .nodes
        .iter()
        .zip(before.iter().zip(after))
        .map(|(node, (b, a))| {
            format!(
                "{}: cert failures +{}, bf aborts +{}",
                node.name,
                a.0 - b.0,
                a.1 - b.1
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// c. The run lock (`GET_LOCK`) held by a session on node 1: a run through node 1 is
/// refused (`--no-wait`), but MariaDB Galera does not replicate named locks, so today a
/// run through node 2 is not excluded by it. Two runs at once are still safe for the rows
/// (each tree's stack_lock rows conflict in certification: one run's commit loses), but
/// not what the run lock promises. This asserts today's behaviour so that a change to
/// it (a cluster-wide run lock) is noticed here and this step is turned around.
fn run_lock_across_nodes(cluster: &Galera, bed: &Bed) {
    let node1 = format!("127.0.0.1:{}", cluster.nodes[0].port);
    let db = bed.demo_on(Backend::MariaDb, &node1);
    cluster.wait_quiet();
    let mut holder = connect(&cluster.nodes[0], &db.name);
    let got: Option<i64> = holder
        .query_first("SELECT GET_LOCK(CONCAT('heat_converge.', DATABASE()), 0)")
        .expect("GET_LOCK on node 1");
    assert_eq!(got, Some(1), "the run lock taken on node 1");

    let (code, _, err) = db.heat_converge(&["migrate", "--no-wait"]);
    assert_eq!(
        code, 1,
        "through node 1 while node 1 holds the run lock: {err}"
    );
    assert!(
        err.contains("another heat-converge run holds the run lock"),
        "{err}"
    );

    let node2_url = db
        .url
        .replace(&node1, &format!("127.0.0.1:{}", cluster.nodes[1].port));
    let out = std::process::Command::new(servers::BIN)
        .args([
            "migrate",
            "--no-wait",
            "--format",
            "json",
            "--db-url",
            &node2_url,
        ])
        .output()
        .expect("run heat-converge");
    let code = out.status.code().unwrap_or(-1);
    let report = common::json(&String::from_utf8_lossy(&out.stdout));
    eprintln!(
        "run lock: held by a session on node1; migrate --no-wait through node1: exit 1 \
         (refused); through node2: exit {code}, converted {} (GET_LOCK is node-local on Galera)",
        report["converted"]
    );
    assert_eq!(
        (code, report["converted"].as_u64()),
        (3, Some(11)),
        "a run through node 2 while node 1 holds the run lock: if it is now refused, the \
         run lock has become cluster-wide: turn this step around. stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_nodes_equal(cluster, &db.name, "after the run through node 2");
}

/// Rounds the test runs at most while no conflict has hit heat-converge yet.
const MAX_ROUNDS: u64 = 8;

#[test]
fn migrate_through_one_node_while_another_takes_engine_writes() {
    let started = Instant::now();
    let cluster = Galera::start(3);
    eprintln!(
        "galera: 3 nodes Synced in {:.1} s",
        cluster.started_in.as_secs_f64()
    );
    cluster.nodes[0].sql(
        "CREATE USER 'heatconv'@'%' IDENTIFIED BY 'heatconv'; \
         GRANT ALL ON *.* TO 'heatconv'@'%';",
    );
    let threads = env_number("HC_GALERA_WRITERS", 4) as usize;
    let pause = Duration::from_millis(env_number("HC_GALERA_PAUSE_MS", 0));
    let min_rounds = env_number("HC_GALERA_ROUNDS", 2);
    let max_rounds = min_rounds.max(MAX_ROUNDS);
    let bed = Bed::new("galera");
    let node1 = format!("127.0.0.1:{}", cluster.nodes[0].port);
    let mut refusals = Vec::new();
    // Certification failures and brute-force aborts of node 1's transactions: heat-converge's.
    let mut conflicts_on_node1 = 0;
    // Transactions heat-converge tried again after a conflict (its report says how many).
    let mut retried = 0;
    let mut round = 0;
    while round < min_rounds || (conflicts_on_node1 == 0 && round < max_rounds) {
        round += 1;
        let t = Instant::now();
        let db = bed.demo_on(Backend::MariaDb, &node1);
        assert_nodes_equal(&cluster, &db.name, "the demo copied");
        eprintln!(
            "round {round}: demo on the cluster in {:.1} s",
            t.elapsed().as_secs_f64()
        );

        let before = cluster_counters(&cluster);
        let writer = Writer::start(&cluster.nodes[1], &db.name, threads, pause, round * 1000);
        std::thread::sleep(Duration::from_millis(300));
        let t = Instant::now();
        let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
        let took = t.elapsed();
        let counts = writer.stop();
        let after = cluster_counters(&cluster);
        let report = common::json(&out);
        let alone = left_alone(&report);
        eprintln!(
            "round {round}: migrate through node1 under the writer: exit {code} in {:.2} s; \
             converted {}, left alone {}:\n  {}",
            took.as_secs_f64(),
            report["converted"],
            report["left_alone"],
            alone.join("\n  ")
        );
        if !err.trim().is_empty() {
            eprintln!("round {round}: migrate's stderr:\n{err}");
        }
        eprintln!(
            "round {round}: writer on node2 ({threads} threads, pause {pause:?}): {} commits, \
             {} actions, {} signals, {} deadlock errors (1213), {} locks found held (1062); \
             wsrep_local_cert_failures / wsrep_local_bf_aborts: {}",
            Counts::get(&counts.committed),
            Counts::get(&counts.actions),
            Counts::get(&counts.signals),
            Counts::get(&counts.deadlocks),
            Counts::get(&counts.lock_busy),
            counters_grown(&cluster, &before, &after),
        );
        assert_eq!(code, 3, "busy and failed remain: {out}\n{err}");
        assert!(
            Counts::get(&counts.committed) > 0,
            "the writer wrote nothing"
        );
        for (name, kind) in [("busy", "engine_gone"), ("failed", "failed")] {
            let prefix = format!("{name}: {kind}: ");
            assert!(
                alone.iter().any(|a| a.starts_with(&prefix)),
                "{name}: {alone:?}"
            );
        }
        refusals.extend(alone.iter().filter(|a| a.contains("refused")).cloned());
        retried += report["retried_transactions"].as_u64().expect("retried_transactions");
        // A conflict is tried again; a tree is refused for one only when the bound is reached.
        for a in alone.iter().filter(|a| a.contains("error 1213")) {
            assert!(a.contains("transient reasons"), "a conflict not tried again: {a}");
        }
        conflicts_on_node1 += (after[0].0 - before[0].0) + (after[0].1 - before[0].1);

        let tables = assert_nodes_equal(&cluster, &db.name, "after the run under the writer");
        let mut conn = connect(&cluster.nodes[0], &db.name);
        let (conv, legacy) = assert_whole_trees(&mut conn, "after the run under the writer");
        assert_eq!(
            conv as u64,
            report["converted"].as_u64().unwrap_or(0),
            "converted trees"
        );
        assert_eq!(conv + legacy, 13, "the demo's 13 trees");
        eprintln!("round {round}: no tree half-converted; {tables} tables equal on the 3 nodes");

        // b. Again, nothing writing: what was left is converted, busy and failed remain.
        let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
        let report = common::json(&out);
        let alone = left_alone(&report);
        assert_eq!(code, 3, "{out}\n{err}");
        assert_eq!(alone.len(), 2, "only busy and failed: {alone:?}");
        assert_eq!(
            report["converted"].as_u64(),
            Some(legacy as u64 - 2),
            "{out}"
        );
        assert_nodes_equal(&cluster, &db.name, "after the second run");
        let (conv, legacy) = assert_whole_trees(&mut conn, "after the second run");
        assert_eq!((conv, legacy), (11, 2));
        eprintln!(
            "round {round}: second run: exit 3, converted {}, left alone busy and failed",
            report["converted"]
        );
    }
    eprintln!(
        "{round} rounds; certification failures + brute-force aborts on node1: \
         {conflicts_on_node1}; trees refused ({}):\n  {}",
        refusals.len(),
        refusals.join("\n  ")
    );
    assert!(
        conflicts_on_node1 > 0,
        "no certification conflict hit heat-converge in {round} rounds: \
         raise HC_GALERA_WRITERS"
    );
    eprintln!("transactions heat-converge tried again after a conflict: {retried}");
    assert!(
        retried > 0,
        "{conflicts_on_node1} conflicts on node 1, but heat-converge tried nothing again"
    );
    run_lock_across_nodes(&cluster, &bed);
    eprintln!(
        "galera test: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// Galera installations that refuse tables without a primary key
/// (`wsrep_mode=REQUIRED_PRIMARY_KEY`, MariaDB 10.6+; Percona's pxc_strict_mode does the
/// same) must still get every convertible tree converted.
///
/// Fails today (seen on MariaDB 10.11 + galera-4): V4's `CREATE TABLE heat_converge_deleted`
/// (no primary key) is refused with error 4165 "Galera replication not supported", but V4
/// is recorded as applied (refinery's MySQL driver sends the file as one multi-statement
/// query and never reads the results after the first), so every tree that deletes a row
/// is refused on every run: "Table '...heat_converge_deleted' doesn't exist" (1146).
#[test]
#[ignore = "fails today: heat_converge_deleted has no primary key (see the doc comment)"]
fn tables_without_primary_key_refused_by_the_cluster() {
    let cluster = Galera::start_with(1, &["--wsrep-mode=REQUIRED_PRIMARY_KEY"]);
    cluster.nodes[0].sql(
        "CREATE USER 'heatconv'@'%' IDENTIFIED BY 'heatconv'; \
         GRANT ALL ON *.* TO 'heatconv'@'%';",
    );
    let bed = Bed::new("galera-pk");
    let db = bed.demo_on(
        Backend::MariaDb,
        &format!("127.0.0.1:{}", cluster.nodes[0].port),
    );
    let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
    let report = common::json(&out);
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        left_alone(&report).len(),
        2,
        "only busy and failed: {:?}",
        left_alone(&report)
    );
    assert_eq!(report["converted"].as_u64(), Some(11), "{out}");
}
