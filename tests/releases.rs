//! Every Heat release still in the field. An operator may convert before upgrading, on an
//! older release's schema and rows, so heat-converge must know each release's schema and
//! write, on each, the rows that release's own conversion writes.
//!
//! - Always (cheap): the known-schema table (`KNOWN_SCHEMAS`) lists exactly the releases
//!   of the matrix, and for every release whose virtualenv is here, the head of the
//!   migrations shipped in that release's own package is the version the table gives it.
//!   A schema heat-converge does not know is refused by name, with nothing written.
//! - With `HEAT_RELEASES="20.0.1 23.0.0 ..."` (what `tests/bed/release-matrix.sh` sets,
//!   after building each release's virtualenv with `tests/bed/setup-release.sh`): each
//!   release's own legacy engine builds the bed's cases on MariaDB, its own conversion
//!   logic converts a copy, and heat-converge's rows on copies on MariaDB, PostgreSQL and
//!   SQLite equal Heat's. Each release prints its counts of equal rows.

mod common;

use common::{id_set, Backend, Bed, HeatDb, Snapshot};
use heat_converge::db::heat_schema::{SchemaVersion, KNOWN_SCHEMAS};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The releases of the matrix: the newest patch release of each major from 20 (2023.1).
const RELEASES: &[&str] = &[
    "20.0.1", "21.0.1", "22.0.1", "23.0.0", "24.1.2", "25.0.2", "26.0.2", "27.0.1",
];

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv of a release, where setup-release.sh puts it: the main bed's for the
/// release tests/bed/requirements.txt pins, target/heat-venv-VERSION for the others.
fn venv_of(release: &str) -> PathBuf {
    let pins = std::fs::read_to_string(top().join("tests/bed/requirements.txt")).unwrap();
    if pins
        .lines()
        .any(|l| l.trim() == format!("openstack-heat=={release}"))
    {
        top().join("target/heat-venv")
    } else {
        top().join(format!("target/heat-venv-{release}"))
    }
}

/// The known schema a release makes, by the table.
fn known_of(release: &str) -> SchemaVersion<'static> {
    KNOWN_SCHEMAS
        .iter()
        .find(|k| k.releases.contains(&release))
        .unwrap_or_else(|| panic!("{release} is in no KNOWN_SCHEMAS entry"))
        .version
}

#[test]
fn the_known_schemas_list_exactly_the_releases_of_the_matrix() {
    let listed: Vec<&str> = KNOWN_SCHEMAS
        .iter()
        .flat_map(|k| k.releases.iter().copied())
        .collect();
    assert_eq!(listed, RELEASES);
    // The script that runs the matrix runs these same releases.
    let script = std::fs::read_to_string(top().join("tests/bed/release-matrix.sh")).unwrap();
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix("releases=("))
        .expect("release-matrix.sh has a releases=(...) line");
    let in_script: Vec<&str> = line.trim_end_matches(')').split_whitespace().collect();
    assert_eq!(in_script, RELEASES);
}

/// The head of the migrations a Heat package ships: alembic's revision that no other
/// revision names as its down_revision (2023.2 on), else sqlalchemy-migrate's highest
/// numbered script (2023.1 and older).
fn shipped_head(venv: &Path) -> Option<String> {
    let lib = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .next()?
        .ok()?
        .path();
    let heat = lib.join("site-packages/heat");
    let quoted = |line: &str, key: &str| -> Option<String> {
        let rest = line
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        Some(rest.trim_matches(|c| c == '\'' || c == '"').to_string())
    };
    if let Ok(dir) = std::fs::read_dir(heat.join("db/migrations/versions")) {
        let (mut revisions, mut downs) = (Vec::new(), Vec::new());
        for e in dir {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "py") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    revisions.extend(quoted(line, "revision"));
                    downs.extend(quoted(line, "down_revision"));
                }
            }
        }
        let heads: Vec<String> = revisions
            .into_iter()
            .filter(|r| !downs.contains(r))
            .collect();
        assert_eq!(
            heads.len(),
            1,
            "{}: alembic heads {heads:?}",
            venv.display()
        );
        return heads.into_iter().next();
    }
    let dir = std::fs::read_dir(heat.join("db/sqlalchemy/migrate_repo/versions")).ok()?;
    dir.filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        name.split('_').next()?.parse::<i64>().ok()
    })
    .max()
    .map(|v| v.to_string())
}

#[test]
fn each_installed_release_ships_the_head_the_table_gives_it() {
    let mut checked = Vec::new();
    for release in RELEASES {
        let venv = venv_of(release);
        let Some(head) = shipped_head(&venv) else {
            continue; // not built here: release-matrix.sh builds it
        };
        let version = std::fs::read_dir(venv.join("lib"))
            .unwrap()
            .filter_map(|e| e.ok())
            .find_map(|e| {
                let sp = e.path().join("site-packages");
                std::fs::read_dir(sp).ok()?.find_map(|d| {
                    let n = d.ok()?.file_name().into_string().ok()?;
                    n.strip_prefix("openstack_heat-")?
                        .strip_suffix(".dist-info")
                        .map(String::from)
                })
            });
        assert_eq!(
            version.as_deref(),
            Some(*release),
            "{} holds another Heat",
            venv.display()
        );
        let expected = match known_of(release) {
            SchemaVersion::Alembic(r) => r.to_string(),
            SchemaVersion::Migrate(v) => v.to_string(),
        };
        assert_eq!(
            head, expected,
            "Heat {release}'s own migrations end at {head}"
        );
        checked.push(*release);
    }
    eprintln!("migration heads checked for: {checked:?}");
    assert!(!checked.is_empty(), "no Heat virtualenv at all");
}

// --------------------------------------------------------------------------- refusal

/// A copy of the demo database (made by Heat 27.0.1) whose recorded schema version is
/// rewritten by `rewrite`; then `status`, `migrate --dry-run` and `migrate` are refused
/// with `message`, and nothing at all is written.
fn refused(backend: Backend, tag: &str, rewrite: &str, message: &str) {
    let bed = Bed::new(tag);
    let db = bed.demo(backend);
    db.exec(rewrite);
    let rows = bed.snapshot(&db);
    let bytes = (backend == Backend::Sqlite).then(|| std::fs::read(db.sqlite_path()).unwrap());
    for args in [&["status"][..], &["migrate", "--dry-run"], &["migrate"]] {
        let (code, _, stderr) = db.heat_converge(args);
        assert_eq!(code, 1, "{backend:?} {args:?}: {stderr}");
        assert!(
            stderr.contains(message) && stderr.contains("nothing was written"),
            "{backend:?} {args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("heatconv:heatconv"),
            "password shown: {stderr}"
        );
    }
    assert_eq!(bed.snapshot(&db), rows, "{backend:?}: rows changed");
    let ours = match backend {
        Backend::Sqlite => {
            assert_eq!(
                std::fs::read(db.sqlite_path()).ok(),
                bytes,
                "the SQLite file changed"
            );
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'heat_converge%'".to_string()
        }
        Backend::MariaDb => format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{}' \
             AND table_name LIKE 'heat_converge%'",
            db.name
        ),
        Backend::Postgres => "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_name LIKE 'heat_converge%'"
            .to_string(),
    };
    assert_eq!(
        db.value(&ours).as_deref(),
        Some("0"),
        "{backend:?}: tables made"
    );
}

#[test]
fn an_unknown_alembic_revision_is_refused_by_name_and_nothing_is_written() {
    for (backend, tag) in [
        (Backend::Sqlite, "relunk_lite"),
        (Backend::MariaDb, "relunk_my"),
        (Backend::Postgres, "relunk_pg"),
    ] {
        refused(
            backend,
            tag,
            "UPDATE alembic_version SET version_num = 'ab12cd34ef56'",
            "Heat's database is at alembic revision ab12cd34ef56, which heat-converge does \
             not know (it knows: sqlalchemy-migrate 86 = Heat 2023.1 (20.x); c6214ca60943 = \
             Heat 2023.2 to 2025.2 (21.x, 22.x, 23.x, 24.x, 25.x); 97b2a986f922 = Heat \
             2026.1 and 2026.2 (26.x, 27.x))",
        );
    }
}

#[test]
fn an_older_sqlalchemy_migrate_version_is_refused_by_name() {
    refused(
        Backend::Sqlite,
        "relold",
        "DROP TABLE alembic_version;
         CREATE TABLE migrate_version (repository_id VARCHAR(250) PRIMARY KEY,
             repository_path TEXT, version INTEGER);
         INSERT INTO migrate_version VALUES ('heat', '/x/migrate_repo', 71);",
        "Heat's database is at sqlalchemy-migrate version 71, which heat-converge does not know",
    );
}

#[test]
fn a_heat_database_that_records_no_version_is_refused() {
    refused(
        Backend::Sqlite,
        "relnone",
        "DROP TABLE alembic_version",
        "Heat's database records no schema version",
    );
}

/// Another program's database may be run by alembic too: it is "not Heat's", not "a Heat
/// schema we do not know".
#[test]
fn another_programs_alembic_database_is_not_heats() {
    let dir = top()
        .join("target/releases")
        .join(format!("other-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nova.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);
             INSERT INTO alembic_version VALUES ('13863f4e1612');
             CREATE TABLE instances (id INTEGER PRIMARY KEY);",
        )
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["migrate", "--db-url"])
        .arg(format!("sqlite:///{}", path.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no table stack: this is not a Heat database")
            && !stderr.contains("13863f4e1612"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file changed");
    let _ = std::fs::remove_dir_all(&dir);
}

// --------------------------------------------------------------------------- the matrix

/// Heat stopped writing `needed_by`; we fill it. Rows are compared without it.
fn without_needed_by(s: &Snapshot) -> Snapshot {
    let mut v = s.0.clone();
    if let Some(rows) = v["resource"].as_object_mut() {
        for r in rows.values_mut() {
            r["needed_by"] = serde_json::Value::Null;
        }
    }
    Snapshot(v)
}

/// Per table: (rows equal, rows in Heat's result); panics with the differing rows.
fn equal_rows(heat: &Snapshot, ours: &Snapshot, what: &str) -> BTreeMap<String, (usize, usize)> {
    let (heat, ours) = (without_needed_by(heat), without_needed_by(ours));
    let diff = heat.diff(&ours);
    assert!(
        diff.is_empty(),
        "{what}: {} rows differ:\n{}",
        diff.len(),
        diff.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    heat.0
        .as_object()
        .unwrap()
        .iter()
        .map(|(t, rows)| {
            let rows = rows.as_object().unwrap();
            let equal = rows
                .iter()
                .filter(|(k, r)| ours.table(t).get(*k) == Some(r));
            (t.clone(), (equal.count(), rows.len()))
        })
        .collect()
}

/// The schema version the database records, read with plain SQL (MariaDB).
fn recorded(db: &HeatDb, expected: SchemaVersion) -> String {
    match expected {
        SchemaVersion::Alembic(_) => db
            .value("SELECT version_num FROM alembic_version")
            .unwrap_or_default(),
        SchemaVersion::Migrate(_) => db
            .value("SELECT CAST(version AS CHAR(16)) FROM migrate_version WHERE repository_id = 'heat'")
            .unwrap_or_default(),
    }
}

/// One release: its engine builds, its conversion converts, we convert; rows compared.
fn one_release(release: &str) -> String {
    let python = venv_of(release).join("bin/python");
    assert!(
        python.exists(),
        "no virtualenv for Heat {release}: run `bash tests/bed/setup-release.sh {release}`"
    );
    let tag = format!("rel{}", release.replace('.', ""));
    let bed = Bed::with_python(&tag, python);
    let db = bed.create_db(Backend::MariaDb);
    let known = known_of(release);
    let version = recorded(&db, known);
    let expected = match known {
        SchemaVersion::Alembic(r) => r.to_string(),
        SchemaVersion::Migrate(v) => v.to_string(),
    };
    assert_eq!(version, expected, "Heat {release}'s db_sync");

    let cases = bed.build_cases(&db);
    let before = bed.snapshot(&db);
    for stack in before.table("stack").values() {
        assert_eq!(stack["convergence"], false, "{release}: {}", stack["name"]);
    }

    let heat_copy = bed.copy(&db, Backend::MariaDb);
    let report = bed.heat_convert(&heat_copy);
    let heat = bed.snapshot(&heat_copy);
    let heat_converted = report
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["outcome"] == "converted")
        .count();
    assert!(
        heat_converted >= 10,
        "{release}: Heat converted only {heat_converted}: {report}"
    );
    // Heat's conversion did convert: the edges our templates say (one per kind of case).
    let depends = &cases["depends"].id;
    let top_requires = id_set(&heat.resource(depends, "top")["requires"]);
    let expected_top: std::collections::BTreeSet<i64> = ["middle", "side"]
        .iter()
        .map(|n| heat.resource(depends, n)["id"].as_i64().unwrap())
        .collect();
    assert_eq!(top_requires, expected_top, "{release}: depends.top");

    let mut lines = vec![format!(
        "Heat {release} ({}): Heat converted {heat_converted} root stacks",
        SchemaVersion::to_string(&known)
    )];
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let target = bed.copy(&db, backend);
        let (code, stdout, stderr) = target.heat_converge(&["migrate", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{release} {backend:?}: no JSON ({e}): {stderr}"));
        assert_eq!(
            code, 3,
            "{release} {backend:?}: busy and failed remain: {json}"
        );
        assert_eq!(
            json["converted"].as_u64(),
            Some(heat_converted as u64),
            "{release} {backend:?}: {json}"
        );
        let ours = bed.snapshot(&target);
        let counts = equal_rows(&heat, &ours, &format!("{release} {backend:?}"));
        let shown: Vec<String> = counts
            .iter()
            .map(|(t, (eq, n))| format!("{t} {eq}/{n}"))
            .collect();
        lines.push(format!("  {backend:?}: equal rows {}", shown.join(", ")));
    }
    lines.join("\n")
}

#[test]
fn release_matrix() {
    let Ok(list) = std::env::var("HEAT_RELEASES") else {
        eprintln!("HEAT_RELEASES not set: the matrix is run by tests/bed/release-matrix.sh");
        return;
    };
    let releases: Vec<&str> = list.split_whitespace().collect();
    for r in &releases {
        assert!(RELEASES.contains(r), "{r} is not a release of the matrix");
    }
    let mut failed = Vec::new();
    for release in releases {
        match std::panic::catch_unwind(|| one_release(release)) {
            Ok(summary) => println!("{summary}"),
            Err(e) => {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("Heat {release}: FAILED: {why}");
                failed.push(release);
            }
        }
    }
    assert!(failed.is_empty(), "releases that failed: {failed:?}");
}
