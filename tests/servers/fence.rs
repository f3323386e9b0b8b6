//! Fences for servers a test starts, so that several servers on one machine can be
//! measured as separate machines would be: each in a network namespace of its own (its
//! own address, reached through a bridge) and with a CPU share of its own (a cgroup v1
//! `cpu` group with a CFS quota; its `cpuacct` twin counts the CPU it used).
//!
//! Names carry the test's pid and a serial, so a leftover of a run that was killed never
//! blocks a later one; everything made here is removed on drop, also when the test fails.
//! Needs root (`ip netns`, cgroups), as the other servers of `tests/servers` do.

use super::run;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Unique within the process: several fences may live at once.
static SERIAL: AtomicUsize = AtomicUsize::new(0);

fn serial() -> usize {
    SERIAL.fetch_add(1, Ordering::SeqCst)
}

fn ip(args: &[&str]) {
    run(Command::new("ip").args(args));
}

/// A bridge in the root namespace with a /24 of its own, and the network namespaces
/// joined to it: the test (and heat-converge, the client) reach every member through the
/// bridge, the members reach each other through it.
pub struct Lan {
    bridge: String,
    /// The /24's first three octets, e.g. `10.231.7`.
    prefix: String,
    members: Vec<Netns>,
}

/// One member of a [`Lan`]: its namespace, its address on the bridge's /24, and the root
/// namespace's end of its veth pair (deleting it deletes the pair).
pub struct Netns {
    pub name: String,
    pub addr: String,
    veth: String,
}

impl Lan {
    /// A bridge, up, holding `.1` of a /24 no interface of the machine is on.
    pub fn new() -> Lan {
        let id = format!("{}x{}", std::process::id(), serial());
        let bridge = format!("hcb{id}");
        let prefix = free_prefix();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        let lan = Lan {
            bridge,
            prefix,
            members: Vec::new(),
        };
        ip(&[
            "addr",
            "add",
            &format!("{}.1/24", lan.prefix),
            "dev",
            &lan.bridge,
        ]);
        ip(&["link", "set", &lan.bridge, "up"]);
        lan
    }

    /// A new namespace for `what`, its loopback up and its `eth0` (a veth whose other end
    /// is on the bridge) holding the next address; returns (namespace, address).
    pub fn join(&mut self, what: &str) -> (String, String) {
        let k = self.members.len() + 2;
        assert!(k < 255, "a /24 holds 253 members");
        let id = format!("{}x{}", std::process::id(), serial());
        let member = Netns {
            name: format!("heat-converge-{id}-{what}"),
            addr: format!("{}.{k}", self.prefix),
            veth: format!("hcv{id}"),
        };
        ip(&["netns", "add", &member.name]);
        // Recorded before anything else can fail, so that drop removes it.
        self.members.push(member);
        let m = self.members.last().expect("just pushed");
        ip(&[
            "link", "add", &m.veth, "type", "veth", "peer", "name", "eth0", "netns", &m.name,
        ]);
        ip(&["link", "set", &m.veth, "master", &self.bridge, "up"]);
        ip(&["-n", &m.name, "link", "set", "lo", "up"]);
        ip(&[
            "-n",
            &m.name,
            "addr",
            "add",
            &format!("{}/24", m.addr),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &m.name, "link", "set", "eth0", "up"]);
        (m.name.clone(), m.addr.clone())
    }
}

/// A /24 under 10.231/16 that no address or route of the machine is in (a leftover
/// bridge of a killed run keeps its own).
fn free_prefix() -> String {
    let taken = |cmd: &[&str]| {
        let out = run(Command::new("ip").args(cmd));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let used = taken(&["-o", "-4", "addr"]) + &taken(&["-4", "route"]);
    let start = std::process::id() as usize + serial();
    (0..250)
        .map(|i| format!("10.231.{}", (start + i) % 250 + 1))
        .find(|p| !used.contains(&format!("{p}.")))
        .expect("a free /24 under 10.231/16")
}

impl Drop for Lan {
    fn drop(&mut self) {
        for m in self.members.drain(..).rev() {
            let _ = Command::new("ip").args(["link", "del", &m.veth]).status();
            let _ = Command::new("ip").args(["netns", "del", &m.name]).status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
    }
}

/// A CPU share: a `cpu` cgroup whose CFS quota caps what its processes may use (none
/// until [`CpuShare::limit`]), and a `cpuacct` group of the same name that counts it.
pub struct CpuShare {
    pub name: String,
    cpu: PathBuf,
    acct: PathBuf,
}

const CGROUPS: &str = "/sys/fs/cgroup";
/// The CFS period, 100 ms: a quota of half of it is half a CPU.
pub const PERIOD_US: u64 = 100_000;

impl CpuShare {
    pub fn new(what: &str) -> CpuShare {
        let name = format!("heat-converge-{}-{}-{what}", std::process::id(), serial());
        let share = CpuShare {
            cpu: Path::new(CGROUPS).join("cpu").join(&name),
            acct: Path::new(CGROUPS).join("cpuacct").join(&name),
            name,
        };
        for dir in [&share.cpu, &share.acct] {
            std::fs::create_dir(dir)
                .unwrap_or_else(|e| panic!("mkdir {} (cgroup v1, root): {e}", dir.display()));
        }
        write(&share.cpu.join("cpu.cfs_period_us"), &PERIOD_US.to_string());
        share
    }

    /// Caps the group at `cpus` CPUs (0.5: 50 ms of every 100 ms), or lifts the cap.
    pub fn limit(&self, cpus: Option<f64>) {
        let quota = match cpus {
            Some(c) => ((c * PERIOD_US as f64) as i64).max(1000),
            None => -1,
        };
        write(&self.cpu.join("cpu.cfs_quota_us"), &quota.to_string());
    }

    /// The `cgroup.procs` files a process writes its pid to to join this share.
    pub fn procs(&self) -> [PathBuf; 2] {
        [
            self.cpu.join("cgroup.procs"),
            self.acct.join("cgroup.procs"),
        ]
    }

    /// CPU time its processes used so far (`cpuacct.usage`).
    pub fn used(&self) -> Duration {
        let ns = read(&self.acct.join("cpuacct.usage"))
            .trim()
            .parse()
            .unwrap_or(0);
        Duration::from_nanos(ns)
    }

    /// CFS periods so far, and those in which the quota held its processes back
    /// (`cpu.stat`: nr_periods, nr_throttled).
    pub fn throttled(&self) -> (u64, u64) {
        let stat = read(&self.cpu.join("cpu.stat"));
        let field = |name: &str| {
            stat.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        (field("nr_periods "), field("nr_throttled "))
    }
}

fn write(path: &Path, value: &str) {
    std::fs::write(path, value)
        .unwrap_or_else(|e| panic!("write {value} to {}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Removes a cgroup: it must be empty first, so a process of the test's own left in it
/// (a server's child still exiting) is waited for, then killed by its pid.
fn remove_group(dir: &Path) {
    let start = Instant::now();
    while std::fs::remove_dir(dir).is_err() && dir.exists() {
        if start.elapsed() > Duration::from_secs(5) {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        if start.elapsed() > Duration::from_secs(15) {
            eprintln!("fence: cannot remove {}", dir.display());
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        remove_group(&self.cpu);
        remove_group(&self.acct);
    }
}

/// `program` run inside `netns` and `share` from its first instruction: a shell joins the
/// share's groups and execs `ip netns exec`, which execs the program, so the pid is the
/// program's own and whatever it starts (a state transfer's rsync) is fenced too.
pub fn fenced(program: &str, netns: &str, share: &CpuShare) -> Command {
    let [cpu, acct] = share.procs();
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        r#"echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@""#,
        "sh",
    ])
    .arg(cpu)
    .arg(acct)
    .args(["ip", "netns", "exec", netns, program]);
    cmd
}
