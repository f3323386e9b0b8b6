//! Our side: `heat-converge graph` run as a process on each comparison's inputs, with a
//! timeout, its outcome sorted into a graph, a refusal or a failure.

use crate::common::GraphJob;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `heat-converge graph` may take before it counts as failed.
pub(crate) const OUR_TIMEOUT: Duration = Duration::from_secs(60);

/// What `heat-converge graph` did.
pub(crate) enum Ours {
    Graph(Value),
    /// exit 1: its message
    Rejected(String),
    /// anything else: what happened
    Failed(String),
}

/// The arguments of `heat-converge` for a job.
pub(crate) fn our_args(job: &GraphJob) -> Vec<String> {
    let mut args = vec!["graph".to_string(), "--template".into()];
    args.push(job.template.display().to_string());
    for e in &job.environments {
        args.push("--environment".into());
        args.push(e.display().to_string());
    }
    for (k, v) in &job.parameters {
        args.push("--parameter".into());
        args.push(format!("{k}={v}"));
    }
    args.extend(["--format".into(), "json".into()]);
    args
}

pub(crate) fn run_ours(job: &GraphJob) -> Ours {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heat-converge"));
    cmd.args(our_args(job))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ours::Failed(format!("cannot run heat-converge: {e}")),
    };
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > OUR_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Ours::Failed(format!("waiting for heat-converge: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default())
        .trim()
        .to_string();
    let first = |s: &str| s.lines().next().unwrap_or("(no message)").to_string();
    let Some(status) = status else {
        return Ours::Failed(format!("timed out after {} s", OUR_TIMEOUT.as_secs()));
    };
    match status.code() {
        Some(0) => match serde_json::from_slice::<Value>(&stdout) {
            Ok(v) => match graph_of(&v) {
                Ok(_) => Ours::Graph(v),
                Err(e) => Ours::Failed(format!("exit 0, but {e}")),
            },
            Err(e) => Ours::Failed(format!("exit 0, but stdout is not JSON: {e}")),
        },
        Some(1) if stderr.is_empty() => Ours::Failed("exit 1 with nothing on stderr".into()),
        Some(1) => Ours::Rejected(stderr),
        Some(c) => Ours::Failed(format!("exit {c}: {}", first(&stderr))),
        None => Ours::Failed(format!("killed ({status}): {}", first(&stderr))),
    }
}

/// Runs our command for every job, a few at a time; results in order.
pub(crate) fn run_all_ours(jobs: &[GraphJob]) -> Vec<Ours> {
    let n = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let chunk = jobs.len().div_ceil(n).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(run_ours).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a runner thread"))
            .collect()
    })
}

/// name -> (type, requires sorted)
pub(crate) type Graph = BTreeMap<String, (String, Vec<String>)>;

pub(crate) fn graph_of(v: &Value) -> Result<Graph, String> {
    let res = v["resources"]
        .as_object()
        .ok_or_else(|| format!("no \"resources\" object in {}", short(&v.to_string())))?;
    let mut g = Graph::new();
    for (name, r) in res {
        let ty = r["type"]
            .as_str()
            .ok_or_else(|| format!("{name} has no \"type\" string"))?;
        let mut req: Vec<String> = r["requires"]
            .as_array()
            .ok_or_else(|| format!("{name} has no \"requires\" list"))?
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .ok_or(format!("{name}: requires {x}"))
            })
            .collect::<Result<_, _>>()?;
        req.sort();
        g.insert(name.clone(), (ty.to_string(), req));
    }
    Ok(g)
}

pub(crate) fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}
