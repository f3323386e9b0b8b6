//! One plugin module, read with a real Python parser (tree-sitter's Python grammar), down to
//! what decides a resource type's graph: what the module imports, which classes it defines
//! (their bases and the names their bodies define) and what its `resource_mapping()` /
//! `available_resource_mapping()` return.
//!
//! Only what can be read without running the code is taken: a mapping function that is not
//! a plain `return {...}` (or `return other_mapping()`), a class made by a decorator, a
//! metaclass or a base that is not a dotted name, a name bound more than one way: each is
//! kept as *undecidable*, with the reason, never guessed (the caller then needs Heat's own
//! Python). The grammar parses Python 3; a file it cannot parse is named with its line.

use anyhow::{anyhow, Result};
use tree_sitter::{Node, Parser};

/// A module as far as the graph cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleSummary {
    /// Names bound by imports at the top level: (bound name, dotted target). `import a.b`
    /// binds `a` to `a`; `from a import b as c` binds `c` to `a.b`. Relative imports are
    /// resolved against the module's own package.
    pub imports: Vec<(String, String)>,
    /// Classes defined at the top level, in order.
    pub classes: Vec<ClassDef>,
    /// `resource_mapping` and `available_resource_mapping`, when defined at the top level.
    pub mappings: Vec<MappingFn>,
    /// Top-level names bound other than by `import`, `class` or `def` (assignments, `for`,
    /// `with`, names bound inside a top-level `if`/`try`): such a name may not be what a
    /// class or an import says.
    pub rebound: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassDef {
    pub name: String,
    /// 1-based line of the `class` keyword.
    pub line: usize,
    /// Each base as a dotted name (`port.Port`), or `None` when it is not one (a call, a
    /// subscript...).
    pub bases: Vec<Option<String>>,
    /// Why the class itself cannot be read statically (decorated, a metaclass or other
    /// keyword, defined inside an `if`/`try`); `None` when it can.
    pub undecidable: Option<String>,
    /// Every name the class body defines: methods, assigned attributes, nested classes.
    pub members: Vec<String>,
}

/// What one mapping function returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingFn {
    /// `resource_mapping` or `available_resource_mapping`.
    pub name: String,
    pub line: usize,
    pub returns: Returns,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Returns {
    /// `return {'Type': Class, ...}`: each value as a dotted name (None when not one).
    Literal(Vec<(String, Option<String>)>),
    /// `return resource_mapping()`: what that function returns.
    Call(String),
    /// Anything else: the reason, and the type names its dict literals mention (what it may
    /// register, depending on what happens when it runs).
    Undecidable { why: String, mentions: Vec<String> },
}

/// Parses `text`, the module `module` (dotted, e.g. `heat.engine.plugins.acme`), of which
/// `is_package` says whether it is a package's `__init__`.
pub fn summarize(text: &str, module: &str, is_package: bool) -> Result<ModuleSummary> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .map_err(|e| anyhow!("the Python grammar does not load: {e}"))?;
    let tree = parser
        .parse(text, None)
        .ok_or_else(|| anyhow!("the parser gave up"))?;
    let root = tree.root_node();
    if root.has_error() {
        let line = first_error(root).map_or(0, |n| n.start_position().row + 1);
        return Err(anyhow!(
            "Python syntax the parser cannot read at line {line}"
        ));
    }
    let src = text.as_bytes();
    let package = if is_package {
        module.to_string()
    } else {
        module.rsplit_once('.').map_or("", |(p, _)| p).to_string()
    };
    let mut out = ModuleSummary::default();
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        top_level(stmt, src, &package, &mut out, None);
    }
    Ok(out)
}

fn first_error(node: Node) -> Option<Node> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node> = node.children(&mut cursor).collect();
    children
        .into_iter()
        .filter(|c| c.has_error())
        .find_map(first_error)
}

fn text<'a>(node: Node, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

/// One top-level statement. `inside`: the compound statement it sits in (`if`, `try`...),
/// which makes whatever it defines conditional.
fn top_level(stmt: Node, src: &[u8], package: &str, out: &mut ModuleSummary, inside: Option<&str>) {
    match stmt.kind() {
        "import_statement" | "import_from_statement" | "future_import_statement" => {
            for (name, target) in imports(stmt, src, package) {
                if inside.is_some() {
                    out.rebound.push(name.clone());
                }
                out.imports.push((name, target));
            }
        }
        "class_definition" => out.classes.push(class_def(
            stmt,
            src,
            inside.map(|k| format!("it is defined inside a top-level `{k}`")),
        )),
        "function_definition" => {
            let name = field_text(stmt, "name", src);
            if inside.is_some() {
                out.rebound.push(name.clone());
            }
            if is_mapping_name(&name) {
                let returns = match inside {
                    Some(k) => Returns::Undecidable {
                        why: format!("it is defined inside a top-level `{k}`"),
                        mentions: mentions(stmt, src),
                    },
                    None => mapping_returns(stmt, src),
                };
                out.mappings.push(MappingFn {
                    name,
                    line: stmt.start_position().row + 1,
                    returns,
                });
            }
        }
        "decorated_definition" => {
            let Some(def) = stmt.child_by_field_name("definition") else {
                return;
            };
            let name = field_text(def, "name", src);
            match def.kind() {
                "class_definition" => out.classes.push(class_def(
                    def,
                    src,
                    Some("a decorator makes it".to_string()),
                )),
                _ if is_mapping_name(&name) => out.mappings.push(MappingFn {
                    name,
                    line: def.start_position().row + 1,
                    returns: Returns::Undecidable {
                        why: "it is decorated".into(),
                        mentions: mentions(def, src),
                    },
                }),
                _ => out.rebound.push(name),
            }
        }
        "if_statement" | "try_statement" | "with_statement" | "for_statement"
        | "while_statement" | "match_statement" => {
            let kind = stmt.kind().trim_end_matches("_statement").to_string();
            for block in blocks(stmt) {
                let mut cursor = block.walk();
                for inner in block.named_children(&mut cursor) {
                    top_level(inner, src, package, out, Some(&kind));
                }
            }
            // Names bound by the compound statement's own header (`for x in`, `with as`,
            // `except E as e`).
            out.rebound.extend(bound_names(stmt, src));
        }
        "expression_statement" => out.rebound.extend(bound_names(stmt, src)),
        _ => {}
    }
}

fn is_mapping_name(name: &str) -> bool {
    name == "resource_mapping" || name == "available_resource_mapping"
}

/// Every block of a compound statement, its `else`/`elif`/`except`/`finally` clauses too.
fn blocks(stmt: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut cursor = stmt.walk();
    for child in stmt.named_children(&mut cursor) {
        if child.kind() == "block" {
            out.push(child);
        } else if child.kind().ends_with("_clause") || child.kind() == "case_clause" {
            out.extend(blocks(child));
        }
    }
    out
}

/// Identifiers on the left of assignments (or otherwise bound) directly in `node`'s own
/// statement, not inside its blocks.
fn bound_names(node: Node, src: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "assignment" | "augmented_assignment" => {
                if let Some(left) = child.child_by_field_name("left") {
                    identifiers(left, src, &mut out);
                }
                if let Some(right) = child.child_by_field_name("right") {
                    if right.kind() == "assignment" {
                        out.extend(bound_names(child, src));
                    }
                }
            }
            "pattern_list" | "identifier" if node.kind() == "for_statement" => {
                identifiers(child, src, &mut out)
            }
            "as_pattern" | "with_clause" | "with_item" => {
                if let Some(alias) = child.child_by_field_name("alias") {
                    identifiers(alias, src, &mut out);
                }
                out.extend(bound_names(child, src));
            }
            _ => {}
        }
    }
    out
}

fn identifiers(node: Node, src: &[u8], out: &mut Vec<String>) {
    if node.kind() == "identifier" {
        out.push(text(node, src).to_string());
        return;
    }
    if node.kind() == "attribute" || node.kind() == "subscript" {
        return; // binds an attribute or an item, not a name
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        identifiers(child, src, out);
    }
}

fn field_text(node: Node, field: &str, src: &[u8]) -> String {
    node.child_by_field_name(field)
        .map(|n| text(n, src).to_string())
        .unwrap_or_default()
}

/// The names an import statement binds, with their dotted targets.
fn imports(stmt: Node, src: &[u8], package: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor = stmt.walk();
    if stmt.kind() == "import_statement" {
        for name in stmt.children_by_field_name("name", &mut cursor) {
            match name.kind() {
                "aliased_import" => {
                    let target = field_text(name, "name", src);
                    out.push((field_text(name, "alias", src), target));
                }
                _ => {
                    let dotted = text(name, src).to_string();
                    let first = dotted.split('.').next().unwrap_or("").to_string();
                    out.push((first.clone(), first));
                }
            }
        }
        return out;
    }
    let from = match stmt.child_by_field_name("module_name") {
        Some(m) if m.kind() == "relative_import" => relative(m, src, package),
        Some(m) => text(m, src).to_string(),
        None => "__future__".to_string(),
    };
    for name in stmt.children_by_field_name("name", &mut cursor) {
        let (bound, attr) = match name.kind() {
            "aliased_import" => (
                field_text(name, "alias", src),
                field_text(name, "name", src),
            ),
            _ => (text(name, src).to_string(), text(name, src).to_string()),
        };
        let target = if from.is_empty() {
            attr
        } else {
            format!("{from}.{attr}")
        };
        out.push((bound, target));
    }
    out
}

/// `from ..x import y`: the dotted module `..x` names, from the module's package.
fn relative(node: Node, src: &[u8], package: &str) -> String {
    let written = text(node, src);
    let dots = written.chars().take_while(|c| *c == '.').count();
    let rest = written[dots..].trim();
    let mut base: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
    for _ in 1..dots {
        base.pop();
    }
    if !rest.is_empty() {
        base.push(rest);
    }
    base.join(".")
}

fn class_def(node: Node, src: &[u8], undecidable: Option<String>) -> ClassDef {
    let mut undecidable = undecidable;
    let mut bases = Vec::new();
    if let Some(args) = node.child_by_field_name("superclasses") {
        let mut cursor = args.walk();
        for arg in args.named_children(&mut cursor) {
            match arg.kind() {
                "identifier" | "attribute" => bases.push(dotted(arg, src)),
                "comment" => {}
                "keyword_argument" => {
                    undecidable.get_or_insert_with(|| {
                        format!(
                            "its class statement passes `{}=`",
                            field_text(arg, "name", src)
                        )
                    });
                }
                _ => bases.push(None),
            }
        }
    }
    let mut members = Vec::new();
    if let Some(body) = node.child_by_field_name("body") {
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            class_member(stmt, src, &mut members);
        }
    }
    ClassDef {
        name: field_text(node, "name", src),
        line: node.start_position().row + 1,
        bases,
        undecidable,
        members,
    }
}

fn class_member(stmt: Node, src: &[u8], members: &mut Vec<String>) {
    match stmt.kind() {
        "function_definition" | "class_definition" => members.push(field_text(stmt, "name", src)),
        "decorated_definition" => {
            if let Some(def) = stmt.child_by_field_name("definition") {
                members.push(field_text(def, "name", src));
            }
        }
        "expression_statement" => members.extend(bound_names(stmt, src)),
        "import_statement" | "import_from_statement" => {
            members.extend(imports(stmt, src, "").into_iter().map(|(n, _)| n))
        }
        // Whatever a compound statement in a class body binds counts as defined.
        _ => {
            let mut cursor = stmt.walk();
            for child in stmt.named_children(&mut cursor) {
                if child.kind() == "block" || child.kind().ends_with("_clause") {
                    let mut inner = child.walk();
                    for s in child.named_children(&mut inner) {
                        class_member(s, src, members);
                    }
                }
            }
            members.extend(bound_names(stmt, src));
        }
    }
}

/// `a.b.c` from an identifier or attribute chain; `None` for anything else.
fn dotted(node: Node, src: &[u8]) -> Option<String> {
    match node.kind() {
        "identifier" => Some(text(node, src).to_string()),
        "attribute" => {
            let object = dotted(node.child_by_field_name("object")?, src)?;
            let attr = node.child_by_field_name("attribute")?;
            Some(format!("{object}.{}", text(attr, src)))
        }
        _ => None,
    }
}

/// What a mapping function returns, when its body is one `return` (docstrings and
/// comments aside).
fn mapping_returns(def: Node, src: &[u8]) -> Returns {
    let undecidable = |why: &str| Returns::Undecidable {
        why: why.to_string(),
        mentions: mentions(def, src),
    };
    let Some(body) = def.child_by_field_name("body") else {
        return undecidable("it has no body");
    };
    let mut cursor = body.walk();
    let statements: Vec<Node> = body
        .named_children(&mut cursor)
        .filter(|s| s.kind() != "comment")
        .filter(|s| !(s.kind() == "expression_statement" && is_docstring(*s)))
        .collect();
    let [stmt] = statements.as_slice() else {
        return undecidable("its body does more than return a mapping");
    };
    if stmt.kind() != "return_statement" {
        return undecidable("its body does more than return a mapping");
    }
    let Some(value) = stmt.named_child(0) else {
        return undecidable("it returns None");
    };
    match value.kind() {
        "dictionary" => {
            let mut pairs = Vec::new();
            let mut cursor = value.walk();
            for item in value.named_children(&mut cursor) {
                match item.kind() {
                    "pair" => {
                        let key = item
                            .child_by_field_name("key")
                            .and_then(|k| literal(k, src));
                        let Some(key) = key else {
                            return undecidable("a key of its mapping is not a plain string");
                        };
                        let class = item
                            .child_by_field_name("value")
                            .and_then(|v| dotted(v, src));
                        pairs.push((key, class));
                    }
                    "comment" => {}
                    _ => return undecidable("its mapping is built, not written out"),
                }
            }
            Returns::Literal(pairs)
        }
        "call" => {
            let callee = value
                .child_by_field_name("function")
                .and_then(|f| dotted(f, src));
            let no_args = value
                .child_by_field_name("arguments")
                .is_some_and(|a| a.named_child_count() == 0);
            match callee {
                Some(f) if no_args && is_mapping_name(&f) => Returns::Call(f),
                _ => undecidable("it returns what a call computes"),
            }
        }
        _ => undecidable("it returns what an expression computes"),
    }
}

fn is_docstring(stmt: Node) -> bool {
    stmt.named_child_count() == 1 && stmt.named_child(0).is_some_and(|c| c.kind() == "string")
}

/// A plain string literal's value: no prefix, no escape, no interpolation.
fn literal(node: Node, src: &[u8]) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let mut cursor = node.walk();
    let mut value = String::new();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "string_start" => {
                if text(child, src).chars().any(|c| c.is_ascii_alphabetic()) {
                    return None; // b'', f'', r'', u'': not a plain str literal
                }
            }
            "string_content" => {
                if child.named_child_count() > 0 {
                    return None; // an escape sequence or interpolation
                }
                value.push_str(text(child, src));
            }
            "string_end" => {}
            _ => return None,
        }
    }
    Some(value)
}

/// Every plain string key of every dict literal inside `node`.
fn mentions(node: Node, src: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "pair" {
            if let Some(k) = n.child_by_field_name("key").and_then(|k| literal(k, src)) {
                if k.contains("::") {
                    out.push(k);
                }
            }
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> ModuleSummary {
        summarize(text, "heat.engine.plugins.acme", false).unwrap()
    }

    #[test]
    fn imports_classes_and_a_literal_mapping() {
        let m = read(
            "\"\"\"doc\"\"\"\nimport os.path\nfrom heat.engine import resource\nfrom heat.engine.resources.openstack.neutron import port as p\nfrom . import base\n\n\nclass W(resource.Resource):\n    '''A widget.'''\n    PROPS = (SIZE,) = ('size',)\n    properties_schema = {}\n\n    def handle_create(self):\n        pass\n\n    @property\n    def shown(self):\n        return 1\n\n\nclass P(p.Port, base.Mixin):\n    pass\n\n\ndef resource_mapping():\n    # the types\n    return {\n        'Acme::Widget': W,\n        'Acme::Port': P,\n    }\n",
        );
        assert_eq!(
            m.imports,
            vec![
                ("os".to_string(), "os".to_string()),
                ("resource".into(), "heat.engine.resource".into()),
                (
                    "p".into(),
                    "heat.engine.resources.openstack.neutron.port".into()
                ),
                ("base".into(), "heat.engine.plugins.base".into()),
            ]
        );
        assert_eq!(m.classes.len(), 2);
        assert_eq!(m.classes[0].bases, vec![Some("resource.Resource".into())]);
        assert_eq!(
            m.classes[0].members,
            vec![
                "PROPS",
                "SIZE",
                "properties_schema",
                "handle_create",
                "shown"
            ]
        );
        assert_eq!(m.classes[0].line, 8);
        assert_eq!(
            m.classes[1].bases,
            vec![Some("p.Port".into()), Some("base.Mixin".into())]
        );
        assert_eq!(
            m.mappings,
            vec![MappingFn {
                name: "resource_mapping".into(),
                line: 25,
                returns: Returns::Literal(vec![
                    ("Acme::Widget".into(), Some("W".into())),
                    ("Acme::Port".into(), Some("P".into())),
                ]),
            }]
        );
        assert!(m.rebound.is_empty(), "{:?}", m.rebound);
    }

    #[test]
    fn what_cannot_be_read_is_said() {
        let m = read(
            "import six\ntry:\n    import acme_sdk\n    HAVE = True\nexcept ImportError:\n    HAVE = False\n\n@six.add_metaclass(Meta)\nclass A(object):\n    pass\n\nclass B(make_base(), metaclass=Meta):\n    pass\n\ndef resource_mapping():\n    return {'Acme::A': A, 'Acme::B': B}\n\ndef available_resource_mapping():\n    if not HAVE:\n        return {}\n    return resource_mapping()\n",
        );
        assert_eq!(m.rebound, vec!["acme_sdk", "HAVE", "HAVE"]);
        assert!(m.classes[0]
            .undecidable
            .as_deref()
            .unwrap()
            .contains("decorator"));
        assert_eq!(m.classes[1].bases, vec![None]);
        assert!(m.classes[1]
            .undecidable
            .as_deref()
            .unwrap()
            .contains("metaclass"));
        let available = &m.mappings[1];
        assert_eq!(available.name, "available_resource_mapping");
        match &available.returns {
            Returns::Undecidable { mentions, .. } => assert!(mentions.is_empty()),
            other => panic!("{other:?}"),
        }
        let m = read("def available_resource_mapping():\n    return resource_mapping()\n");
        assert_eq!(
            m.mappings[0].returns,
            Returns::Call("resource_mapping".into())
        );
        let m = read("def resource_mapping():\n    m = {'A::B': X}\n    return m\n");
        assert_eq!(
            m.mappings[0].returns,
            Returns::Undecidable {
                why: "its body does more than return a mapping".into(),
                mentions: vec!["A::B".into()]
            }
        );
        let m = read("def resource_mapping():\n    return {'A::' + 'B': X}\n");
        assert!(matches!(m.mappings[0].returns, Returns::Undecidable { .. }));
        let m = read("def resource_mapping():\n    return {b'A::B': X}\n");
        assert!(matches!(m.mappings[0].returns, Returns::Undecidable { .. }));
    }

    #[test]
    fn a_file_that_does_not_parse_is_named_by_line() {
        let e = summarize("import os\n\ndef f(:\n    pass\n", "m", false).unwrap_err();
        assert!(format!("{e}").contains("line 3"), "{e}");
    }

    #[test]
    fn relative_imports_in_a_package() {
        let m = summarize(
            "from .. import top\nfrom .sub import thing\n",
            "heat.engine.plugins.pkg",
            true,
        )
        .unwrap();
        assert_eq!(
            m.imports,
            vec![
                ("top".to_string(), "heat.engine.plugins.top".to_string()),
                ("thing".into(), "heat.engine.plugins.pkg.sub.thing".into()),
            ]
        );
    }
}
