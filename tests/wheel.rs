//! The wheel. Ignored in `cargo test` (CI): `bash .ci/wheel` is a full release build of the
//! tree for x86_64-unknown-linux-musl, about 12 minutes on 2 cores (seconds when
//! target/x86_64-unknown-linux-musl is already built, e.g. by .ci/static-build). Run it with
//!
//!     cargo test --test wheel -- --ignored --nocapture
//!
//! It runs `bash .ci/wheel`, which builds the wheel into target/wheels/, installs it with pip
//! into a fresh virtualenv and into the bed's Heat virtualenv (uninstalled after, the venv
//! compared file by file with what it was) and has each `heat-converge` convert a copy of the
//! demo (exit 3, 11 trees converted); then checks the wheel's name and metadata, and installs
//! it with the Ansible role (heat_converge_wheel_src) into a virtualenv of its own, which
//! converts a demo copy and, run again, changes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn the_wheel() -> PathBuf {
    let wheels: Vec<PathBuf> = std::fs::read_dir(top().join("target/wheels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    wheels[0].clone()
}

#[test]
#[ignore = "a full release build (about 12 minutes): cargo test --test wheel -- --ignored"]
fn the_wheel_installs_heat_converge_into_a_fresh_venv_heats_venv_and_through_the_role() {
    // The script and its own checks, in the environment of the shell that ran cargo: the
    // variables cargo sets for a test (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...) are ones
    // build scripts (ring's) rerun on, so left in they would rebuild the release tree.
    let mut script = Command::new("bash");
    script.arg(top().join(".ci/wheel"));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key == "OUT_DIR"
            || key == "CARGO_TARGET_TMPDIR"
            || [
                "CARGO_MANIFEST_",
                "CARGO_PKG_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
                "CARGO_PRIMARY_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
        {
            script.env_remove(&key);
        }
    }
    let out = script.output().expect("run .ci/wheel");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{printed}");
    assert!(out.status.success(), "{printed}");
    for line in [
        "wheel: fresh virtualenv: heat-converge on the demo: exit 3",
        "wheel: Heat's virtualenv (openstack-heat==",
        "is as it was (",
        "wheel: ok",
    ] {
        assert!(printed.contains(line), "{line} in:\n{printed}");
    }
    assert_eq!(
        printed
            .matches("legacy trees 13, converted 11, left alone 2, exit_code 3")
            .count(),
        2,
        "{printed}"
    );

    // Its name and metadata.
    let wheel = the_wheel();
    let name = wheel.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(
        name,
        format!(
            "heat_converge-{}-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.musllinux_1_2_x86_64.whl",
            env!("CARGO_PKG_VERSION")
        )
    );
    let metadata = Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(sys.argv[2]).decode())"])
        .arg(&wheel)
        .arg(format!(
            "heat_converge-{}.dist-info/METADATA",
            env!("CARGO_PKG_VERSION")
        ))
        .output()
        .unwrap();
    let metadata = String::from_utf8(metadata.stdout).unwrap();
    for field in [
        "Name: heat-converge".to_string(),
        format!("Version: {}", env!("CARGO_PKG_VERSION")),
        format!("Summary: {}", env!("CARGO_PKG_DESCRIPTION")),
        "License-Expression: Apache-2.0".to_string(),
        "Description-Content-Type: text/markdown".to_string(),
        "\n# heat-converge\n".to_string(),
        "## Try it".to_string(),
    ] {
        assert!(metadata.contains(&field), "{field} in the wheel's METADATA");
    }

    // The Ansible role installs it into a virtualenv of its own and runs it.
    let dir = top()
        .join("target/ansible-test")
        .join(format!("wheel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("heat.sqlite");
    std::fs::copy(top().join("examples/demo.sqlite"), &db).unwrap();
    let conf = dir.join("heat.conf");
    std::fs::write(
        &conf,
        format!("[database]\nconnection = sqlite:///{}\n", db.display()),
    )
    .unwrap();
    let playbook = dir.join("play.yml");
    std::fs::write(
        &playbook,
        format!(
            "- hosts: localhost\n  connection: local\n  gather_facts: false\n  roles:\n    - role: heat_converge\n      heat_converge_config_files: [{}]\n      heat_converge_wheel_src: {}\n      heat_converge_venv: {}\n      heat_converge_wheel_cache_dir: {}\n",
            conf.display(),
            wheel.display(),
            dir.join("venv").display(),
            dir.join("cache").display(),
        ),
    )
    .unwrap();
    let play = || {
        let out = Command::new(top().join("target/ansible-venv/bin/ansible-playbook"))
            .arg(&playbook)
            .env("ANSIBLE_ROLES_PATH", top().join("roles"))
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
            .env("ANSIBLE_NOCOLOR", "true")
            .env("ANSIBLE_HOME", dir.join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-tmp"))
            .output()
            .expect("run ansible-playbook (bash tests/bed/setup.sh installs it)");
        let output = String::from_utf8_lossy(&out.stdout).into_owned();
        println!("{output}");
        (out.status.code(), output)
    };
    let (rc, output) = play();
    assert_eq!(rc, Some(0), "{output}");
    assert!(
        output.contains("converted 11 of 13 legacy stack trees, left alone 2")
            && output.contains("changed=4 ")
            && output.contains("failed=0"),
        "the wheel's directory, copy and install, the migration: {output}"
    );
    assert!(dir.join("venv/bin/heat-converge").exists());
    let (rc, output) = play();
    assert_eq!(rc, Some(0), "{output}");
    assert!(output.contains("changed=0 "), "{output}");
    let _ = std::fs::remove_dir_all(&dir);
}
