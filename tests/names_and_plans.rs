//! What a newcomer meets first, on copies of the shipped demo (made by the real Heat) on
//! each backend: stacks named by name where ids were asked (`--stack`, `graph`), a nested
//! stack's error naming its root, plans bound to the database rather than to the URL's
//! text, the next command `plan` prints run as printed, and the `Next:` line after each
//! filter, its counts derived here from the database's rows. Each test makes its own
//! databases and drops them.

mod common;

use common::{json, Backend, Bed, HeatDb};
use std::path::Path;
use std::process::Command;

/// Runs heat-converge in `dir` with exactly `args` (no database added) and `env`.
fn hc(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(args)
        .current_dir(dir)
        .env_remove("HEAT_CONVERGE_DB_URL")
        .envs(env.iter().copied())
        .output()
        .expect("run heat-converge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A count the database returns (as text on every backend).
fn count(db: &HeatDb, sql: &str) -> usize {
    db.value(sql).unwrap().trim().parse().unwrap()
}

/// An SQL expression for `text` with a newline and an ESC in it, on this backend.
fn with_control_characters(backend: Backend) -> &'static str {
    match backend {
        Backend::MariaDb => "CONCAT('x', CHAR(10), 'y', CHAR(27), '[2J')",
        Backend::Postgres => "'x' || chr(10) || 'y' || chr(27) || '[2J'",
        Backend::Sqlite => "'x' || char(10) || 'y' || char(27) || '[2J'",
    }
}

fn names(backend: Backend) {
    let bed = Bed::new(&format!("names-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let deep = db.root_id("deep");
    let nested = db
        .value(&format!("SELECT id FROM stack WHERE owner_id = '{deep}'"))
        .unwrap();
    let nested_name = db
        .value(&format!("SELECT name FROM stack WHERE id = '{nested}'"))
        .unwrap();
    // A root's name selects its tree, as its id does.
    let (code, out, err) = db.heat_converge(&[
        "migrate",
        "--dry-run",
        "--format",
        "json",
        "--stack",
        "deep",
    ]);
    assert_eq!(code, 3, "{out}{err}");
    let report = json(&out);
    assert_eq!(report["legacy_trees"], 1, "{report}");
    assert_eq!(report["trees"][0]["root_id"], deep.as_str(), "{report}");
    // graph: a root's name, and a nested stack's name, as their ids.
    for (name, id) in [("deep", &deep), (nested_name.as_str(), &nested)] {
        let (code, by_name, err) = db.heat_converge(&["graph", name]);
        assert_eq!(code, 0, "graph {name}: {err}");
        let (_, by_id, _) = db.heat_converge(&["graph", id]);
        assert_eq!(json(&by_name), json(&by_id), "graph {name}");
    }
    // A nested stack, by id or by name: a usage error naming the root of its tree.
    for given in [nested.as_str(), nested_name.as_str()] {
        for command in [vec!["migrate"], vec!["verify"]] {
            let mut args = command.clone();
            args.extend(["--stack", given]);
            let (code, out, err) = db.heat_converge(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
            assert!(
                err.contains(&format!(
                    "is a nested stack in the tree of root deep ({deep}); heat-converge converts whole trees: give --stack ID-or-NAME of the root"
                )),
                "{args:?}: {err}"
            );
        }
    }
    // plan and verify take names too.
    let plan = bed.dir("plan").join("PLAN.json");
    let (code, out, err) =
        db.heat_converge(&["plan", "--stack", "cfn", "--out", plan.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}{err}");
    let file = json(&std::fs::read_to_string(&plan).unwrap());
    assert_eq!(file["trees"].as_array().unwrap().len(), 1, "{file}");
    assert_eq!(file["trees"][0]["root_id"], db.root_id("cfn").as_str());
    let (code, out, err) = db.heat_converge(&["migrate", "--stack", "depends"]);
    assert_eq!(code, 3, "{out}{err}");
    let depends = db.root_id("depends");
    let stacks = count(
        &db,
        &format!(
            "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack WHERE id = '{depends}' OR owner_id = '{depends}'"
        ),
    );
    let (code, out, err) = db.heat_converge(&["verify", "--format", "json", "--stack", "depends"]);
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(json(&out)["checked"], stacks, "{out}");
    // Unknown: a usage error.
    let (code, _, err) = db.heat_converge(&["migrate", "--stack", "no-such-stack"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no stack with this id, nor a live stack with this name"),
        "{err}"
    );
    // Two live roots of one name: a usage error listing both ids, for --stack and graph.
    let cfn = db.root_id("cfn");
    db.exec(&format!(
        "UPDATE stack SET name = 'deep' WHERE id = '{cfn}'"
    ));
    for args in [vec!["migrate", "--stack", "deep"], vec!["graph", "deep"]] {
        let (code, out, err) = db.heat_converge(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("2 live root stacks have this name"),
            "{args:?}: {err}"
        );
        assert!(err.contains(&deep) && err.contains(&cfn), "{args:?}: {err}");
    }
    assert_eq!(
        count(
            &db,
            "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack WHERE convergence = true"
        ),
        stacks,
        "only depends was converted"
    );
    // A name with control characters is printed escaped, in the error as anywhere.
    db.exec(&format!(
        "UPDATE stack SET name = {} WHERE id IN ('{deep}', '{cfn}')",
        with_control_characters(backend)
    ));
    let (code, _, err) = db.heat_converge(&["migrate", "--stack", "x\ny\x1b[2J"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--stack x\\ny\\x1b[2J: 2 live root stacks"),
        "{err}"
    );
    assert!(
        !err.contains('\x1b') && err.trim_end().lines().count() == 1,
        "{err}"
    );
}

/// The line of `plan`'s output that is the command to run next.
fn next_command(out: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.ends_with("then run:"));
    lines
        .next()
        .unwrap_or_else(|| panic!("no next command: {out}"));
    lines.next().unwrap().trim().to_string()
}

/// The URL of `db` spelt another way that reaches the same database: `localhost` for
/// `127.0.0.1`, a symbolic link to the SQLite file.
fn other_spelling(bed: &Bed, db: &HeatDb) -> String {
    match db.backend {
        Backend::Sqlite => {
            let link = bed.dir("link").join("heat-link.sqlite");
            std::os::unix::fs::symlink(db.sqlite_path(), &link).unwrap();
            format!("sqlite:///{}", link.display())
        }
        _ => db.url.replace("127.0.0.1", "localhost"),
    }
}

fn plans(backend: Backend) {
    let bed = Bed::new(&format!("plans-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let dir = bed.dir("plans");
    let legacy_roots = "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack \
                        WHERE owner_id IS NULL AND deleted_at IS NULL AND NOT convergence";
    let roots_before = count(&db, legacy_roots);

    // Made through --db-url as the bed spells it: the identity is the server's.
    let (code, out, err) = hc(&dir, &["plan", "--out", "A.json", "--db-url", &db.url], &[]);
    assert_eq!(code, 3, "{out}{err}");
    let a = json(&std::fs::read_to_string(dir.join("A.json")).unwrap());
    let identity = &a["database"]["identity"];
    match backend {
        Backend::MariaDb => {
            let host = db.value("SELECT @@hostname").unwrap();
            let port = db.value("SELECT CAST(@@port AS CHAR(10))").unwrap();
            assert_eq!(
                identity["server"],
                format!("MariaDB hostname {host} port {port}")
            );
            assert_eq!(identity["database"], db.name.as_str());
        }
        Backend::Postgres => {
            let system = db
                .value("SELECT CAST(system_identifier AS TEXT) FROM pg_control_system()")
                .unwrap();
            assert_eq!(
                identity["server"],
                format!("PostgreSQL system_identifier {system}")
            );
            assert_eq!(identity["database"], db.name.as_str());
        }
        Backend::Sqlite => {
            use std::os::unix::fs::MetadataExt as _;
            let meta = std::fs::metadata(db.sqlite_path()).unwrap();
            assert_eq!(
                identity["server"],
                format!("SQLite file on device {} inode {}", meta.dev(), meta.ino())
            );
        }
    }
    // The next command names the database as it was given, never with its password.
    let next = next_command(&out);
    match backend {
        Backend::Sqlite => assert_eq!(
            next,
            format!("heat-converge migrate --plan A.json --db-url {}", db.url)
        ),
        _ => {
            let shown = db.url.replace("heatconv:heatconv@", "heatconv:PASSWORD@");
            // Quoted where a shell would act on a character (`?`).
            let word = if shown.contains('?') {
                format!("'{shown}'")
            } else {
                shown
            };
            assert_eq!(
                next,
                format!("heat-converge migrate --plan A.json --db-url {word}")
            );
            assert!(
                out.contains("(PASSWORD stands for the secret of your --db-url, not printed"),
                "{out}"
            );
            assert!(!out.contains("heatconv:heatconv"), "{out}");
        }
    }
    // Given in the environment: the command leaves it there.
    let (code, out, err) = hc(
        &dir,
        &["plan", "--out", "C.json"],
        &[("HEAT_CONVERGE_DB_URL", &db.url)],
    );
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(next_command(&out), "heat-converge migrate --plan C.json");
    assert!(
        out.contains("(the database URL is read from HEAT_CONVERGE_DB_URL"),
        "{out}"
    );

    // Through heat.conf, spelt another way: the same database, the plan applies.
    let other = other_spelling(&bed, &db);
    std::fs::write(
        dir.join("heat.conf"),
        format!("[database]\nconnection = {other}\n"),
    )
    .unwrap();
    let (code, out, err) = hc(
        &dir,
        &[
            "migrate",
            "--plan",
            "A.json",
            "--dry-run",
            "--config-file",
            "heat.conf",
        ],
        &[],
    );
    assert_eq!(code, 3, "{out}{err}");
    let planned = a["trees"].as_array().unwrap().len();
    assert!(
        out.contains(&format!("would be converted            {planned:>6}")),
        "{out}"
    );

    // A plan file from before identities: bound to its URL's text, as it was.
    let mut old = a.clone();
    old["database"].as_object_mut().unwrap().remove("identity");
    std::fs::write(dir.join("old.json"), old.to_string()).unwrap();
    let (code, _, err) = hc(
        &dir,
        &[
            "migrate",
            "--plan",
            "old.json",
            "--dry-run",
            "--db-url",
            &other,
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("records no database identity"), "{err}");
    let (code, out, err) = hc(
        &dir,
        &[
            "migrate",
            "--plan",
            "old.json",
            "--dry-run",
            "--db-url",
            &db.url,
        ],
        &[],
    );
    assert_eq!(code, 3, "the same URL's text still applies it: {out}{err}");

    // Another database: refused, both named, nothing written.
    let another = bed.demo(backend);
    let (code, _, err) = hc(
        &dir,
        &["migrate", "--plan", "A.json", "--db-url", &another.url],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the plan was made for another database"),
        "{err}"
    );
    let named = |d: &HeatDb| match backend {
        Backend::Sqlite => d.sqlite_path().display().to_string(),
        _ => format!("database {} on", d.name),
    };
    assert!(
        err.contains(&named(&db)) && err.contains(&named(&another)),
        "{err}"
    );
    assert!(!err.contains("heatconv:heatconv"), "no password: {err}");
    assert_eq!(count(&another, legacy_roots), roots_before);

    // The printed command, run as printed (made through heat.conf): it applies the plan.
    let (code, out, err) = hc(
        &dir,
        &["plan", "--out", "B.json", "--config-file", "heat.conf"],
        &[],
    );
    assert_eq!(code, 3, "{out}{err}");
    let next = next_command(&out);
    assert_eq!(
        next,
        "heat-converge migrate --plan B.json --config-file heat.conf"
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_heat-converge"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new("sh")
        .args(["-c", &next])
        .current_dir(&dir)
        .env("PATH", path)
        .env_remove("HEAT_CONVERGE_DB_URL")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        out.contains(&format!("converted                     {planned:>6}")),
        "{out}"
    );
    assert_eq!(count(&db, legacy_roots), roots_before - planned);
}

/// The legacy roots of the database whose tree has a stack that is not COMPLETE, by that
/// stack's status (what the eligibility rule leaves alone, locks aside).
fn blocked_by_status(db: &HeatDb) -> Vec<(String, usize)> {
    db.rows(
        "WITH RECURSIVE t(root, id) AS (
           SELECT id, id FROM stack
           WHERE owner_id IS NULL AND deleted_at IS NULL AND NOT convergence AND NOT backup
           UNION ALL
           SELECT t.root, s.id FROM stack s JOIN t ON s.owner_id = t.id
           WHERE s.deleted_at IS NULL AND NOT s.backup)
         SELECT s.status, CAST(COUNT(DISTINCT t.root) AS CHAR(20)) FROM t
         JOIN stack s ON s.id = t.id WHERE s.status <> 'COMPLETE'
         GROUP BY s.status ORDER BY s.status",
    )
    .into_iter()
    .map(|r| {
        (
            r[0].clone().unwrap(),
            r[1].as_deref().unwrap().trim().parse().unwrap(),
        )
    })
    .collect()
}

/// The `Next:` line of a text report.
fn next_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("Next: "))
        .unwrap_or_else(|| panic!("no Next line: {out}"))
}

/// The part of a Next line that speaks of trees outside the filter the rule leaves alone:
/// its count, and each status counted in its parenthesis.
fn assert_outside_left_alone(line: &str, filter: &str, blocked: &[(String, usize)], plan: bool) {
    let n: usize = blocked.iter().map(|(_, n)| n).sum();
    let start = format!("{n} outside {filter} that would be left alone without it too (");
    let at = line
        .find(&start)
        .unwrap_or_else(|| panic!("{start}... in {line}"));
    let reasons = &line[at + start.len()..];
    let reasons = &reasons[..reasons.find("):").unwrap()];
    for (status, n) in blocked {
        let label = match status.as_str() {
            "FAILED" => "failed",
            "IN_PROGRESS" => "in progress",
            other => panic!("a status the demo does not have: {other}"),
        };
        assert!(
            reasons.contains(&format!("{n} {label}")),
            "{n} {label} in ({reasons})"
        );
    }
    let then = if plan {
        "then make a new plan and apply it"
    } else {
        "then run again"
    };
    assert!(line.contains(then), "{line}");
}

fn next_lines(backend: Backend) {
    let bed = Bed::new(&format!("next-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let roots = count(
        &db,
        "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack \
         WHERE owner_id IS NULL AND deleted_at IS NULL AND NOT convergence AND NOT backup",
    );
    let blocked_by = blocked_by_status(&db);
    let blocked: usize = blocked_by.iter().map(|(_, n)| n).sum();
    assert!(blocked > 0, "the demo has busy and failed trees");
    let open = roots - blocked;
    let left_alone = |n: usize| format!("{n} left alone for the reasons above");

    // No filter (dry run): what the rule leaves alone, nothing outside.
    let (code, out, _) = db.heat_converge(&["migrate", "--dry-run"]);
    assert_eq!(code, 3, "{out}");
    let line = next_line(&out);
    assert!(
        line.starts_with(&format!(
            "Next: {blocked} legacy items remain in the database after a real run: {}",
            left_alone(blocked)
        )),
        "{line}"
    );
    assert!(!line.contains("outside"), "{line}");

    // --stack of a tree that converts: the others outside, those that would convert
    // without the filter apart from those the rule leaves alone anyway.
    let (code, out, _) = db.heat_converge(&["migrate", "--dry-run", "--stack", "cfn"]);
    assert_eq!(code, 3, "{out}");
    let line = next_line(&out);
    assert!(
        line.starts_with(&format!(
            "Next: {} legacy items remain in the database after a real run: {} outside --stack cfn: run without the filter to convert them; ",
            roots - 1,
            open - 1
        )),
        "{line}"
    );
    assert_outside_left_alone(line, "--stack cfn", &blocked_by, false);

    // --stack of a busy tree: it is left alone, the failed one outside stays apart.
    let busy = db
        .value(
            "SELECT name FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL \
             AND status = 'IN_PROGRESS'",
        )
        .unwrap();
    let others: Vec<(String, usize)> = blocked_by
        .iter()
        .map(|(s, n)| (s.clone(), if s == "IN_PROGRESS" { n - 1 } else { *n }))
        .filter(|(_, n)| *n > 0)
        .collect();
    let (code, out, _) = db.heat_converge(&["migrate", "--dry-run", "--stack", &busy]);
    assert_eq!(code, 3, "{out}");
    let line = next_line(&out);
    let filter = format!("--stack {busy}");
    assert!(
        line.starts_with(&format!(
            "Next: {roots} legacy items remain in the database after a real run: {}",
            left_alone(1)
        )),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "; {open} outside {filter}: run without the filter to convert them; "
        )),
        "{line}"
    );
    assert_outside_left_alone(line, &filter, &others, false);

    // --project: every root of the demo is in one project; none outside.
    let project = db
        .value(&format!(
            "SELECT tenant FROM stack WHERE id = '{}'",
            db.root_id("cfn")
        ))
        .unwrap();
    let outside_project = count(
        &db,
        &format!(
            "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack WHERE owner_id IS NULL \
             AND deleted_at IS NULL AND NOT convergence AND tenant <> '{project}'"
        ),
    );
    assert_eq!(outside_project, 0, "the demo has one project");
    let (code, out, _) = db.heat_converge(&["migrate", "--dry-run", "--project", &project]);
    assert_eq!(code, 3, "{out}");
    let line = next_line(&out);
    assert!(
        line.starts_with(&format!(
            "Next: {blocked} legacy items remain in the database after a real run: {}",
            left_alone(blocked)
        )),
        "{line}"
    );
    assert!(!line.contains("outside"), "{line}");

    // --plan: the trees the plan left alone are outside it, and running without it would
    // convert none of them: they are not sent there.
    let plan = bed.dir("next").join("PLAN.json");
    let plan = plan.to_str().unwrap();
    let (code, _, _) = db.heat_converge(&["plan", "--out", plan]);
    assert_eq!(code, 3);
    let (code, out, _) = db.heat_converge(&["migrate", "--plan", plan]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(&format!("converted                     {open:>6}")),
        "{out}"
    );
    let line = next_line(&out);
    let filter = format!("--plan {plan}");
    assert!(
        line.starts_with(&format!(
            "Next: {blocked} legacy items remain in the database: {blocked} outside {filter} that would"
        )),
        "{line}"
    );
    assert!(!line.contains("run without the filter"), "{line}");
    assert_outside_left_alone(line, &filter, &blocked_by, true);

    // No filter, for real, afterwards: what remains is what the rule leaves alone.
    let (code, out, _) = db.heat_converge(&["migrate"]);
    assert_eq!(code, 3, "{out}");
    let line = next_line(&out);
    assert!(
        line.starts_with(&format!(
            "Next: {blocked} legacy items remain in the database: {}",
            left_alone(blocked)
        )),
        "{line}"
    );
    assert!(!line.contains("outside"), "{line}");
}

macro_rules! on_every_backend {
    ($($name:ident),*) => {
        mod sqlite { $( #[test] fn $name() { super::$name(super::Backend::Sqlite) } )* }
        mod mariadb { $( #[test] fn $name() { super::$name(super::Backend::MariaDb) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(super::Backend::Postgres) } )* }
    };
}

on_every_backend!(names, plans, next_lines);

/// Where `pg_control_system()` is revoked (in this database only: each database has its
/// own catalog), the plan names the server by when it started and its port, and still
/// applies through another spelling of it.
#[test]
fn postgres_without_pg_control_system() {
    let bed = Bed::new("plans-pg-revoked");
    let db = bed.demo(Backend::Postgres);
    let mut admin = ::postgres::Client::connect(
        &format!("host=127.0.0.1 port=5432 user=postgres dbname={}", db.name),
        ::postgres::NoTls,
    )
    .unwrap();
    admin
        .batch_execute("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
        .unwrap();
    let dir = bed.dir("plans");
    let (code, out, err) = hc(&dir, &["plan", "--out", "A.json", "--db-url", &db.url], &[]);
    assert_eq!(code, 3, "{out}{err}");
    let a = json(&std::fs::read_to_string(dir.join("A.json")).unwrap());
    let started = db
        .value("SELECT CAST(pg_postmaster_start_time() AS TEXT)")
        .unwrap();
    assert_eq!(
        a["database"]["identity"]["server"],
        format!("PostgreSQL started at {started} port 5432"),
        "{a}"
    );
    let other = db.url.replace("127.0.0.1", "localhost");
    let (code, out, err) = hc(
        &dir,
        &[
            "migrate",
            "--plan",
            "A.json",
            "--dry-run",
            "--db-url",
            &other,
        ],
        &[],
    );
    assert_eq!(code, 3, "{out}{err}");
}
