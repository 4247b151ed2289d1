//! The source layout's one rule that a compiler does not check: no import cycles.
//!
//! Rust allows a file to use a module that uses it back, so cycles creep in unnoticed and make
//! parts impossible to read, test or move alone. This test reads every file under `src/` as
//! text, resolves each `use crate::…`/`super::…` path and each inline `crate::…` path to the file
//! that defines the named item (following `pub use` re-exports), and fails on
//!
//! - a file that imports another that (transitively) imports it back, and
//! - a top-level module (`spec`, `run`, `report`, …) that does the same with another.
//!
//! Test code (`#[cfg(test)] mod tests { … }`, `tests.rs` files) is left out: a test may use
//! whatever it needs. `cargo test --test layout -- --nocapture` prints the module graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path (`["spec", "placement"]`) and the file that holds it.
struct Module {
    file: String,
    /// Code with comments, strings and test modules removed.
    code: String,
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/spec/mod.rs` → `spec`, `src/spec/placement.rs` → `spec::placement`, `src/lib.rs` → ``.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Removes comments, string and char literals, and `#[cfg(test)]` items (with their bodies).
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) {
            // Raw string: r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            if j < b.len() && b[j] == b'"' {
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = j + close.len();
                out.push_str("\"\"");
            } else {
                out.push(b[i] as char);
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\''
            && i + 2 < b.len()
            && (b[i + 2] == b'\'' || (b[i + 1] == b'\\' && i + 3 < b.len()))
        {
            // A char literal ('a', '\n', '\''); lifetimes ('a) are left alone.
            let mut j = i + 1;
            if b[j] == b'\\' {
                j += 2;
            } else {
                j += 1;
            }
            while j < b.len() && b[j] != b'\'' && j - i < 12 {
                j += 1;
            }
            i = j + 1;
            out.push_str("' '");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    drop_test_items(&out)
}

/// Removes every item that follows `#[cfg(test)]`, up to its closing brace or semicolon.
fn drop_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let b = after.as_bytes();
        let mut depth = 0;
        let mut end = after.len();
        for (k, &c) in b.iter().enumerate() {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Expands a use tree (`a::{b, c::{d, e as f}}`) into full paths (`a::b`, `a::c::d`, `a::c::e`).
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    expand_into("", &tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else if s.is_empty() {
            p.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::").trim();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = join(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (k, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_into(&base, &inner[start..k], out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand_into(&base, &inner[start..], out);
    } else if !tree.is_empty() {
        // `x as y` imports x.
        let path = tree.split_whitespace().next().unwrap_or(tree);
        out.push(join(prefix, path.trim_end_matches("::")));
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Items a module file defines: `struct X`, `fn x`, `mod x`, …
fn definitions(code: &str) -> BTreeSet<String> {
    let mut defs = BTreeSet::new();
    let words: Vec<&str> = code
        .split(|c: char| !is_ident_char(c) && c != '!')
        .filter(|w| !w.is_empty())
        .collect();
    for w in words.windows(2) {
        if matches!(
            w[0],
            "struct" | "enum" | "fn" | "trait" | "type" | "const" | "static" | "mod" | "union"
        ) || w[0] == "macro_rules!"
        {
            defs.insert(w[1].to_string());
        }
    }
    defs
}

/// Every `use` statement's expanded paths, with whether it is a re-export (`pub use`).
fn uses(code: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while let Some(at) = code[i..].find("use ") {
        let start = i + at;
        i = start + 4;
        let before = code[..start].trim_end();
        let at_statement = before.is_empty()
            || before.ends_with(';')
            || before.ends_with('{')
            || before.ends_with('}')
            || before.ends_with(']')
            || before.ends_with("pub")
            || before.ends_with(')');
        if start > 0 && is_ident_char(b[start - 1] as char) || !at_statement {
            continue;
        }
        let public = before.ends_with("pub") || before.ends_with(')') && before.contains("pub(");
        let Some(end) = code[i..].find(';') else {
            break;
        };
        for p in expand(&code[i..i + end]) {
            out.push((p, public));
        }
        i += end;
    }
    out
}

/// Paths written inline (outside use statements) that start with `crate::`, `super::`,
/// `self::` or the name of one of `children` (the module's own submodules).
fn inline_paths(code: &str, children: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while let Some(at) = code[i..].find("::") {
        let colons = i + at;
        i = colons + 2;
        let mut start = colons;
        while start > 0 && is_ident_char(b[start - 1] as char) {
            start -= 1;
        }
        if start > 0 && b[start - 1] == b':' {
            continue; // the middle of a longer path, seen from its start
        }
        let first = &code[start..colons];
        if !(matches!(first, "crate" | "super" | "self") || children.contains(first)) {
            continue;
        }
        let path: String = code[start..]
            .chars()
            .take_while(|&c| is_ident_char(c) || c == ':')
            .collect();
        if code[start + path.len()..].starts_with('{') {
            continue; // a use tree (`crate::spec::{…}`): its paths come from `uses`
        }
        out.push(path.trim_end_matches(':').to_string());
    }
    out
}

struct Graph {
    modules: BTreeMap<Vec<String>, Module>,
}

impl Graph {
    fn load(src: &Path) -> Graph {
        let mut files = Vec::new();
        collect(src, &mut files);
        let mut modules = BTreeMap::new();
        for f in files {
            let rel = f.strip_prefix(src).unwrap();
            let path = module_path(rel);
            if path.last().is_some_and(|p| p == "tests") || rel == Path::new("main.rs") {
                continue;
            }
            let text = fs::read_to_string(&f).unwrap();
            modules.insert(
                path,
                Module {
                    file: format!("src/{}", rel.display()),
                    code: strip(&text),
                },
            );
        }
        Graph { modules }
    }

    /// Turns a path as written in `from` into an absolute module path.
    fn absolute(&self, from: &[String], path: &str) -> Option<Vec<String>> {
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let (mut base, rest): (Vec<String>, &[&str]) = match segs.first().copied() {
            Some("crate") => (Vec::new(), &segs[1..]),
            Some("self") => (from.to_vec(), &segs[1..]),
            Some("super") => {
                let mut base = from.to_vec();
                let mut k = 0;
                while segs.get(k) == Some(&"super") {
                    base.pop();
                    k += 1;
                }
                (base, &segs[k..])
            }
            Some(first) => {
                let mut child = from.to_vec();
                child.push(first.to_string());
                if self.modules.contains_key(&child) {
                    (from.to_vec(), &segs[..])
                } else {
                    return None; // an external crate or std
                }
            }
            None => return None,
        };
        base.extend(rest.iter().map(|s| s.to_string()));
        Some(base)
    }

    /// The file that defines what `abs` names, following re-exports.
    fn resolve(&self, abs: &[String], depth: usize) -> Option<Vec<String>> {
        if depth > 8 {
            return None;
        }
        // The longest prefix that is a module file.
        let mut k = abs.len();
        while k > 0 && !self.modules.contains_key(&abs[..k]) {
            k -= 1;
        }
        let module = abs[..k].to_vec();
        let m = self.modules.get(&module)?;
        let Some(item) = abs.get(k) else {
            return Some(module);
        };
        if item == "*" || definitions(&m.code).contains(item) {
            return Some(module);
        }
        for (path, public) in uses(&m.code) {
            if !public {
                continue;
            }
            let name = path.rsplit("::").next().unwrap_or("");
            if name == item || name == "*" {
                if let Some(target) = self.absolute(&module, &path) {
                    if let Some(file) = self.resolve(&target, depth + 1) {
                        return Some(file);
                    }
                }
            }
        }
        Some(module)
    }

    /// File → files it imports.
    fn edges(&self) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
        let mut edges = BTreeMap::new();
        for (path, m) in &self.modules {
            let mut to = BTreeSet::new();
            let children: BTreeSet<String> = self
                .modules
                .keys()
                .filter(|k| k.len() == path.len() + 1 && k.starts_with(path))
                .map(|k| k[path.len()].clone())
                .collect();
            let written = uses(&m.code)
                .into_iter()
                .map(|(p, _)| p)
                .chain(inline_paths(&m.code, &children));
            for p in written {
                if let Some(abs) = self.absolute(path, &p) {
                    if let Some(target) = self.resolve(&abs, 0) {
                        if &target != path && !target.is_empty() {
                            to.insert(target);
                        }
                    }
                }
            }
            edges.insert(path.clone(), to);
        }
        edges
    }
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles<T: Ord + Clone>(edges: &BTreeMap<T, BTreeSet<T>>) -> Vec<Vec<T>> {
    struct State<T> {
        index: BTreeMap<T, usize>,
        low: BTreeMap<T, usize>,
        stack: Vec<T>,
        on_stack: BTreeSet<T>,
        next: usize,
        out: Vec<Vec<T>>,
    }
    fn visit<T: Ord + Clone>(v: &T, edges: &BTreeMap<T, BTreeSet<T>>, s: &mut State<T>) {
        s.index.insert(v.clone(), s.next);
        s.low.insert(v.clone(), s.next);
        s.next += 1;
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(v, edges, &mut s);
        }
    }
    s.out
}

fn graph() -> (Graph, BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = Graph::load(&src);
    let e = g.edges();
    (g, e)
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let (g, edges) = graph();
    let found = cycles(&edges);
    let mut report = String::new();
    for comp in &found {
        report.push_str("cycle:\n");
        for v in comp {
            for w in &edges[v] {
                if comp.contains(w) {
                    report.push_str(&format!(
                        "  {} -> {}\n",
                        g.modules[v].file, g.modules[w].file
                    ));
                }
            }
        }
    }
    assert!(found.is_empty(), "import cycles between files:\n{report}");
}

#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let (_, edges) = graph();
    let top = |p: &Vec<String>| p.first().cloned().unwrap_or_else(|| "lib".into());
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in &edges {
        let entry = modules.entry(top(from)).or_default();
        for t in to {
            if top(t) != top(from) {
                entry.insert(top(t));
            }
        }
    }
    println!("module graph (module -> modules it imports):");
    for (m, to) in &modules {
        println!(
            "  {m} -> {}",
            to.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let found = cycles(&modules);
    assert!(
        found.is_empty(),
        "import cycles between top-level modules: {found:?}\n(each list is a set of modules that import each other; see the graph above with --nocapture)"
    );
}

#[test]
fn the_checker_sees_a_cycle_and_resolves_re_exports() {
    // The checker itself, on a small tree: a imports b's re-export of c::X, c imports a.
    let dir = std::env::temp_dir().join(format!("layout-check-{}", std::process::id()));
    let src = dir.join("src");
    fs::create_dir_all(src.join("b")).unwrap();
    fs::write(src.join("lib.rs"), "pub mod a; pub mod b;").unwrap();
    fs::write(src.join("a.rs"), "use crate::b::X;\npub fn f() {}\n").unwrap();
    fs::write(src.join("b/mod.rs"), "mod c;\npub use c::X;\n").unwrap();
    fs::write(
        src.join("b/c.rs"),
        "// crate::a::f in a comment is not an import\npub struct X;\nfn g() { crate::a::f() }\n#[cfg(test)]\nmod tests { use crate::a; }\n",
    )
    .unwrap();
    let g = Graph::load(&src);
    let edges = g.edges();
    let a = vec!["a".to_string()];
    let c = vec!["b".to_string(), "c".to_string()];
    assert!(edges[&a].contains(&c), "{edges:?}");
    assert_eq!(cycles(&edges), vec![vec![a.clone(), c.clone()]]);
    fs::write(src.join("b/c.rs"), "pub struct X;\n").unwrap();
    let g = Graph::load(&src);
    assert!(cycles(&g.edges()).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}
