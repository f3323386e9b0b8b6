//! Hostile names: on copies of the shipped demo (made by the real Heat) on every backend,
//! stack names, resource names and types, physical ids, stack and engine ids, an engine's
//! host and a stored `requires` are rewritten with newlines that forge a summary line,
//! terminal escape sequences, carriage returns, tabs, NUL (where the backend stores it),
//! C1 controls, bidi overrides and isolates, and backslashes. Every text output (`status`,
//! `plan`, `migrate --dry-run --list`, `migrate --list -v --log-file`, `migrate`, `verify`,
//! an error) and the log must hold no control character but the line ends it prints
//! itself, no forged line, and the values escaped as `src/report/escape.rs` says; a copy
//! with the same values made plain prints exactly as many lines; `--format json` and the
//! plan file give back the exact strings. Each test makes its own databases and drops them.

mod common;

use common::{json, tree, Backend, Bed, HeatDb};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The summary line a hostile name tries to forge.
const FORGED: &str = "  converted                        999";

/// Every hostile value the test writes, and what the text output must show for it.
struct Values {
    /// Root `depends` (converted, with a dependency cycle: its warning names it).
    depends: String,
    /// Root `dropped` (converted, one resource row deleted).
    dropped: String,
    /// The resource row of `dropped` its template no longer defines: name, type (as the
    /// previous template declares it), physical id.
    port: String,
    port_type: String,
    port_physical: String,
    /// The nested stack of `group`, made CREATE_FAILED: the reason names it.
    nested: String,
    /// The engine that holds `busy`'s lock: its id and host (the reason names both).
    engine: String,
    host: String,
    /// A second in-progress root without a lock: its id is in Heat's remedy.
    copy_id: String,
    copy_name: String,
    /// A nested stack of `deep` made a stray: its name, and the owner id it points at.
    stray: String,
    stray_owner: String,
    /// After the conversion: a row `verify` finds outside `depends`'s template, and a
    /// `requires` of `dropped` that is no list of ids.
    extra: String,
    requires: String,
}

impl Values {
    fn hostile(backend: Backend) -> Values {
        let v = Values {
            depends: format!("forged\n{FORGED}"),
            dropped: "dropped\x1b[2J\x1b]0;owned\x07\r\u{202e}evil\u{202c} C:\\new".into(),
            port: format!("port\x1b[31m\n{FORGED}"),
            port_type: "My::Port\x1b[8m\t".into(),
            port_physical: "phys\t\u{85}\u{9b}2J\u{2066}x\u{2069}\\\0end".into(),
            nested: format!("nested\u{2028}\r\n{FORGED}"),
            engine: "eng\x1b[?1049h\n  converted 999".into(),
            host: format!("host\x1b]8;;http://x\x07\n{FORGED}"),
            copy_id: "id\x1b[2K\r\n  converted 999".into(),
            copy_name: "copy\u{202e}\u{2067}\x7f".into(),
            stray: format!("stray\x1b[5m\n{FORGED}"),
            stray_owner: "gone\n  converted 999\x07".into(),
            extra: format!("extra\x1bc\n{FORGED}"),
            requires: format!("[1]\x1b[2J\n{FORGED}"),
        };
        // PostgreSQL's text cannot hold NUL (0x00); MariaDB and SQLite store it.
        if backend == Backend::Postgres {
            v.map(|s| s.replace('\0', ""))
        } else {
            v
        }
    }

    /// The same values with nothing to escape: the same rows, printed plainly.
    fn plain(backend: Backend) -> Values {
        Values::hostile(backend).map(|s| {
            s.chars()
                .filter(|&c| !must_not_print(c) && c != '\\')
                .collect()
        })
    }

    fn map(self, f: impl Fn(&str) -> String) -> Values {
        Values {
            depends: f(&self.depends),
            dropped: f(&self.dropped),
            port: f(&self.port),
            port_type: f(&self.port_type),
            port_physical: f(&self.port_physical),
            nested: f(&self.nested),
            engine: f(&self.engine),
            host: f(&self.host),
            copy_id: f(&self.copy_id),
            copy_name: f(&self.copy_name),
            stray: f(&self.stray),
            stray_owner: f(&self.stray_owner),
            extra: f(&self.extra),
            requires: f(&self.requires),
        }
    }
}

/// What the text output shows for the hostile values, written out by hand (not computed
/// by the code under test).
fn shown(backend: Backend) -> Vec<(&'static str, String)> {
    let nul = if backend == Backend::Postgres {
        ""
    } else {
        "\\x00"
    };
    let forged = "\\n  converted                        999";
    vec![
        ("depends", format!("forged{forged}")),
        (
            "dropped",
            "dropped\\x1b[2J\\x1b]0;owned\\x07\\r\\u{202e}evil\\u{202c} C:\\\\new".into(),
        ),
        ("port", format!("port\\x1b[31m{forged}")),
        ("port type", "My::Port\\x1b[8m\\t".into()),
        (
            "physical id",
            format!("phys\\t\\u{{85}}\\u{{9b}}2J\\u{{2066}}x\\u{{2069}}\\\\{nul}end"),
        ),
        ("nested", format!("nested\\u{{2028}}\\r{forged}")),
        ("engine", "eng\\x1b[?1049h\\n  converted 999".into()),
        ("host", format!("host\\x1b]8;;http://x\\x07{forged}")),
        ("copy id", "id\\x1b[2K\\r\\n  converted 999".into()),
        ("copy name", "copy\\u{202e}\\u{2067}\\x7f".into()),
        ("stray", format!("stray\\x1b[5m{forged}")),
        ("stray owner", "gone\\n  converted 999\\x07".into()),
    ]
}

/// What no output may hold: control characters (C0 but the line ends, DEL, C1), the line
/// and paragraph separators, and bidi controls.
fn must_not_print(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Runs statements with text parameters (`?`), through the database crates themselves,
/// so that every byte of a value reaches the row as it is.
fn put(db: &HeatDb, sql: &str, params: &[&str]) {
    match db.backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(db.sqlite_path()).unwrap();
            c.execute(sql, rusqlite::params_from_iter(params.iter()))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        Backend::MariaDb => {
            use mysql::prelude::Queryable;
            let mut c = mysql::Conn::new(mysql::Opts::from_url(&db.plain_url()).unwrap()).unwrap();
            let values: Vec<mysql::Value> = params.iter().map(|p| mysql::Value::from(*p)).collect();
            c.exec_drop(sql, mysql::Params::Positional(values))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        Backend::Postgres => {
            let mut numbered = String::new();
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(ch);
                }
            }
            let mut c = postgres::Client::connect(&db.plain_url(), postgres::NoTls).unwrap();
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            c.execute(numbered.as_str(), &params)
                .unwrap_or_else(|e| panic!("{numbered}: {e}"));
        }
    }
}

/// The ids the test needs, read before the names change.
struct Ids {
    depends: String,
    dropped: String,
    group_nested: String,
    busy: String,
    stray: String,
}

/// Writes `v` into a copy of the demo.
fn make_hostile(db: &HeatDb, v: &Values) -> Ids {
    let one = |sql: &str| db.value(sql).unwrap();
    let ids = Ids {
        depends: db.root_id("depends"),
        dropped: db.root_id("dropped"),
        group_nested: one(&format!(
            "SELECT id FROM stack WHERE owner_id = '{}'",
            db.root_id("group")
        )),
        busy: db.root_id("busy"),
        stray: one("SELECT id FROM stack WHERE name LIKE 'deep-boxes-%-1-%'"),
    };
    // `depends`: a cycle (as tests/exit_codes.rs makes it), so that a warning names it.
    db.exec(&format!(
        "UPDATE raw_template SET template = REPLACE(template,
            '\"base\": {{\"type\": \"OS::Heat::TestResource\"}}',
            '\"base\": {{\"type\": \"OS::Heat::TestResource\", \"depends_on\": \"top\"}}')
         WHERE id = (SELECT raw_template_id FROM stack WHERE id = '{}')",
        ids.depends
    ));
    put(
        db,
        "UPDATE stack SET name = ? WHERE id = ?",
        &[&v.depends, &ids.depends],
    );
    // `dropped`: a resource row its template no longer defines (the previous template
    // declares it, with its type), as tests/plan_apply_verify.rs plants it; the conversion deletes it.
    let declared = format!(
        "\"resources\": {{{}: {{\"type\": {}}}, ",
        serde_json::to_string(&v.port).unwrap(),
        serde_json::to_string(&v.port_type).unwrap()
    );
    put(
        db,
        "UPDATE raw_template SET template = REPLACE(template, '\"resources\": {', ?)
         WHERE id = (SELECT prev_raw_template_id FROM stack WHERE id = ?)",
        &[&declared, &ids.dropped],
    );
    put(
        db,
        "INSERT INTO resource (id, uuid, name, stack_id, root_stack_id, action, status, nova_instance)
         VALUES (9001, 'aaaaaaaa-0000-4000-8000-000000009001', ?, ?, ?, 'CREATE', 'COMPLETE', ?)",
        &[&v.port, &ids.dropped, &ids.dropped, &v.port_physical],
    );
    put(
        db,
        "UPDATE stack SET name = ? WHERE id = ?",
        &[&v.dropped, &ids.dropped],
    );
    // `group`: its nested stack failed; the reason names it.
    put(
        db,
        "UPDATE stack SET name = ?, status = 'FAILED' WHERE id = ?",
        &[&v.nested, &ids.group_nested],
    );
    // `busy`: its engine's id and host.
    let old_engine = one("SELECT engine_id FROM stack_lock");
    put(
        db,
        "UPDATE service SET engine_id = ?, host = ? WHERE engine_id = ?",
        &[&v.engine, &v.host, &old_engine],
    );
    put(
        db,
        "UPDATE stack_lock SET engine_id = ? WHERE engine_id = ?",
        &[&v.engine, &old_engine],
    );
    // A copy of `busy`'s root with no lock: in progress, engine gone, its id in the remedy.
    db.exec(&format!(
        "INSERT INTO stack (id, created_at, name, raw_template_id, user_creds_id, username,
                            action, status, status_reason, tenant, disable_rollback,
                            stack_user_project_id, backup, nested_depth, convergence)
         SELECT 'hostile-copy', created_at, name, raw_template_id, user_creds_id, username,
                action, status, status_reason, tenant, disable_rollback,
                stack_user_project_id, backup, nested_depth, convergence
         FROM stack WHERE id = '{}'",
        ids.busy
    ));
    put(
        db,
        "UPDATE stack SET id = ?, name = ? WHERE id = 'hostile-copy'",
        &[&v.copy_id, &v.copy_name],
    );
    // A nested stack of `deep` whose owner is gone: a stray.
    put(
        db,
        "UPDATE stack SET name = ?, owner_id = ? WHERE id = ?",
        &[&v.stray, &v.stray_owner, &ids.stray],
    );
    ids
}

/// After the conversion: what `verify` must find and name.
fn tamper(db: &HeatDb, v: &Values, ids: &Ids) {
    put(
        db,
        "INSERT INTO resource (id, uuid, name, stack_id, root_stack_id, action, status, nova_instance)
         VALUES (9002, 'aaaaaaaa-0000-4000-8000-000000009002', ?, ?, ?, 'CREATE', 'COMPLETE', 'x')",
        &[&v.extra, &ids.depends, &ids.depends],
    );
    put(
        db,
        "UPDATE resource SET requires = ? WHERE stack_id = ? AND name = 'stays'",
        &[&v.requires, &ids.dropped],
    );
}

/// One run of the binary: exit code and the raw bytes of stdout and stderr.
fn run(db: &HeatDb, args: &[&str]) -> (i32, Vec<u8>, Vec<u8>) {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(args)
        .arg("--db-url")
        .arg(&db.url)
        .output()
        .expect("run heat-converge");
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

/// The outputs of one database, by name: the same commands on the hostile and the plain
/// copy.
#[derive(Default)]
struct Outputs {
    texts: Vec<(String, Vec<u8>)>,
    json: Vec<(String, Value)>,
}

impl Outputs {
    /// A text command: its stdout and stderr, kept; it must exit with `want`.
    fn text(&mut self, db: &HeatDb, name: &str, args: &[&str], want: i32) {
        let (code, out, err) = run(db, args);
        assert_eq!(
            code,
            want,
            "{name}: {}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
        self.texts.push((format!("{name} (stdout)"), out));
        self.texts.push((format!("{name} (stderr)"), err));
    }

    /// A `--format json` command: its document, kept.
    fn json(&mut self, db: &HeatDb, name: &str, args: &[&str], want: i32) {
        let (code, out, err) = run(db, args);
        assert_eq!(code, want, "{name}: {}", String::from_utf8_lossy(&err));
        let text = String::from_utf8(out).expect("JSON is UTF-8");
        self.json.push((name.to_string(), json(&text)));
    }
}

fn outputs(db: &HeatDb, v: &Values, ids: &Ids, work: &Path, tag: &str) -> Outputs {
    let mut o = Outputs::default();
    o.text(db, "status", &["status"], 3);
    o.json(
        db,
        "status --format json",
        &["status", "--format", "json"],
        3,
    );
    let plan = work.join(format!("{tag}-plan.json"));
    let plan = plan.to_str().unwrap();
    o.text(db, "plan", &["plan", "--out", plan], 3);
    o.json.push((
        "the plan file".into(),
        json(&std::fs::read_to_string(plan).unwrap()),
    ));
    o.text(
        db,
        "migrate --dry-run --list",
        &["migrate", "--dry-run", "--list"],
        3,
    );
    o.json(
        db,
        "migrate --dry-run --format json",
        &["migrate", "--dry-run", "--format", "json"],
        3,
    );
    // A usage error that names a stack: `--stack` given the failed nested stack.
    let nested = ids.group_nested.as_str();
    o.text(
        db,
        "migrate --stack NESTED",
        &["migrate", "--stack", nested],
        2,
    );
    o.json(
        db,
        "migrate --stack NESTED --format json",
        &["migrate", "--stack", nested, "--format", "json"],
        2,
    );
    let log = work.join(format!("{tag}-log.txt"));
    o.text(
        db,
        "migrate --list -v --log-file",
        &[
            "migrate",
            "--list",
            "-v",
            "--log-file",
            log.to_str().unwrap(),
        ],
        3,
    );
    o.texts
        .push(("the log file".into(), std::fs::read(&log).unwrap()));
    o.text(db, "migrate (again)", &["migrate"], 3);
    o.json(
        db,
        "migrate --format json",
        &["migrate", "--format", "json"],
        3,
    );
    tamper(db, v, ids);
    o.text(db, "verify", &["verify"], 4);
    o.json(
        db,
        "verify --format json",
        &["verify", "--format", "json"],
        4,
    );
    o
}

fn hostile_names(backend: Backend) {
    let bed = Bed::new(&format!("escaping-{backend:?}").to_lowercase());
    let work = bed.dir("escaping");
    let (hostile, plain) = (Values::hostile(backend), Values::plain(backend));
    let db = bed.demo(backend);
    let ids = make_hostile(&db, &hostile);
    let control = bed.demo(backend);
    let control_ids = make_hostile(&control, &plain);
    let seen = outputs(&db, &hostile, &ids, &work, "hostile");
    let plainly = outputs(&control, &plain, &control_ids, &work, "plain");

    // 1. Nothing a terminal acts on: every byte below 0x20 is a line end we print, and no
    //    DEL, C1, separator or bidi control is left.
    let mut all = String::new();
    for (name, bytes) in &seen.texts {
        let text =
            String::from_utf8(bytes.clone()).unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"));
        for (i, line) in text.lines().enumerate() {
            assert!(
                !line.chars().any(must_not_print),
                "{name}, line {}: {line:?}",
                i + 1
            );
        }
        assert!(
            bytes.iter().all(|&b| b >= 0x20 || b == b'\n'),
            "{name}: {text:?}"
        );
        all.push_str(&text);
    }
    // 2. No line forged: no line is a count of 999, and each output has as many lines as
    //    the plain copy's.
    for line in all.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_ne!(words, ["converted", "999"], "a forged line: {line:?}");
    }
    // The real count is there, once: 10 of the 14 roots (group's nested stack failed, and
    // the copy of busy is in progress too).
    let (_, summary) = seen
        .texts
        .iter()
        .find(|(n, _)| n == "migrate --list -v --log-file (stdout)")
        .unwrap();
    let summary = String::from_utf8_lossy(summary);
    let counts: Vec<&str> = summary
        .lines()
        .filter(|l| l.split_whitespace().next() == Some("converted") && l.starts_with("  "))
        .collect();
    assert_eq!(
        counts,
        ["  converted                         10"],
        "{summary}"
    );
    for ((name, bytes), (_, plain_bytes)) in seen.texts.iter().zip(&plainly.texts) {
        let lines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
        assert_eq!(
            lines(bytes),
            lines(plain_bytes),
            "{name}: a hostile value changed the number of lines:\n{}\n---- plain:\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(plain_bytes)
        );
    }
    // 3. The values shown escaped, where each is printed.
    let output = |name: &str| -> String {
        let (_, bytes) = seen
            .texts
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no output {name}"));
        String::from_utf8(bytes.clone()).unwrap()
    };
    let shown = shown(backend);
    let show = |what: &str| -> &str {
        &shown
            .iter()
            .find(|(w, _)| *w == what)
            .unwrap_or_else(|| panic!("{what}"))
            .1
    };
    let must_show = |name: &str, what: &[&str]| {
        let out = output(name);
        for w in what {
            assert!(
                out.contains(show(w)),
                "{name} does not show {w} as {:?}:\n{out}",
                show(w)
            );
        }
    };
    let everything = [
        "depends",
        "dropped",
        "port",
        "port type",
        "physical id",
        "nested",
        "engine",
        "host",
        "copy id",
        "copy name",
        "stray",
        "stray owner",
    ];
    let left_alone = [
        "nested",
        "engine",
        "host",
        "copy id",
        "copy name",
        "stray",
        "stray owner",
    ];
    must_show("status (stdout)", &left_alone);
    must_show("status (stdout)", &["depends"]); // its cycle warning
    must_show("plan (stdout)", &everything);
    must_show("migrate --dry-run --list (stdout)", &everything);
    must_show("migrate --list -v --log-file (stdout)", &everything);
    must_show("migrate (again) (stdout)", &left_alone);
    must_show("migrate --stack NESTED (stderr)", &["nested"]);
    // The log: every tree with its name, id and reason, and the warning.
    for name in ["migrate --list -v --log-file (stderr)", "the log file"] {
        must_show(
            name,
            &[
                "depends",
                "dropped",
                "nested",
                "engine",
                "host",
                "copy id",
                "copy name",
            ],
        );
    }
    // The deletion line, whole.
    let deletion = format!(
        "delete resource {} (row 9001, type {}, physical id {}, CREATE_COMPLETE) of stack {}: not in",
        show("port"),
        show("port type"),
        show("physical id"),
        show("dropped")
    );
    must_show_line(&output("migrate --dry-run --list (stdout)"), &deletion);
    must_show_line(
        &output("migrate --list -v --log-file (stdout)"),
        &deletion.replace("delete resource", "deleted resource"),
    );
    let verify = output("verify (stdout)");
    for want in [
        "resource extra\\x1bc\\n  converted                        999 (row 9002) is not in the stack's template but still has a row".to_string(),
        "resource stays: requires is not a JSON list of ids: [1]\\x1b[2J\\n  converted                        999".to_string(),
        format!("does_not_hold {} (", show("depends")),
        format!("does_not_hold {} (", show("dropped")),
    ] {
        assert!(verify.contains(&want), "verify does not show {want:?}:\n{verify}");
    }

    // 4. JSON and the plan file hold the exact values.
    let doc = |name: &str| -> &Value {
        &seen
            .json
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no document {name}"))
            .1
    };
    let h = &hostile;
    for name in [
        "status --format json",
        "migrate --dry-run --format json",
        "migrate --format json",
    ] {
        let d = doc(name);
        let by_id = |id: &str| -> &Value {
            d["trees"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["root_id"] == id)
                .unwrap_or_else(|| panic!("{name}: no tree {id:?}: {d}"))
        };
        let group = tree(d, "group");
        assert!(
            group["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("nested stack {} (", h.nested)),
            "{name}: {group}"
        );
        let busy = tree(d, "busy");
        let reason = busy["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("({} on {})", h.engine, h.host)),
            "{name}: {busy}"
        );
        let copy = by_id(&h.copy_id);
        assert_eq!(copy["name"], h.copy_name.as_str(), "{name}");
        assert!(
            copy["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("reset_stack_status {}`", h.copy_id)),
            "{name}: {copy}"
        );
        let stray = d["stray_stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == ids.stray.as_str())
            .unwrap_or_else(|| panic!("{name}: no stray: {d}"));
        assert_eq!(stray["name"], h.stray.as_str(), "{name}");
        assert_eq!(stray["owner_id"], h.stray_owner.as_str(), "{name}");
        assert!(
            stray["reason"].as_str().unwrap().contains(&h.stray_owner),
            "{name}: {stray}"
        );
    }
    let dry = doc("migrate --dry-run --format json");
    let depends = tree(dry, &h.depends);
    assert_eq!(depends["outcome"], "would_convert", "{depends}");
    assert!(
        depends["warnings"][0]
            .as_str()
            .unwrap()
            .contains(&format!("stack {} (", h.depends)),
        "{depends}"
    );
    let dropped = tree(dry, &h.dropped);
    let deleted = &dropped["deleted_resources"][0];
    assert_eq!(deleted["name"], h.port.as_str(), "{dropped}");
    assert_eq!(deleted["type"], h.port_type.as_str(), "{dropped}");
    assert_eq!(
        deleted["physical_id"],
        h.port_physical.as_str(),
        "{dropped}"
    );
    let plan = doc("the plan file");
    let planned = plan["trees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["root_id"] == ids.dropped.as_str())
        .unwrap();
    assert_eq!(planned["name"], h.dropped.as_str());
    let gone = &planned["stacks"][0]["delete_resources"][0];
    assert_eq!(gone["name"], h.port.as_str(), "{planned}");
    assert_eq!(gone["physical_id"], h.port_physical.as_str(), "{planned}");
    let error = doc("migrate --stack NESTED --format json");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{} is a nested stack", h.nested)),
        "{error}"
    );
    let verified = doc("verify --format json");
    let details = |id: &str| -> Vec<String> {
        let s = verified["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stack_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {verified}"));
        s["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        details(&ids.depends).contains(&format!(
            "resource {} (row 9002) is not in the stack's template but still has a row",
            h.extra
        )),
        "{verified}"
    );
    assert!(
        details(&ids.dropped).contains(&format!(
            "resource stays: requires is not a JSON list of ids: {}",
            h.requires
        )),
        "{verified}"
    );

    // What an operator sees, for the record (`--nocapture`).
    let shown_lines: Vec<&str> = all
        .lines()
        .filter(|l| l.contains('\\'))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .take(60)
        .collect();
    eprintln!(
        "{backend:?}: {} outputs, {} bytes, no control character, no forged line; lines with escapes:\n{}",
        seen.texts.len(),
        all.len(),
        shown_lines.join("\n")
    );
}

/// `text` has a line that contains `want`.
fn must_show_line(text: &str, want: &str) {
    assert!(
        text.lines().any(|l| l.contains(want)),
        "no line shows {want:?}:\n{text}"
    );
}

#[test]
fn sqlite() {
    hostile_names(Backend::Sqlite);
}

#[test]
fn mariadb() {
    hostile_names(Backend::MariaDb);
}

#[test]
fn postgres() {
    hostile_names(Backend::Postgres);
}
