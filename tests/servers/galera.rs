//! A MariaDB Galera cluster of the test's own on loopback (galera-4, MariaDB 10.11): what
//! large clouds run Heat's database on, so heat-converge is tried where certification
//! conflicts, not lock waits, decide between concurrent writers.
//!
//! Node 1 is bootstrapped (`--wsrep-new-cluster`) on a fresh data directory; the others
//! join it one at a time by an rsync state transfer (SST). Each node has its own data
//! directory, client port, group-communication port, IST port and SST port. Every node
//! is stopped and the directory removed on drop, also when the test fails.

use super::{free_port, run, wait_for_port, Scratch};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

/// One node of the cluster: root over its socket, `heatconv` over TCP on `port`.
pub struct Node {
    pub name: String,
    pub port: u16,
    pub socket: String,
    datadir: String,
    log: String,
    child: Option<Child>,
}

pub struct Galera {
    pub nodes: Vec<Node>,
    /// From the first mariadbd started to every node Synced in a cluster of all of them.
    pub started_in: Duration,
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
        assert!(n >= 1, "a cluster has a node");
        let dir = Scratch::new("galera");
        let ports: Vec<[u16; 4]> = (0..n)
            .map(|_| [free_port(), free_port(), free_port(), free_port()])
            .collect();
        let cluster = ports
            .iter()
            .map(|p| format!("127.0.0.1:{}", p[1]))
            .collect::<Vec<_>>()
            .join(",");
        let started = Instant::now();
        let mut galera = Galera {
            nodes: Vec::new(),
            started_in: Duration::ZERO,
            dir,
        };
        for (i, [client, gmcast, ist, sst]) in ports.into_iter().enumerate() {
            let name = format!("node{}", i + 1);
            let datadir = galera.dir.path(&name);
            if i == 0 {
                run(Command::new("mariadb-install-db").args([
                    "--no-defaults",
                    &format!("--datadir={datadir}"),
                    "--auth-root-authentication-method=normal",
                    "--user=root",
                    "--skip-test-db",
                ]));
            } else {
                // wsrep_sst_rsync's receiving rsync daemon, started by root, runs as
                // `nobody`: the joiner's (empty) data directory must be writable by it.
                std::fs::create_dir_all(&datadir).expect("create a joiner's data directory");
                run(Command::new("chown").args(["nobody:nogroup", &datadir]));
            }
            let mut node = Node {
                socket: galera.dir.path(&format!("{name}.sock")),
                log: galera.dir.path(&format!("{name}.log")),
                name,
                port: client,
                datadir,
                child: None,
            };
            let t = Instant::now();
            node.spawn(&cluster, [gmcast, ist, sst], i == 0, options);
            node.wait_synced();
            eprintln!(
                "galera: {} {} and Synced in {:.1} s",
                node.name,
                if i == 0 {
                    "bootstrapped"
                } else {
                    "joined (rsync SST)"
                },
                t.elapsed().as_secs_f64()
            );
            galera.nodes.push(node);
        }
        for node in &galera.nodes {
            let size = node.status("wsrep_cluster_size");
            assert_eq!(size, n.to_string(), "{}: wsrep_cluster_size", node.name);
        }
        galera.started_in = started.elapsed();
        galera
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
    fn spawn(
        &mut self,
        cluster: &str,
        [gmcast, ist, sst]: [u16; 3],
        bootstrap: bool,
        options: &[&str],
    ) {
        let mut cmd = Command::new("/usr/sbin/mariadbd");
        cmd.args([
            "--no-defaults".to_string(),
            format!("--datadir={}", self.datadir),
            format!("--socket={}", self.socket),
            format!("--port={}", self.port),
            "--bind-address=127.0.0.1".into(),
            "--user=root".into(),
            "--skip-name-resolve".into(),
            "--skip-ssl".into(),
            format!("--log-error={}", self.log),
            format!("--pid-file={}.pid", self.datadir),
            "--innodb-buffer-pool-size=32M".into(),
            "--binlog-format=ROW".into(),
            "--default-storage-engine=InnoDB".into(),
            "--innodb-autoinc-lock-mode=2".into(),
            "--wsrep-on=ON".into(),
            format!("--wsrep-provider={PROVIDER}"),
            "--wsrep-cluster-name=heat-converge-test".into(),
            format!("--wsrep-cluster-address=gcomm://{cluster}"),
            format!("--wsrep-node-name={}", self.name),
            format!("--wsrep-node-address=127.0.0.1:{gmcast}"),
            format!("--wsrep-node-incoming-address=127.0.0.1:{}", self.port),
            format!("--wsrep-sst-receive-address=127.0.0.1:{sst}"),
            "--wsrep-sst-method=rsync".into(),
            format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gmcast};\
                 ist.recv_addr=127.0.0.1:{ist};gcache.size=32M"
            ),
        ]);
        if bootstrap {
            cmd.arg("--wsrep-new-cluster");
        }
        cmd.args(options);
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        // A joiner opens its client port only after the state transfer.
        wait_for_port(
            self.port,
            &mut child,
            &format!("{} ({})", self.name, self.log),
        );
        self.child = Some(child);
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
