//! Hidden parameters Heat stored encrypted (`encrypt_parameters_and_properties`).
//!
//! - `heat_crypt_is_the_oracle`: values encrypted by Heat's own `heat.common.crypt.encrypt`
//!   (Fernet, `cryptography_decrypt_v1`) and by oslo-incubator's old encrypt that older Heat
//!   used (`oslo_decrypt_v1`), with keys of every length Heat handles; our decryption must
//!   give what Heat's `crypt.decrypt` gives, with the right key and with wrong ones, and
//!   fail exactly where Heat fails.
//! - `engine_encrypted_cases_on_*` (MariaDB, PostgreSQL): a real legacy heat-engine, its heat.conf with
//!   `encrypt_parameters_and_properties = true` and an `auth_encryption_key`, creates the
//!   cases of `tests/templates/hidden-cases.yaml`, so Heat itself encrypts their hidden
//!   parameters (its Neutron resources are made as `OS::Heat::None` by a global
//!   environment, whose mappings are then taken out of the stored environments). Heat's own conversion (its conf knowing the key) and `heat-converge
//!   migrate` (its heat.conf giving the key) must write the same rows; without the key, or
//!   with a wrong one, the trees whose conditions or implicit rules need a hidden value
//!   are left alone with the reason (exit 3), the tree that needs none is converted as
//!   Heat converts it, and neither the key nor any value ever appears in the output.

mod common;

use common::{assert_same_rows, Backend, Bed, HeatDb, Rng, Snapshot};
use heat_converge::crypt::{decrypt, Key, Sealed, Unsealer, HEAT_DEFAULT_KEY};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const KEY: &str = "k3y-of-32-characters-for-tests!!";
const WRONG_KEY: &str = "an0ther-32-character-key-wrong!!";

/// The values the cases give their hidden parameters (tests/templates/hidden-cases.yaml).
const SECRETS: &[&str] = &["net-7d1e", "xl-4c9d", "net-b2a0", "s-81fa", "tok-5e0f77"];

fn crypt_jobs(bed: &Bed, jobs: &[Value]) -> Vec<Value> {
    let path = bed.dir("crypt").join("jobs.json");
    std::fs::write(&path, serde_json::to_vec(jobs).unwrap()).unwrap();
    let out = bed
        .run(&["crypt", path.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("{e}"));
    let out = out.as_array().expect("crypt prints a list").clone();
    assert_eq!(out.len(), jobs.len());
    out
}

#[test]
fn heat_crypt_is_the_oracle() {
    let bed = Bed::new("crypt");
    let keys = [
        KEY,
        HEAT_DEFAULT_KEY,
        "sixteen-chars-ky",         // Fernet doubles it; AES-128 for oslo
        "twenty-four-characters!!", // doubled and cut; AES-192
        "a key of forty characters, cut to 32 ...", // cut
        "short-key",                // Fernet: too short even doubled
        "ключ-ключ-ключ-ключ-ключ-ключ-кл", // 32 characters, 59 bytes: refused
    ];
    let alphabet = [
        "a", "Z", "0", "-", " ", "é", "€", "ключ", "🔑", "\"", "\\", "\n", "{",
    ];
    let mut rng = Rng(0x5eed_c0de);
    let mut values: Vec<String> = (0..48).map(|n| "x".repeat(n)).collect();
    values.extend((0..60).map(|_| rng.string(&alphabet, 24)));

    let mut jobs = Vec::new();
    for v in &values {
        let key = keys[rng.below(keys.len())];
        jobs.push(json!({"encrypt": v, "key": key}));
        jobs.push(json!({"oslo_encrypt": v, "key": key}));
    }
    for n in [15, 31, 47] {
        jobs.push(json!({"oslo_encrypt": "y".repeat(n), "key": KEY}));
    }
    let sealed = crypt_jobs(&bed, &jobs);

    // Decrypt what Heat encrypted with its key and with every other key.
    let mut checks = Vec::new();
    for (job, out) in jobs.iter().zip(&sealed) {
        let (Some(m), Some(d)) = (out["method"].as_str(), out["data"].as_str()) else {
            continue; // Heat could not encrypt with that key either
        };
        let right = job["key"].as_str().unwrap();
        let wrong = keys[rng.below(keys.len())];
        let value = job.get("encrypt").or(job.get("oslo_encrypt")).unwrap();
        checks.push(json!({"decrypt": [m, d], "key": right, "clear": value}));
        checks.push(json!({"decrypt": [m, d], "key": wrong}));
        // A damaged token: one character changed.
        let mut bad: Vec<char> = d.chars().collect();
        let i = rng.below(bad.len());
        bad[i] = if bad[i] == 'A' { 'B' } else { 'A' };
        let bad: String = bad.into_iter().collect();
        checks.push(json!({"decrypt": [m, bad], "key": right}));
    }
    let answers = crypt_jobs(&bed, &checks);

    let (mut opened, mut refused, mut oslo_opened, mut oslo_refused_15) = (0, 0, 0, 0);
    // The oracle itself, with the right key: Fernet gives every value back; oslo's padding,
    // as Heat reads it, loses a value whose UTF-8 length is 15 modulo 16.
    for (check, heat) in checks.iter().zip(&answers) {
        let Some(clear) = check["clear"].as_str() else {
            continue;
        };
        if check["decrypt"][0] == "oslo_decrypt_v1" && clear.len() % 16 == 15 {
            assert!(heat["error"].is_string(), "{heat}");
            oslo_refused_15 += 1;
        } else {
            assert_eq!(heat["value"], clear);
        }
    }
    assert!(oslo_refused_15 >= 3, "{oslo_refused_15}");
    for (check, heat) in checks.iter().zip(&answers) {
        let m = check["decrypt"][0].as_str().unwrap();
        let d = check["decrypt"][1].as_str().unwrap();
        let key = check["key"].as_str().unwrap();
        let ours = decrypt(m, d, key);
        match (heat["value"].as_str(), &ours) {
            (Some(h), Ok(o)) => {
                assert_eq!(
                    h,
                    o,
                    "{m} with key #{}",
                    keys.iter().position(|k| *k == key).unwrap()
                );
                opened += 1;
                if m == "oslo_decrypt_v1" {
                    oslo_opened += 1;
                }
            }
            (None, Err(_)) => refused += 1,
            (h, o) => panic!(
                "{m}: Heat gives {} ({heat}), we give {} ({o:?}) for {check}",
                if h.is_some() { "a value" } else { "an error" },
                if o.is_ok() { "a value" } else { "an error" }
            ),
        }
    }
    eprintln!("{opened} decrypted alike, {refused} refused alike");
    assert!(opened >= 150 && refused >= 100, "{opened} / {refused}");
    assert!(oslo_opened >= 40, "{oslo_opened}");
}

/// A Heat whose heat.conf sets no `auth_encryption_key` encrypts with its option's
/// default; heat-converge without a key decrypts with it too, and says what it tried when
/// that fails. Nothing but the parameter's name is in the messages.
#[test]
fn without_a_key_heats_default_key_is_used() {
    let bed = Bed::new("crypt-default");
    // "key": null: Heat's crypt.encrypt(value) with the key its configuration gives.
    let out = crypt_jobs(
        &bed,
        &[
            json!({"encrypt": "v-4f1a", "key": null}),
            json!({"encrypt": "v-88b2", "key": KEY}),
        ],
    );
    let sealed = |o: &Value| Sealed {
        method: o["method"].clone(),
        data: o["data"].clone(),
    };
    let none = Unsealer::new(None);
    assert_eq!(none.open("p", &sealed(&out[0])).unwrap(), "v-4f1a");
    assert_eq!(none.failure(), None);
    let e = none.open("q", &sealed(&out[1])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "hidden parameter q is encrypted and heat.conf gives no auth_encryption_key \
         (Heat's default key does not decrypt it)"
    );
    assert_eq!(none.failure(), Some(e));

    let configured = Unsealer::new(Some(Key::new(KEY)));
    assert_eq!(configured.open("q", &sealed(&out[1])).unwrap(), "v-88b2");
    let e = configured.open("p", &sealed(&out[0])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "hidden parameter p is encrypted and cannot be decrypted with the configured \
         auth_encryption_key"
    );
    // Heat's decrypt gives None for a null half: no key needed.
    let null = Sealed {
        method: Value::Null,
        data: json!("x"),
    };
    assert_eq!(configured.open("n", &null).unwrap(), Value::Null);
}

/// A heat.conf for heat-converge: its `[DEFAULT]` lines.
fn conf(dir: &Path, name: &str, default_lines: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("[DEFAULT]\n{default_lines}")).unwrap();
    path.display().to_string()
}

struct Run {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

/// `heat-converge ARGS --config-file CONF --db-url URL`, with no heat.conf found anywhere
/// else (a HOME of the test's own) and no key in the environment.
fn heat_converge(db: &HeatDb, conf: &str, home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(args)
        .args(["--config-file", conf, "--db-url", &db.url])
        .env("HOME", home)
        .env_remove("OS_DEFAULT__AUTH_ENCRYPTION_KEY")
        .output()
        .expect("run heat-converge");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for secret in SECRETS.iter().chain(&[KEY, WRONG_KEY]) {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret was printed:\n{stdout}\n{stderr}"
        );
    }
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stdout,
        stderr,
    }
}

fn tree<'a>(run: &'a Run, name: &str) -> &'a Value {
    run.json["trees"]
        .as_array()
        .unwrap_or_else(|| panic!("no trees: {} {}", run.stdout, run.stderr))
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tree {name}: {}", run.stdout))
}

/// Heat stopped writing `needed_by`; we fill it: rows are compared without it.
fn without_needed_by(s: &Snapshot) -> Snapshot {
    let mut v = s.0.clone();
    if let Some(rows) = v["resource"].as_object_mut() {
        for r in rows.values_mut() {
            r["needed_by"] = Value::Null;
        }
    }
    Snapshot(v)
}

/// The rows of one stack: its stack row and its resources.
fn stack_rows(s: &Snapshot, id: &str) -> Value {
    let mut resources: Vec<Value> = s.resources_of(id).into_iter().cloned().collect();
    resources.sort_by_key(|r| r["id"].as_i64());
    for r in &mut resources {
        r["needed_by"] = Value::Null;
    }
    json!({"stack": s.stack(id), "resources": resources})
}

fn requires_names(s: &Snapshot, stack_id: &str, name: &str) -> Vec<String> {
    let resources = s.resources_of(stack_id);
    let mut names: Vec<String> = common::id_set(&s.resource(stack_id, name)["requires"])
        .into_iter()
        .map(|id| {
            resources
                .iter()
                .find(|r| r["id"] == id)
                .map(|r| r["name"].as_str().unwrap().to_string())
                .unwrap_or_else(|| format!("#{id}"))
        })
        .collect();
    names.sort();
    names
}

#[test]
fn engine_encrypted_cases_on_mariadb() {
    engine_encrypted_cases(Backend::MariaDb, "crypt-my");
}

#[test]
fn engine_encrypted_cases_on_postgresql() {
    engine_encrypted_cases(Backend::Postgres, "crypt-pg");
}

fn engine_encrypted_cases(backend: Backend, tag: &str) {
    let bed = Bed::new(tag);
    let db = bed.create_db(backend);
    let cases = bed.build_cases_from(
        &db,
        "hidden-cases.yaml",
        Some("neutron-off.yaml"),
        Some(KEY),
    );
    assert_eq!(cases.len(), 4);
    // Heat recorded in each stored environment the global mappings it used; without
    // them (as in a cloud whose global environment no longer has them) the stored stacks
    // are Neutron Ports and Subnets again, with their implicit rules, for Heat and for us.
    db.exec(match backend {
        Backend::MariaDb => {
            "UPDATE raw_template SET environment = JSON_REMOVE(environment, \
             '$.resource_registry.\"OS::Neutron::Port\"', \
             '$.resource_registry.\"OS::Neutron::Subnet\"')"
        }
        _ => {
            "UPDATE raw_template SET environment = ((environment::jsonb \
             #- '{resource_registry,OS::Neutron::Port}') \
             #- '{resource_registry,OS::Neutron::Subnet}')::text"
        }
    });
    let id = |name: &str| cases[name].id.clone();
    let home = bed.dir("home");
    let with_key = conf(&home, "key.conf", &format!("auth_encryption_key = {KEY}\n"));
    let no_key = conf(
        &home,
        "nokey.conf",
        "encrypt_parameters_and_properties = true\n",
    );
    let wrong_key = conf(
        &home,
        "wrong.conf",
        &format!("auth_encryption_key = {WRONG_KEY}\n"),
    );

    // Heat stored every hidden value encrypted, none in clear.
    let before = bed.snapshot(&db);
    for t in before.table("raw_template").values() {
        let env = &t["environment"];
        let names = env["encrypted_param_names"]
            .as_array()
            .expect("encrypted names");
        assert!(!names.is_empty(), "{env}");
        for n in names {
            let v = &env["parameters"][n.as_str().unwrap()];
            assert_eq!(v[0], "cryptography_decrypt_v1", "{env}");
        }
        for s in SECRETS {
            assert!(!env.to_string().contains(s), "{env}");
        }
    }

    // Heat's own conversion, knowing the key.
    let heat = bed.copy(&db, backend);
    let report = bed.heat_convert_with_key(&heat, KEY);
    for (name, c) in &cases {
        assert_eq!(report[&c.id]["outcome"], "converted", "{name}: {report}");
    }
    let after = bed.snapshot(&heat);
    // What the templates say, read off them (not off Heat): the port is after the subnet
    // of the network its hidden parameter names; `extra` exists only when `size` is big.
    assert_eq!(
        requires_names(&after, &id("hidden-big"), "port"),
        ["subnet_a"]
    );
    assert_eq!(
        requires_names(&after, &id("hidden-small"), "port"),
        ["subnet_b"]
    );
    assert_eq!(
        requires_names(&after, &id("hidden-port"), "port"),
        ["subnet_b"]
    );
    assert!(after
        .resources_of(&id("hidden-big"))
        .iter()
        .any(|r| r["name"] == "extra"));
    assert!(!after
        .resources_of(&id("hidden-small"))
        .iter()
        .any(|r| r["name"] == "extra"));

    // heat-converge with the key: the same rows.
    let ours = bed.copy(&db, backend);
    let run = heat_converge(&ours, &with_key, &home, &["migrate", "--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json["converted"], 4, "{}", run.stdout);
    assert_same_rows(
        &without_needed_by(&after),
        &without_needed_by(&bed.snapshot(&ours)),
        "heat-converge with the key vs Heat's conversion",
    );
    let graph = heat_converge(&db, &with_key, &home, &["graph", &id("hidden-port")]);
    assert_eq!(graph.code, 0, "{}", graph.stderr);
    assert_eq!(
        graph.json["resources"]["port"]["requires"],
        json!(["subnet_b"])
    );

    // Without the key, then with a wrong one: the trees that need a hidden value are
    // left alone, the one that needs none is converted as Heat converted it.
    for (conf, why) in [
        (&no_key, "heat.conf gives no auth_encryption_key"),
        (
            &wrong_key,
            "cannot be decrypted with the configured auth_encryption_key",
        ),
    ] {
        let lite = bed.copy(&db, Backend::Sqlite);
        let run = heat_converge(&lite, conf, &home, &["migrate", "--format", "json"]);
        assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.json["converted"], 1, "{}", run.stdout);
        for (name, param) in [
            ("hidden-big", "size"),
            ("hidden-small", "size"),
            ("hidden-port", "net"),
        ] {
            let t = tree(&run, name);
            assert_eq!(t["outcome"], "left_alone", "{t}");
            let reason = t["reason"].as_str().unwrap();
            assert!(
                reason.starts_with("the root stack: ")
                    && reason.contains(&format!("hidden parameter {param} is encrypted"))
                    && reason.contains(why),
                "{reason}"
            );
        }
        assert_eq!(tree(&run, "hidden-unused")["outcome"], "converted");
        let mine = bed.snapshot(&lite);
        for name in ["hidden-big", "hidden-small", "hidden-port"] {
            assert_eq!(
                stack_rows(&mine, &id(name)),
                stack_rows(&before, &id(name)),
                "{name} was changed"
            );
        }
        assert_eq!(
            stack_rows(&mine, &id("hidden-unused")),
            stack_rows(&after, &id("hidden-unused")),
            "hidden-unused not converted as Heat converts it"
        );
        // The text report and the graph command say the same, and fail where they must.
        let text = heat_converge(&lite, conf, &home, &["status"]);
        assert_eq!(text.code, 3, "{}", text.stderr);
        assert!(text.stdout.contains(why), "{}", text.stdout);
        let graph = heat_converge(&lite, conf, &home, &["graph", &id("hidden-port")]);
        assert_eq!(graph.code, 1);
        assert!(
            graph.stderr.contains(&id("hidden-port"))
                && graph.stderr.contains("hidden parameter net is encrypted")
                && graph.stderr.contains(why),
            "{}",
            graph.stderr
        );
    }
}
