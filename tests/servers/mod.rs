//! Database servers of a test's own (MariaDB, PostgreSQL) with TLS certificates made by
//! the test (openssl CLI), and the heat-converge binary run against them.
//!
//! Each server has its own data directory under `target/` and its own port; it is killed
//! and its directory removed when the handle drops, also when the test fails.
#![allow(dead_code)] // each test binary uses a different part

pub mod fence;
pub mod galera;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_heat-converge");

/// A directory under target/ removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        // Unique within the process too: tests of one binary run at the same time.
        static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(format!("{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test's directory");
        Scratch(dir)
    }
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// heat-converge status --db-url URL: its exit code and stderr. A run longer than a
/// minute is killed and fails the test (a hang must fail, not stall the suite).
pub fn status(url: &str) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(["status", "--db-url", url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run heat-converge");
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait for heat-converge") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return (st.code().unwrap_or(-1), err);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("heat-converge status hung for a minute on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A CA, a server certificate for `localhost` only (not 127.0.0.1) signed by it, a client
/// certificate signed by it, and a second CA that signed nothing of this.
pub struct Certs {
    pub ca: String,
    pub other_ca: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
}

impl Certs {
    pub fn make(dir: &Scratch) -> Certs {
        let p = |n: &str| dir.path(n);
        for ca in ["ca", "other-ca"] {
            run(Command::new("openssl").args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=heat-converge test {ca}"),
                "-keyout",
                &p(&format!("{ca}.key")),
                "-out",
                &p(&format!("{ca}.crt")),
            ]));
        }
        for (who, cn, ext) in [
            (
                "server",
                "localhost",
                "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
            ),
            ("client", "heatcert", "extendedKeyUsage=clientAuth\n"),
        ] {
            std::fs::write(p(&format!("{who}.ext")), ext).expect("write ext");
            run(Command::new("openssl").args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &p(&format!("{who}.key")),
                "-out",
                &p(&format!("{who}.csr")),
            ]));
            run(Command::new("openssl").args([
                "x509",
                "-req",
                "-in",
                &p(&format!("{who}.csr")),
                "-CA",
                &p("ca.crt"),
                "-CAkey",
                &p("ca.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &p(&format!("{who}.ext")),
                "-out",
                &p(&format!("{who}.crt")),
            ]));
        }
        Certs {
            ca: p("ca.crt"),
            other_ca: p("other-ca.crt"),
            server_cert: p("server.crt"),
            server_key: p("server.key"),
            client_cert: p("client.crt"),
            client_key: p("client.key"),
        }
    }
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    wait_for_addr("127.0.0.1", port, child, what);
}

/// Waits until `host:port` takes connections; fails if `child` exits or after 60 s.
fn wait_for_addr(host: &str, port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if std::net::TcpStream::connect((host, port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on {host}:{port} within 60 s");
}

/// A MariaDB server of the test's own, on 127.0.0.1:port, root over its socket.
pub struct MariaDb {
    pub port: u16,
    pub socket: String,
    datadir: String,
    child: Option<Child>,
    log: String,
}

impl MariaDb {
    /// Initialises a data directory in `dir` (not started).
    pub fn init(dir: &Scratch) -> MariaDb {
        let datadir = dir.path("mariadb");
        run(Command::new("mariadb-install-db").args([
            "--no-defaults",
            &format!("--datadir={datadir}"),
            "--auth-root-authentication-method=normal",
            "--user=root",
            "--skip-test-db",
        ]));
        MariaDb {
            port: free_port(),
            socket: dir.path("mariadb.sock"),
            datadir,
            child: None,
            log: dir.path("mariadb.log"),
        }
    }

    /// Starts the server, with TLS from `certs` or without.
    pub fn start(&mut self, certs: Option<&Certs>) {
        let mut cmd = Command::new("/usr/sbin/mariadbd");
        cmd.args([
            "--no-defaults".to_string(),
            format!("--datadir={}", self.datadir),
            format!("--socket={}", self.socket),
            format!("--port={}", self.port),
            "--bind-address=127.0.0.1".into(),
            "--user=root".into(),
            format!("--log-error={}", self.log),
            format!("--pid-file={}.pid", self.datadir),
            "--skip-log-bin".into(),
            "--innodb-buffer-pool-size=16M".into(),
        ]);
        match certs {
            Some(c) => {
                cmd.args([
                    format!("--ssl-ca={}", c.ca),
                    format!("--ssl-cert={}", c.server_cert),
                    format!("--ssl-key={}", c.server_key),
                ]);
            }
            None => {
                cmd.arg("--skip-ssl");
            }
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        wait_for_port(self.port, &mut child, "mariadbd");
        self.child = Some(child);
        let start = Instant::now();
        while Command::new("mariadb-admin")
            .args([
                "--no-defaults",
                &format!("--socket={}", self.socket),
                "-uroot",
                "ping",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "mariadbd not ready within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM: a clean shutdown, so that the data directory can start again.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }

    /// Runs SQL as root over the socket.
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
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A PostgreSQL server of the test's own (run as the postgres user: it refuses root).
pub struct Postgres {
    pub port: u16,
    pub socket_dir: String,
    datadir: String,
    child: Option<Child>,
}

fn as_postgres(program: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--", program]);
    c
}

impl Postgres {
    /// Initialises a data directory in `dir`; `hba` is the whole pg_hba.conf.
    pub fn init(dir: &Scratch, certs: &Certs, hba: &str) -> Postgres {
        let root = dir.path("pg");
        std::fs::create_dir_all(&root).expect("create pg dir");
        let datadir = format!("{root}/data");
        let socket_dir = format!("{root}/sock");
        std::fs::create_dir_all(&socket_dir).expect("create pg socket dir");
        // The server's key must be the postgres user's, mode 0600.
        std::fs::copy(&certs.server_cert, format!("{root}/server.crt")).expect("copy cert");
        std::fs::copy(&certs.server_key, format!("{root}/server.key")).expect("copy key");
        std::fs::copy(&certs.ca, format!("{root}/ca.crt")).expect("copy ca");
        run(Command::new("chown").args(["-R", "postgres:postgres", &root]));
        run(Command::new("chmod").args(["600", &format!("{root}/server.key")]));
        run(as_postgres("/usr/lib/postgresql/15/bin/initdb").args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-D",
            &datadir,
        ]));
        std::fs::write(format!("{datadir}/pg_hba.conf"), hba).expect("write pg_hba.conf");
        Postgres {
            port: free_port(),
            socket_dir,
            datadir,
            child: None,
        }
    }

    pub fn start(&mut self, tls: bool) {
        let root = Path::new(&self.datadir)
            .parent()
            .expect("pg root")
            .display()
            .to_string();
        let mut cmd = as_postgres("/usr/lib/postgresql/15/bin/postgres");
        cmd.args([
            "-D",
            &self.datadir,
            "-p",
            &self.port.to_string(),
            "-k",
            &self.socket_dir,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            &format!("ssl={}", if tls { "on" } else { "off" }),
            "-c",
            &format!("ssl_cert_file={root}/server.crt"),
            "-c",
            &format!("ssl_key_file={root}/server.key"),
            "-c",
            &format!("ssl_ca_file={root}/ca.crt"),
        ]);
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        wait_for_port(self.port, &mut child, "postgres");
        self.child = Some(child);
        // The port opens before the server takes connections ("starting up").
        let start = Instant::now();
        while Command::new("/usr/lib/postgresql/15/bin/pg_isready")
            .args(["-q", "-h", &self.socket_dir, "-p", &self.port.to_string()])
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "postgres not ready within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // runuser's child is postgres: ask it for a fast shutdown by its pid file.
            let pid = std::fs::read_to_string(format!("{}/postmaster.pid", self.datadir))
                .ok()
                .and_then(|s| s.lines().next().map(str::to_string));
            if let Some(pid) = pid {
                let _ = Command::new("kill").args(["-INT", &pid]).status();
            }
            let _ = c.wait();
        }
    }

    /// Runs SQL as postgres over the socket.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = run(Command::new("psql").args([
            "-h",
            &self.socket_dir,
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Gives `url` Heat's schema with the bed (`heatbed.py createdb`, Heat's db_sync).
pub fn heat_createdb(url: &str) {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(Command::new(top.join("target/heat-venv/bin/python"))
        .arg(top.join("tests/bed/heatbed.py"))
        .args(["createdb", url])
        .env("PYTHONWARNINGS", "ignore"));
}
