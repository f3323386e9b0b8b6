//! heat.conf read by us and by oslo.config itself (the bed's virtualenv, or $HEAT_VENV),
//! called as heat-manage calls it: `ConfigOpts(args, project='heat', prog='heat-manage',
//! default_config_files=find_config_files('heat', 'heat-engine'))`, with `connection` in
//! `[database]` and `environment_dir` in `[DEFAULT]` registered as StrOpt.
//!
//! Handwritten cases and a deterministic generator make config files (several files, a
//! config directory, default files under a private HOME, `OS_GROUP__KEY` variables) out of
//! the INI dialect's corners: `=` and `:`, continuation lines, comments, quotes, repeated
//! keys and sections, section-name case, Unicode spaces, `\r` line ends, `$` substitution,
//! broken lines, missing files and directories. One Python process reads every case; each
//! value (or "both refuse") must be the same as ours.
//!
//! Then the binary: `heat-converge status --config-dir DIR` alone finds the database, and
//! `[DEFAULT] environment_dir` is used unless `--environment-dir` is given.

mod common;

use common::{python_oracle, Rng};
use heat_converge::config::HeatConf;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A private directory under target/, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/config-oslo")
            .join(format!("{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// oslo.config's reading of each case: per option its value or the error's class name, or
/// the error of reading the files at all.
const ORACLE: &str = r#"
import json, os, sys
from oslo_config import cfg
out = []
for case in json.load(sys.stdin):
    for k in [k for k in os.environ if k.startswith("OS_")]:
        del os.environ[k]
    os.environ.update(case["env"])
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("connection"), group="database")
    conf.register_opt(cfg.StrOpt("environment_dir"))
    try:
        conf(case["args"], project="heat", prog="heat-manage",
             default_config_files=cfg.find_config_files("heat", "heat-engine"))
    except BaseException as e:
        out.append({"error": type(e).__name__})
        continue
    got = {}
    for group, key in [("database", "connection"), ("DEFAULT", "environment_dir")]:
        try:
            v = conf[key] if group == "DEFAULT" else conf[group][key]
            got[key] = {"value": v}
        except Exception as e:
            got[key] = {"error": type(e).__name__}
    out.append(got)
json.dump(out, sys.stdout, ensure_ascii=False)
"#;

/// One case: files to write (path relative to its directory, bytes), the command line's
/// config files and directories (relative, or `~/...`), and the environment.
struct Case {
    files: Vec<(String, Vec<u8>)>,
    cli_files: Vec<String>,
    cli_dirs: Vec<String>,
    env: Vec<(String, String)>,
}

impl Case {
    fn new(files: &[(&str, &str)], cli_files: &[&str], cli_dirs: &[&str]) -> Case {
        Case {
            files: files
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
                .collect(),
            cli_files: cli_files.iter().map(|s| s.to_string()).collect(),
            cli_dirs: cli_dirs.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
        }
    }
}

fn handwritten() -> Vec<Case> {
    let db = "[database]\nconnection = mysql://heat:pw@db/heat\n";
    let mut cases = vec![
        Case::new(&[("a.conf", db)], &["a.conf"], &[]),
        Case::new(
            &[
                ("a.conf", db),
                ("b.conf", "[database]\nconnection: sqlite:////b.db\n"),
            ],
            &["a.conf", "b.conf"],
            &[],
        ),
        Case::new(
            &[
                ("a.conf", db),
                ("d/20-x.conf", "[database]\nconnection=x20\n"),
                ("d/10-x.conf", "[database]\nconnection=x10\n"),
                ("d/.hidden.conf", "[database]\nconnection=hidden\n"),
                ("d/zz.txt", "[database]\nconnection=txt\n"),
            ],
            &["a.conf"],
            &["d"],
        ),
        // --config-dir alone: default files are read only if they exist.
        Case::new(&[("d/db.conf", db)], &[], &["d"]),
        Case::new(&[("d/db.conf", db)], &["missing.conf"], &["d"]),
        Case::new(&[("a.conf", db)], &["a.conf"], &["missing-dir"]),
        // A --config-dir that is a file holds no *.conf: no error.
        Case::new(&[("a.conf", db)], &["a.conf"], &["a.conf"]),
        // A directory named *.conf inside a config dir cannot be read.
        Case::new(&[("d/sub.conf/x", db)], &[], &["d"]),
        // Default files under HOME: ~/.heat/heat.conf wins over ~/heat.conf (first found),
        // heat-engine.conf is read after heat.conf.
        Case::new(
            &[
                (
                    "home/.heat/heat.conf",
                    "[database]\nconnection = dot-heat\n",
                ),
                ("home/heat.conf", "[database]\nconnection = home\n"),
                (
                    "home/heat-engine.conf",
                    "[DEFAULT]\nenvironment_dir = /engine\n",
                ),
            ],
            &[],
            &[],
        ),
        // A default directory is read after the default files.
        Case::new(
            &[
                (
                    "home/heat-engine.conf",
                    "[DEFAULT]\nenvironment_dir = /engine\n",
                ),
                (
                    "home/heat.conf.d/1.conf",
                    "[DEFAULT]\nenvironment_dir = /confd\n",
                ),
            ],
            &[],
            &[],
        ),
        Case::new(
            &[
                ("home/heat.conf", "[database]\nconnection = home\n"),
                (
                    "home/heat-manage.conf.d/1.conf",
                    "[database]\nconnection = manage-d\n",
                ),
            ],
            &[],
            &[],
        ),
        Case::new(
            &[
                ("home/x.conf", db),
                ("home/heat.conf", "[database]\nconnection=h\n"),
            ],
            &["~/x.conf"],
            &[],
        ),
        Case::new(
            &[("bad.conf", "[database]\nconnection = caf\u{e9}\n")],
            &["bad.conf"],
            &[],
        ),
    ];
    // A byte-order mark is no whitespace to oslo.config: the first line is no section.
    cases.push(Case::new(
        &[("bom.conf", "\u{feff}[database]\nconnection = x\n")],
        &["bom.conf"],
        &[],
    ));
    cases.push(Case::new(
        &[("bom.conf", "\u{feff}# c\n[database]\nconnection = x\n")],
        &["bom.conf", "bom.conf"],
        &[],
    ));
    let mut latin1 = Case::new(&[], &["l1.conf"], &[]);
    latin1.files.push((
        "l1.conf".into(),
        b"[database]\nconnection = caf\xe9\n".to_vec(),
    ));
    cases.push(latin1);
    let mut env = Case::new(&[("a.conf", db)], &["a.conf"], &[]);
    env.env = vec![
        ("OS_DATABASE__CONNECTION".into(), "from-env$$".into()),
        ("OS_DEFAULT__ENVIRONMENT_DIR".into(), "/env/dir".into()),
    ];
    cases.push(env);
    let mut env = Case::new(&[("a.conf", db)], &["a.conf"], &[]);
    env.env = vec![("OS_DATABASE__CONNECTION".into(), "p$word".into())];
    cases.push(env);
    cases
}

const SECTIONS: &[&str] = &[
    "[DEFAULT]",
    "[database]",
    "[database]",
    "[Database]",
    "[DATABASE]",
    "[ database ]",
    "[default]",
    "[x]",
    "[d\u{e9}]",
];
const KEYS: &[&str] = &[
    "connection",
    "connection",
    "environment_dir",
    "environment_dir",
    "connection ",
    "Connection",
    "other",
];
const SEPARATORS: &[&str] = &["=", " = ", ":", " : ", "\t=\t", "= ", "=="];
const VALUES: &[&str] = &[
    "mysql+pymysql://heat:pw@db/heat?charset=utf8",
    "sqlite:////var/lib/heat.db",
    "a = b",
    "a: b",
    "  spaced  ",
    "with # hash",
    "with ; semi",
    "\u{e9}t\u{e9} \u{65e5}",
    "\"dq\"",
    "'sq'",
    "\"mixed'",
    "\"",
    "''",
    "",
    "a$$b",
    "a\\$b",
    "cost $1",
    "trail$",
    "p$word",
    "${x}",
    "${x",
    "\u{a0}nbsp\u{a0}",
    "\u{3000}ideo",
    "\x0cff",
    "x\x1c",
    "/etc/heat/environment.d",
];
const OTHER_LINES: &[&str] = &[
    "",
    "   ",
    "# connection = commented",
    "; environment_dir = commented",
    "#",
];
/// Lines that continue a value (an error anywhere else).
const CONTINUATIONS: &[&str] = &[
    "  continued",
    "\tcontinued # not a comment",
    "  # indented",
    " connection = inner",
];
/// Lines oslo.config refuses.
const BROKEN: &[&str] = &[
    " connection = indented after no key",
    "no separator",
    "= no key",
    " : no key",
    "[]",
    "[database",
    "  continued",
];
const ENDINGS: &[&str] = &["\n", "\n", "\n", "\r\n", "\r"];

fn generated_file(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.below(25) != 0 {
        s.push_str(rng.pick(&["[database]", "[DEFAULT]"]));
        s.push('\n');
    }
    let broken_at = if rng.below(12) == 0 {
        rng.below(8)
    } else {
        usize::MAX
    };
    for i in 0..rng.below(9) {
        let line = match rng.below(10) {
            _ if i == broken_at => rng.pick(BROKEN).to_string(),
            0 | 1 => rng.pick(SECTIONS).to_string(),
            2 | 3 => rng.pick(OTHER_LINES).to_string(),
            _ => {
                let mut l = format!(
                    "{}{}{}",
                    rng.pick(KEYS),
                    rng.pick(SEPARATORS),
                    rng.pick(VALUES)
                );
                while rng.below(4) == 0 {
                    l.push('\n');
                    l.push_str(rng.pick(CONTINUATIONS));
                }
                l
            }
        };
        s.push_str(&line);
        s.push_str(rng.pick(ENDINGS));
    }
    s
}

fn generated(rng: &mut Rng) -> Case {
    let mut case = Case::new(&[], &[], &[]);
    let n_files = rng.below(4);
    for i in 0..n_files {
        let name = format!("f{i}.conf");
        case.files
            .push((name.clone(), generated_file(rng).into_bytes()));
        case.cli_files.push(name);
    }
    if rng.below(3) == 0 || n_files == 0 {
        for i in 0..rng.below(4) {
            let name = format!("d/{}-{i}.conf", rng.pick(&["10", "20", "Z", "a"]));
            case.files.push((name, generated_file(rng).into_bytes()));
        }
        case.cli_dirs.push("d".into());
        if case.files.iter().all(|(n, _)| !n.starts_with("d/")) {
            case.files.push(("d/README".into(), b"not read".to_vec()));
        }
    }
    if rng.below(8) == 0 {
        case.files
            .push(("home/heat.conf".into(), generated_file(rng).into_bytes()));
    }
    if rng.below(10) == 0 {
        case.env
            .push(("OS_DATABASE__CONNECTION".into(), rng.pick(VALUES).into()));
    }
    case
}

/// Writes a case under `dir`; returns the command line as absolute paths and the env.
fn lay_out(case: &Case, dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>, Vec<(String, String)>) {
    std::fs::create_dir_all(dir.join("home")).unwrap();
    for (name, bytes) in &case.files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let abs = |p: &String| {
        if p.starts_with('~') {
            PathBuf::from(p)
        } else {
            dir.join(p)
        }
    };
    let mut env = vec![("HOME".to_string(), dir.join("home").display().to_string())];
    env.extend(case.env.iter().cloned());
    (
        case.cli_files.iter().map(abs).collect(),
        case.cli_dirs.iter().map(abs).collect(),
        env,
    )
}

fn oslo(cases: &[Value]) -> Vec<Value> {
    let v: Vec<Value> =
        serde_json::from_value(python_oracle(ORACLE, &[], &Value::from(cases.to_vec()))).unwrap();
    assert_eq!(v.len(), cases.len());
    v
}

/// Our reading, in the same shape (errors as `true`: only "both refuse" is compared).
fn ours(files: &[PathBuf], dirs: &[PathBuf], env: &[(String, String)]) -> Value {
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            std::env::remove_var(k);
        }
    }
    for (k, v) in env {
        std::env::set_var(k, v);
    }
    let conf = match HeatConf::load(files, dirs) {
        Ok(c) => c,
        Err(_) => return json!({"error": true}),
    };
    let mut got = serde_json::Map::new();
    for (group, key) in [("database", "connection"), ("DEFAULT", "environment_dir")] {
        got.insert(
            key.into(),
            match conf.value(group, key) {
                Ok(v) => json!({"value": v}),
                Err(_) => json!({"error": true}),
            },
        );
    }
    Value::Object(got)
}

fn same(theirs: &Value, ours: &Value) -> bool {
    match (theirs, ours) {
        (Value::Object(t), Value::Object(o)) => {
            if t.contains_key("error") || o.contains_key("error") {
                return t.contains_key("error") == o.contains_key("error")
                    && t.len() == 1
                    && o.len() == 1;
            }
            t.len() == o.len() && t.iter().all(|(k, v)| o.get(k).is_some_and(|w| same(v, w)))
        }
        _ => theirs == ours,
    }
}

/// The one test that changes this process's environment (HOME, OS_*): the other test of
/// this file runs the binary with an environment of its own.
#[test]
fn config_files_read_as_oslo_config_reads_them() {
    let scratch = Scratch::new("diff");
    let mut cases = handwritten();
    let mut rng = Rng(11);
    while cases.len() < 400 {
        cases.push(generated(&mut rng));
    }
    let mut laid = Vec::new();
    let mut inputs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let dir = scratch.0.join(format!("case{i}"));
        let (files, dirs, env) = lay_out(case, &dir);
        let mut args = Vec::new();
        for f in &files {
            args.push("--config-file".to_string());
            args.push(f.display().to_string());
        }
        for d in &dirs {
            args.push("--config-dir".to_string());
            args.push(d.display().to_string());
        }
        let env_map: serde_json::Map<String, Value> =
            env.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        inputs.push(json!({"args": args, "env": env_map}));
        laid.push((files, dirs, env));
    }
    let theirs = oslo(&inputs);
    let home = std::env::var_os("HOME");
    let mut differ = Vec::new();
    let (mut values, mut refused) = (0, 0);
    for (i, ((files, dirs, env), theirs)) in laid.iter().zip(&theirs).enumerate() {
        let ours = ours(files, dirs, env);
        if !same(theirs, &ours) {
            let texts: Vec<String> = cases[i]
                .files
                .iter()
                .map(|(n, b)| format!("  {n}: {:?}", String::from_utf8_lossy(b)))
                .collect();
            differ.push(format!(
                "case{i} {:?} {:?} {:?}\n{}\n  oslo.config: {theirs}\n  ours:        {ours}",
                cases[i].cli_files,
                cases[i].cli_dirs,
                cases[i].env,
                texts.join("\n")
            ));
        }
        if theirs.get("error").is_some() {
            refused += 1;
        } else {
            values += theirs
                .as_object()
                .unwrap()
                .values()
                .filter(|v| v.get("value").is_some_and(|v| !v.is_null()))
                .count();
        }
    }
    if let Some(h) = home {
        std::env::set_var("HOME", h);
    }
    println!(
        "{} cases: {} differ; oslo.config refused {refused}, gave {values} values",
        cases.len(),
        differ.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(values > 200 && refused > 20, "{values} {refused}");
}

/// `heat-converge status --config-dir DIR` alone (no default config file exists under its
/// HOME or /etc on the machines this runs on) finds the SQLite database; `environment_dir`
/// comes from `[DEFAULT]` unless `--environment-dir` is given.
#[test]
fn status_with_a_config_dir_alone() {
    let scratch = Scratch::new("binary");
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let db = scratch.0.join("heat.sqlite");
    std::fs::copy(top.join("examples/demo.sqlite"), &db).unwrap();
    let confd = scratch.0.join("heat.conf.d");
    let home = scratch.0.join("home");
    let envs = scratch.0.join("environment.d");
    let empty = scratch.0.join("empty.d");
    for d in [&confd, &home, &envs, &empty] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(
        confd.join("db.conf"),
        format!(
            "[database]\nconnection = sqlite:///{}\n[DEFAULT]\nenvironment_dir = {}\n",
            db.display(),
            envs.display()
        ),
    )
    .unwrap();
    let run = |extra: &[&Path]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_heat-converge"));
        cmd.env_clear()
            .env("HOME", &home)
            .arg("status")
            .arg("--config-dir")
            .arg(&confd);
        if let Some(dir) = extra.first() {
            cmd.arg("--environment-dir").arg(dir);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("legacy root stacks                13"),
        "{stdout}"
    );
    // A broken environment file in the configured environment_dir: it is read.
    std::fs::write(envs.join("broken.yaml"), "resource_registry: [unclosed\n").unwrap();
    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("broken.yaml"), "{stderr}");
    // The flag wins over the config files.
    let (code, stdout, stderr) = run(&[&empty]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
}
