//! A MariaDB Galera cluster of the test's own (galera-4, MariaDB 10.11): what large clouds
//! run Heat's database on, so heat-converge is tried where certification conflicts, not
//! lock waits, decide between concurrent writers.
//!
//! Node 1 is bootstrapped (`--wsrep-new-cluster`) on a fresh data directory; the others
//! join it one at a time by an rsync state transfer (SST). Each node has its own data
//! directory, client port, group-communication port, IST port and SST port. By default
//! the nodes listen on loopback and share the machine; fenced ([`Galera::start_fenced`]),
//! each node runs in a network namespace of its own, on a bridge, with a CPU share of its
//! own (see `fence.rs`). Every node is stopped, and the directory, namespaces and groups
//! removed, on drop, also when the test fails.

use super::fence::{fenced, CpuShare, Lan};
use super::{free_port, run, wait_for_addr, Scratch};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

/// One node of the cluster: root over its socket, `heatconv` over TCP on `host:port`.
pub struct Node {
    pub name: String,
    /// The address it listens on: 127.0.0.1, or its namespace's own when fenced.
    pub host: String,
    pub port: u16,
    pub socket: String,
    /// Fenced: its CPU share (no cap until [`CpuShare::limit`]).
    pub share: Option<CpuShare>,
    /// Fenced: its network namespace.
    netns: Option<String>,
    datadir: String,
    log: String,
    child: Option<Child>,
}

/// What the servers are: a Galera cluster, or one plain server started as a node is but
/// with wsrep off (the single server a cluster is measured against).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Cluster,
    Plain,
}

pub struct Galera {
    pub nodes: Vec<Node>,
    /// From the first mariadbd started to every node Synced in a cluster of all of them.
    pub started_in: Duration,
    /// Fenced: the bridge and the nodes' namespaces (removed after the nodes stop).
    lan: Option<Lan>,
    dir: Scratch,
}

impl Galera {
    /// Starts an `n`-node cluster and waits until every node is Synced and sees all `n`.
    pub fn start(n: usize) -> Galera {
        Galera::start_with(n, &[])
    }

    /// [`Galera::start`] with more mariadbd options on every node (e.g.
    /// `--wsrep-mode=REQUIRED_PRIMARY_KEY`).
    pub fn start_with(n: usize, options: &[&str]) -> Galera {
        Galera::launch(n, options, Kind::Cluster, false)
    }

    /// [`Galera::start`] with every node fenced: a network namespace and a CPU share of
    /// its own, the nodes reaching each other (and the test reaching them) over a bridge.
    pub fn start_fenced(n: usize, options: &[&str]) -> Galera {
        Galera::launch(n, options, Kind::Cluster, true)
    }

    /// Not a cluster: one server started as a node is, with the same options (`options`
    /// added as for a node) but wsrep off, fenced as the nodes of [`Galera::start_fenced`] are or not; what a cluster's
    /// throughput is measured against.
    pub fn start_single(fence: bool, options: &[&str]) -> Galera {
        Galera::launch(1, options, Kind::Plain, fence)
    }

    fn launch(n: usize, options: &[&str], kind: Kind, fence: bool) -> Galera {
        assert!(n >= 1, "a cluster has a node");
        let dir = Scratch::new("galera");
        let mut lan = fence.then(Lan::new);
        let mut nodes: Vec<Node> = (0..n)
            .map(|i| {
                let name = match kind {
                    Kind::Cluster => format!("node{}", i + 1),
                    Kind::Plain => "single".to_string(),
                };
                let (netns, host) = match lan.as_mut() {
                    Some(lan) => {
                        let (ns, addr) = lan.join(&name);
                        (Some(ns), addr)
                    }
                    None => (None, "127.0.0.1".to_string()),
                };
                Node {
                    share: fence.then(|| CpuShare::new(&name)),
                    netns,
                    host,
                    socket: dir.path(&format!("{name}.sock")),
                    log: dir.path(&format!("{name}.log")),
                    datadir: dir.path(&name),
                    port: free_port(),
                    name,
                    child: None,
                }
            })
            .collect();
        let ports: Vec<[u16; 3]> = (0..n)
            .map(|_| [free_port(), free_port(), free_port()])
            .collect();
        let cluster = nodes
            .iter()
            .zip(&ports)
            .map(|(node, p)| format!("{}:{}", node.host, p[0]))
            .collect::<Vec<_>>()
            .join(",");
        let started = Instant::now();
        let mut galera = Galera {
            nodes: Vec::new(),
            started_in: Duration::ZERO,
            lan,
            dir,
        };
        for (i, (mut node, ports)) in nodes.drain(..).zip(ports).enumerate() {
            if i == 0 {
                run(Command::new("mariadb-install-db").args([
                    "--no-defaults",
                    &format!("--datadir={}", node.datadir),
                    "--auth-root-authentication-method=normal",
                    "--user=root",
                    "--skip-test-db",
                ]));
            } else {
                // wsrep_sst_rsync's receiving rsync daemon, started by root, runs as
                // `nobody`: the joiner's (empty) data directory must be writable by it.
                std::fs::create_dir_all(&node.datadir).expect("create a joiner's data directory");
                run(Command::new("chown").args(["nobody:nogroup", &node.datadir]));
            }
            let t = Instant::now();
            let mut args = node.server_args();
            if kind == Kind::Cluster {
                args.extend(node.wsrep_args(&cluster, ports, i == 0));
            }
            args.extend(options.iter().map(|o| o.to_string()));
            node.spawn(&args);
            if kind == Kind::Cluster {
                node.wait_synced();
            }
            eprintln!(
                "galera: {} on {}:{}{} {} in {:.1} s",
                node.name,
                node.host,
                node.port,
                if fence { " (fenced)" } else { "" },
                match (kind, i) {
                    (Kind::Plain, _) => "started (wsrep off)",
                    (Kind::Cluster, 0) => "bootstrapped and Synced",
                    _ => "joined (rsync SST) and Synced",
                },
                t.elapsed().as_secs_f64()
            );
            galera.nodes.push(node);
        }
        if kind == Kind::Cluster {
            for node in &galera.nodes {
                let size = node.status("wsrep_cluster_size");
                assert_eq!(size, n.to_string(), "{}: wsrep_cluster_size", node.name);
            }
        }
        galera.started_in = started.elapsed();
        galera
    }

    /// Caps every node's CPU share at `cpus` CPUs, or lifts the caps (fenced only).
    pub fn limit_cpu(&self, cpus: Option<f64>) {
        for node in &self.nodes {
            if let Some(share) = &node.share {
                share.limit(cpus);
            }
        }
    }

    /// Waits until every node has applied the same last write-set (`wsrep_last_committed`
    /// equal on all, twice in a row), so reads on any node see every commit.
    pub fn wait_quiet(&self) {
        let start = Instant::now();
        let mut previous = Vec::new();
        loop {
            let now: Vec<String> = self
                .nodes
                .iter()
                .map(|n| n.status("wsrep_last_committed"))
                .collect();
            if now.windows(2).all(|w| w[0] == w[1]) && now == previous {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the nodes did not catch up within 60 s: wsrep_last_committed {now:?}"
            );
            previous = now;
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Node {
    /// Its address as a client gives it, `host:port`.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The options of every server here, a cluster's node or a single server alike.
    fn server_args(&self) -> Vec<String> {
        vec![
            "--no-defaults".to_string(),
            format!("--datadir={}", self.datadir),
            format!("--socket={}", self.socket),
            format!("--port={}", self.port),
            format!("--bind-address={}", self.host),
            "--user=root".into(),
            "--skip-name-resolve".into(),
            "--skip-ssl".into(),
            format!("--log-error={}", self.log),
            format!("--pid-file={}.pid", self.datadir),
            "--innodb-buffer-pool-size=32M".into(),
            "--binlog-format=ROW".into(),
            "--default-storage-engine=InnoDB".into(),
            "--innodb-autoinc-lock-mode=2".into(),
        ]
    }

    /// A node's wsrep options: the cluster's addresses, its own ports on its own host.
    fn wsrep_args(
        &self,
        cluster: &str,
        [gmcast, ist, sst]: [u16; 3],
        bootstrap: bool,
    ) -> Vec<String> {
        let host = &self.host;
        let mut args = vec![
            "--wsrep-on=ON".to_string(),
            format!("--wsrep-provider={PROVIDER}"),
            "--wsrep-cluster-name=heat-converge-test".into(),
            format!("--wsrep-cluster-address=gcomm://{cluster}"),
            format!("--wsrep-node-name={}", self.name),
            format!("--wsrep-node-address={host}:{gmcast}"),
            format!("--wsrep-node-incoming-address={host}:{}", self.port),
            format!("--wsrep-sst-receive-address={host}:{sst}"),
            "--wsrep-sst-method=rsync".into(),
            format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://{host}:{gmcast};\
                 ist.recv_addr={host}:{ist};gcache.size=32M"
            ),
        ];
        if bootstrap {
            args.push("--wsrep-new-cluster".into());
        }
        args
    }

    /// Starts mariadbd with `args`, in its namespace and CPU share when fenced, and waits
    /// for its client port (a joiner opens it only after the state transfer).
    fn spawn(&mut self, args: &[String]) {
        const MARIADBD: &str = "/usr/sbin/mariadbd";
        let mut cmd = match (&self.netns, &self.share) {
            (Some(ns), Some(share)) => fenced(MARIADBD, ns, share),
            _ => Command::new(MARIADBD),
        };
        let child = cmd
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        // Kept before waiting, so that drop stops a node that never listens.
        let what = format!("{} ({})", self.name, self.log);
        let child = self.child.insert(child);
        wait_for_addr(&self.host, self.port, child, &what);
    }

    fn wait_synced(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(Ok(Some(st))) = self.child.as_mut().map(Child::try_wait) {
                panic!("{} exited ({st}); see {}", self.name, self.tail_log());
            }
            if self.try_status("wsrep_local_state_comment").as_deref() == Some("Synced") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{} not Synced within 120 s: {}",
                self.name,
                self.tail_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn tail_log(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn try_status(&self, name: &str) -> Option<String> {
        let out = Command::new("mariadb")
            .args(["--no-defaults", &format!("--socket={}", self.socket)])
            .args(["-uroot", "-N", "-B", "-e"])
            .arg(format!("SHOW GLOBAL STATUS LIKE '{name}'"))
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_whitespace().nth(1).map(str::to_string)
    }

    /// A global status variable's value (`SHOW GLOBAL STATUS`).
    pub fn status(&self, name: &str) -> String {
        self.try_status(name)
            .unwrap_or_else(|| panic!("{}: no status {name}", self.name))
    }

    /// Runs SQL as root over the socket; its rows, tab-separated.
    pub fn sql(&self, sql: &str) -> String {
        let out = run(Command::new("mariadb").args([
            "--no-defaults",
            &format!("--socket={}", self.socket),
            "-uroot",
            "-N",
            "-B",
            "-e",
            sql,
        ]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// SIGTERM (the node leaves the cluster cleanly), SIGKILL after 30 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let start = Instant::now();
            while matches!(c.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for Galera {
    fn drop(&mut self) {
        // Joiners first, the bootstrap node last.
        while let Some(mut node) = self.nodes.pop() {
            node.stop();
        }
    }
}
