//! Third-party plugins read without running them, compared with Python itself: the modules
//! found in the order Heat's loader (`pkgutil.walk_packages`) finds them, the types
//! registered as Heat's own loader registers them, and the table of in-tree classes as
//! Heat 27.0.1 makes it. The graphs and rows of stacks using plugins: tests/plugins.rs.

mod common;

use heat_converge::plugins::{Catalog, How};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "heat-converge-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_in_tree_class_table_is_heats() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(common::venv_python())
        .arg(top.join("tests/bed/in_tree_classes.py"))
        .output()
        .expect("run tests/bed/in_tree_classes.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made = String::from_utf8(out.stdout).unwrap();
    let shipped = std::fs::read_to_string(top.join("src/plugins/in_tree_classes.txt")).unwrap();
    assert_eq!(
        made, shipped,
        "src/plugins/in_tree_classes.txt is not what Heat gives: regenerate it"
    );
    // What the classification relies on is in it.
    assert!(shipped.contains("heat.engine.resource.Resource -\n"));
    assert!(
        shipped.contains("heat.engine.resources.openstack.nova.server.Server OS::Nova::Server\n")
    );
}

/// `pkgutil.walk_packages` over the directories, as Heat's plugin loader walks them.
const WALK: &str = r#"
import json, pkgutil, sys, types
import heat.engine
dirs = json.load(sys.stdin)
pkg = types.ModuleType('heat.engine.plugins')
pkg.__path__ = dirs
sys.modules['heat.engine.plugins'] = pkg
names = [m.name for m in pkgutil.walk_packages(dirs, 'heat.engine.plugins.')
         if '.tests.' not in m.name and not m.name.endswith('.setup')]
print(json.dumps(names))
"#;

#[test]
fn modules_are_found_in_the_order_heat_loads_them() {
    let top = scratch("walk");
    let (one, two) = (top.join("one"), top.join("two"));
    for (dir, name) in [
        (&one, "b.py"),
        (&one, "a.py"),
        (&one, "pkg/__init__.py"),
        (&one, "pkg/sub.py"),
        (&one, "pkg/deeper/__init__.py"),
        (&one, "pkg/deeper/leaf.py"),
        (&one, "pkg/tests/__init__.py"),
        (&one, "pkg/tests/test_x.py"),
        (&one, "setup.py"),
        (&one, "notpkg/mod.py"),
        (&one, "with.dot.py"),
        (&one, "Zed.py"),
        (&one, "_private.py"),
        (&two, "a.py"),
        (&two, "c.py"),
        (&two, "pkg/other.py"),
    ] {
        write(dir, name, "X = 1\n");
    }
    std::fs::write(one.join("README.txt"), "not a module").unwrap();
    let dirs = vec![one.clone(), two.clone(), top.join("missing")];
    let heat: Value = common::python_oracle(
        WALK,
        &[],
        &json!(dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()),
    );
    let ours: Vec<String> = Catalog::discover(&dirs)
        .modules
        .iter()
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(json!(ours), heat, "module order");
    // The shadowed a.py of the second directory is not read; the first one is.
    let catalog = Catalog::discover(&dirs);
    let a = catalog
        .modules
        .iter()
        .find(|m| m.name == "heat.engine.plugins.a")
        .unwrap();
    assert_eq!(a.file, one.join("a.py"));
    std::fs::remove_dir_all(&top).unwrap();
}

/// Heat's own loader on the directories: every third-party type registered, with its
/// class and file.
const REGISTRY: &str = r#"
import json, sys
dirs = json.load(sys.stdin)
from oslo_config import cfg
from heat.common import config
from heat.engine import resources
cfg.CONF([], project='heat', default_config_files=[], default_config_dirs=[])
cfg.CONF.set_override('plugin_dirs', dirs)
resources.initialise()
def module_file(cls):
    # The loader hangs each module on its package, not in sys.modules.
    obj = sys.modules['heat.engine.plugins']
    for part in cls.__module__.split('.')[3:]:
        obj = getattr(obj, part)
    return obj.__file__
out = {}
for name, info in resources.global_env().registry._registry.items():
    cls = getattr(info, 'value', None)
    if isinstance(cls, type) and cls.__module__.startswith('heat.engine.plugins'):
        out[name] = {'class': cls.__qualname__, 'file': module_file(cls)}
print(json.dumps(out))
"#;

#[test]
fn types_are_registered_as_heats_loader_registers_them() {
    let dir = scratch("registry");
    let plain = "from heat.engine import resource\n\nclass Widget(resource.Resource):\n    properties_schema = {}\n    def handle_create(self):\n        pass\n\ndef resource_mapping():\n    return {'Acme::Widget': Widget, 'Acme::Twice': Widget}\n";
    write(&dir, "a_plain.py", plain);
    write(
        &dir,
        "b_port.py",
        "from heat.engine.resources.openstack.neutron import port\n\nclass AcmePort(port.Port):\n    def handle_create(self):\n        pass\n\ndef resource_mapping():\n    return {'Acme::Port': AcmePort}\n",
    );
    write(
        &dir,
        "c_lb.py",
        "from heat.engine import resource\n\nclass Pool(resource.Resource):\n    pass\n\nclass Monitor(resource.Resource):\n    def add_dependencies(self, deps):\n        super().add_dependencies(deps)\n\ndef resource_mapping():\n    return {'Acme::LB::Pool': Pool, 'Acme::LB::Monitor': Monitor}\n",
    );
    write(
        &dir,
        "d_cond.py",
        "from heat.engine import resource\ntry:\n    import sqlite3\n    HAVE = True\nexcept ImportError:\n    HAVE = False\n\nclass Thing(resource.Resource):\n    pass\n\nclass Never(resource.Resource):\n    pass\n\ndef resource_mapping():\n    return {'Acme::Cond::Thing': Thing}\n\ndef available_resource_mapping():\n    if HAVE:\n        return resource_mapping()\n    return {'Acme::Cond::Never': Never}\n",
    );
    // Registered again by a later module: Heat keeps the last.
    write(
        &dir,
        "e_again.py",
        "from heat.engine.plugins import a_plain\n\nclass Again(a_plain.Widget):\n    pass\n\ndef resource_mapping():\n    return {'Acme::Twice': Again}\n",
    );
    write(
        &dir,
        "pkg/__init__.py",
        "from heat.engine.resources.openstack.nova import server\n\nclass Box(server.Server):\n    def check_create_complete(self, token):\n        return True\n\ndef available_resource_mapping():\n    return resource_mapping()\n\ndef resource_mapping():\n    return {'Acme::Box': Box}\n",
    );
    let heat = common::python_oracle(REGISTRY, &[], &json!([dir.display().to_string()]));
    let heat = heat.as_object().unwrap();
    let catalog = Catalog::discover(std::slice::from_ref(&dir));
    let last = |c: &str| c.rsplit('.').next().unwrap().to_string();

    // Every type Heat registers, we find, with the same class and file.
    for (t, info) in heat {
        let ours = catalog
            .get(t)
            .unwrap_or_else(|| panic!("Heat registers {t}; we do not find it"));
        assert_eq!(last(&ours.class), info["class"].as_str().unwrap(), "{t}");
        assert_eq!(
            std::fs::canonicalize(&ours.file).unwrap(),
            std::fs::canonicalize(info["file"].as_str().unwrap()).unwrap(),
            "{t}"
        );
    }
    // What we find and Heat does not is a registration only running the code decides,
    // and we say so: never a native graph.
    for (t, p) in &catalog.types {
        if !heat.contains_key(t) {
            assert!(matches!(p.how, How::NeedsHeat(_)), "{t}: {:?}", p.how);
        }
    }
    assert!(catalog.get("Acme::Cond::Never").is_some());
    assert!(!heat.contains_key("Acme::Cond::Never"));
    // How each is computed.
    assert_eq!(catalog.get("Acme::Widget").unwrap().how, How::AsResource);
    assert_eq!(
        catalog.get("Acme::Port").unwrap().how,
        How::As("OS::Neutron::Port".into())
    );
    assert_eq!(
        catalog.get("Acme::Box").unwrap().how,
        How::As("OS::Nova::Server".into())
    );
    assert_eq!(catalog.get("Acme::LB::Pool").unwrap().how, How::AsResource);
    for t in ["Acme::LB::Monitor", "Acme::Cond::Thing", "Acme::Twice"] {
        assert!(
            matches!(catalog.get(t).unwrap().how, How::NeedsHeat(_)),
            "{t}: {:?}",
            catalog.get(t).unwrap().how
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unreadable_module_is_named_when_a_type_is_missing() {
    let dir = scratch("unreadable");
    write(&dir, "broken.py", "def resource_mapping(:\n    return {}\n");
    write(&dir, "compiled.pyc", "not really bytecode");
    let catalog = Catalog::discover(std::slice::from_ref(&dir));
    let unread: Vec<String> = catalog
        .unreadable()
        .map(|(f, why)| format!("{}: {why}", f.display()))
        .collect();
    assert_eq!(unread.len(), 2, "{unread:?}");
    assert!(unread[0].contains("broken.py: Python syntax the parser cannot read at line 1"));
    assert!(unread[1].contains("compiled"), "{unread:?}");
    let hint = catalog.not_found_hint().unwrap();
    assert!(
        hint.contains("broken.py") && hint.contains("--heat-python"),
        "{hint}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
