//! The cloud's own Heat, asked for the graphs heat-converge cannot compute itself.
//!
//! One child process for a whole run: the interpreter of the Heat installation runs
//! `heat_graph.py` (Heat's `Stack.load` and `Stack.dependencies`, with the same heat.conf
//! files and plugin directories), read-only, and answers one JSON line per stack. No
//! engine, no message bus. It only answers questions: heat-converge still decides
//! eligibility, plans and writes every row, and checks every answer against the stack
//! before using it (see `convert::plan`).
//!
//! The database URL reaches the child on its stdin, never on its command line (which
//! `ps` shows). Heat's own log goes to heat-converge's log at -vv.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const SCRIPT: &str = include_str!("heat_graph.py");

/// A stack's graph as Heat computes it: each resource's name -> the names it requires.
pub type HeatGraph = BTreeMap<String, Vec<String>>;

/// Heat's own code, running, failed on the stack (the answer is Heat's exception): the
/// stack is one Heat itself cannot load, not a question of which Python.
#[derive(Debug)]
pub struct HeatFailed(pub String);

impl std::fmt::Display for HeatFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Heat's own code fails on it: {}", self.0)
    }
}

impl std::error::Error for HeatFailed {}

/// What the child is started with.
pub struct HeatPythonSetup {
    pub python: PathBuf,
    /// How the interpreter was chosen, for messages (`--heat-python`, heat-manage's).
    pub origin: String,
    pub config_files: Vec<PathBuf>,
    /// The SQLAlchemy URL heat-converge uses (a secret: it may hold a password).
    pub connection: String,
    pub plugin_dirs: Vec<PathBuf>,
    pub environment_dir: Option<PathBuf>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// The child, started on the first question.
pub struct HeatPython {
    setup: HeatPythonSetup,
    running: Option<Running>,
    /// Set once starting failed: every later question gets the same answer at once.
    failed: Option<String>,
    /// The Heat version that answered, once started.
    pub version: Option<String>,
    /// The third-party types Heat itself registered: type -> (class, file).
    pub types: BTreeMap<String, (String, Option<String>)>,
}

impl HeatPython {
    pub fn new(setup: HeatPythonSetup) -> HeatPython {
        HeatPython {
            setup,
            running: None,
            failed: None,
            version: None,
            types: BTreeMap::new(),
        }
    }

    /// The interpreter, as the operator should read it in messages.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.setup.python.display(), self.setup.origin)
    }

    fn running(&mut self) -> Result<&mut Running> {
        if let Some(why) = &self.failed {
            bail!("{why}");
        }
        if self.running.is_none() {
            match self.start() {
                Ok(r) => self.running = Some(r),
                Err(e) => {
                    let why = format!(
                        "Heat's Python {} could not start Heat: {e:#}",
                        self.describe()
                    );
                    self.failed = Some(why.clone());
                    bail!("{why}");
                }
            }
        }
        self.running
            .as_mut()
            .ok_or_else(|| anyhow!("Heat's Python is not running"))
    }

    fn start(&mut self) -> Result<Running> {
        // Its own process group: Ctrl-C at the terminal stops heat-converge's run (which
        // then finishes the batch at hand), not the Heat that batch may still ask.
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new(&self.setup.python)
            .process_group(0)
            .arg("-c")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", self.setup.python.display()))?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            bail!("no pipes to the child");
        };
        // Heat's log: to ours, at -vv, line by line, for the child's whole life.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Heat's own log lines name stacks and resources from the database.
                tracing::debug!("heat-python: {}", crate::escape::text(&line));
            }
        });
        let paths =
            |v: &[PathBuf]| -> Vec<String> { v.iter().map(|p| p.display().to_string()).collect() };
        let setup = json!({
            "config_files": paths(&self.setup.config_files),
            "connection": self.setup.connection,
            "plugin_dirs": paths(&self.setup.plugin_dirs),
            "environment_dir": self.setup.environment_dir.as_ref().map(|d| d.display().to_string()),
        });
        writeln!(stdin, "{setup}").context("cannot write to it")?;
        stdin.flush().context("cannot write to it")?;
        let mut running = Running {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let ready = read_answer(&mut running)?;
        if let Some(e) = ready.get("error").and_then(Value::as_str) {
            bail!("{e}");
        }
        self.version = ready.get("ready").and_then(Value::as_str).map(String::from);
        if let Some(types) = ready.get("types").and_then(Value::as_object) {
            for (t, info) in types {
                let class = info.get("class").and_then(Value::as_str).unwrap_or("?");
                let file = info.get("file").and_then(Value::as_str).map(String::from);
                self.types.insert(t.clone(), (class.to_string(), file));
            }
        }
        tracing::debug!(
            "Heat's Python {} answers: Heat {}, {} third-party types",
            self.describe(),
            self.version.as_deref().unwrap_or("?"),
            self.types.len()
        );
        Ok(running)
    }

    /// Starts the child now (if not yet): an error says why Heat cannot answer.
    pub fn ensure_started(&mut self) -> Result<()> {
        self.running().map(|_| ())
    }

    /// Heat's graph of the stored stack `stack_id` (of project `project`).
    pub fn stack_graph(&mut self, stack_id: &str, project: &str) -> Result<HeatGraph> {
        self.ask(json!({"stack": stack_id, "project": project}))
    }

    /// Heat's graph of a new stack made of `template`, `environment` and `files`.
    pub fn template_graph(
        &mut self,
        template: &Value,
        environment: &Value,
        files: &BTreeMap<String, String>,
    ) -> Result<HeatGraph> {
        self.ask(json!({"template": template, "environment": environment, "files": files}))
    }

    fn ask(&mut self, request: Value) -> Result<HeatGraph> {
        let running = self.running()?;
        let answer = (|| {
            writeln!(running.stdin, "{request}")?;
            running.stdin.flush()?;
            read_answer(running)
        })();
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                // The child is gone: no later question can be answered either.
                let why = format!("Heat's Python {} stopped answering: {e:#}", self.describe());
                self.failed = Some(why.clone());
                self.running = None;
                bail!("{why}");
            }
        };
        if let Some(e) = answer.get("error").and_then(Value::as_str) {
            return Err(HeatFailed(e.to_string()).into());
        }
        let resources = answer
            .get("resources")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("Heat's Python answered without a graph"))?;
        let mut graph = HeatGraph::new();
        for (name, requires) in resources {
            let requires = requires
                .as_array()
                .ok_or_else(|| anyhow!("Heat's Python answered a malformed graph"))?
                .iter()
                .map(|r| {
                    r.as_str()
                        .map(String::from)
                        .ok_or_else(|| anyhow!("Heat's Python answered a malformed graph"))
                })
                .collect::<Result<Vec<String>>>()?;
            graph.insert(name.clone(), requires);
        }
        Ok(graph)
    }
}

fn read_answer(running: &mut Running) -> Result<Value> {
    let mut line = String::new();
    let n = running
        .stdout
        .read_line(&mut line)
        .context("cannot read its answer")?;
    if n == 0 {
        let status = running.child.try_wait().ok().flatten();
        bail!(
            "it exited ({}) without an answer; run with -vv to see Heat's log",
            status.map_or("still running".to_string(), |s| s.to_string())
        );
    }
    serde_json::from_str(&line).context("its answer is not JSON")
}

impl Drop for HeatPython {
    fn drop(&mut self) {
        if let Some(mut r) = self.running.take() {
            drop(r.stdin); // end of questions: the child exits
            if matches!(r.child.try_wait(), Ok(None)) {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while std::time::Instant::now() < deadline {
                    if !matches!(r.child.try_wait(), Ok(None)) {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                let _ = r.child.kill();
                let _ = r.child.wait();
            }
        }
    }
}

/// The interpreter of the Heat installation whose `heat-manage` is on `PATH`: the one its
/// shebang names (`#!/usr/bin/env python3` means `python3` on `PATH`).
pub fn from_heat_manage() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let manage = std::env::split_paths(&path)
        .map(|d| d.join("heat-manage"))
        .find(|p| p.is_file())?;
    let text = std::fs::read(&manage).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    let shebang = std::str::from_utf8(first).ok()?.strip_prefix("#!")?.trim();
    let mut words = shebang.split_whitespace();
    let interp = words.next()?;
    if Path::new(interp).file_name().is_some_and(|n| n == "env") {
        let name = words.find(|w| !w.starts_with('-'))?;
        return std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file());
    }
    Some(PathBuf::from(interp))
}
