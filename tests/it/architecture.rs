//! The layout of `src/` keeps the architecture visible: no cycle among the library's top-level
//! modules, `config` depends on none of the stages it configures, no source file is over 1,000
//! lines, and only `src/store/` runs SQL. Read from the source tree, so a failure names the files
//! (and lines) to look at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest a source file may be.
const MAX_LINES: usize = 1_000;

/// What `config` may import: the shared record types, which configure nothing.
const CONFIG_MAY_IMPORT: &[&str] = &["model"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a source directory") {
            let path = entry.expect("read a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The top-level modules the library declares in `src/lib.rs`.
fn top_level_modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read src/lib.rs");
    lib.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            Some(rest.strip_suffix(';')?.trim().to_string())
        })
        .collect()
}

/// The source files of a top-level module: `src/<name>.rs` and everything under `src/<name>/`.
fn module_files(name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = src().join(format!("{name}.rs"));
    if single.is_file() {
        files.push(single);
    }
    let dir = src().join(name);
    if dir.is_dir() {
        files.extend(rust_files(&dir));
    }
    files
}

/// A line without its `//` comment (doc comments included), as far as a line can tell.
fn code_of(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    match line.find(" // ") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The top-level modules a piece of code names through `crate::<module>`, including those of a
/// `use crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                names.push(leading_ident(item.trim()));
            }
        } else {
            names.push(leading_ident(rest));
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

fn leading_ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Module to module, with the first place each dependency is written (`file:line`).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn module_graph() -> Graph {
    let modules = top_level_modules();
    let known: BTreeSet<&str> = modules.iter().map(String::as_str).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut graph = Graph::new();
    for module in &modules {
        let edges = graph.entry(module.clone()).or_default();
        for file in module_files(module) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            // A group may span lines: read each statement from its `crate::` to its `}`.
            let code: Vec<&str> = text.lines().map(code_of).collect();
            for (index, line) in code.iter().enumerate() {
                let mut statement = line.to_string();
                if line.contains("crate::{") && !line.contains('}') {
                    for next in code.iter().skip(index + 1) {
                        statement.push_str(next);
                        if next.contains('}') {
                            break;
                        }
                    }
                }
                for name in crate_paths(&statement) {
                    if name != *module && known.contains(name.as_str()) {
                        let place = file.strip_prefix(root).unwrap_or(&file).display();
                        edges
                            .entry(name)
                            .or_insert_with(|| format!("{place}:{}", index + 1));
                    }
                }
            }
        }
    }
    graph
}

/// A cycle of the graph, as the modules along it (the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnPath,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::OnPath);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            match marks.get(next).copied().unwrap_or(Mark::Unvisited) {
                Mark::OnPath => {
                    let start = path.iter().position(|n| n == next).expect("on the path");
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::Unvisited => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::Unvisited) == Mark::Unvisited {
            if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = module_graph();
    assert!(
        graph.len() > 5,
        "expected the library's modules in src/lib.rs, found {:?}",
        graph.keys().collect::<Vec<_>>()
    );
    if let Some(cycle) = find_cycle(&graph) {
        let places: Vec<String> = cycle
            .windows(2)
            .map(|pair| {
                format!(
                    "  {} -> {}: {}",
                    pair[0], pair[1], graph[&pair[0]][&pair[1]]
                )
            })
            .collect();
        panic!(
            "the top-level modules form a cycle: {}\n{}",
            cycle.join(" -> "),
            places.join("\n")
        );
    }
}

#[test]
fn config_imports_no_stage() {
    let graph = module_graph();
    let config = graph.get("config").expect("a config module");
    let stages: Vec<String> = config
        .iter()
        .filter(|(name, _)| !CONFIG_MAY_IMPORT.contains(&name.as_str()))
        .map(|(name, place)| format!("  config -> {name}: {place}"))
        .collect();
    assert!(
        stages.is_empty(),
        "config must hold plain data and import none of the stages it configures:\n{}",
        stages.join("\n")
    );
}

#[test]
fn no_source_file_is_over_the_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    let mut lengths = BTreeMap::new();
    for file in rust_files(&src()) {
        let relative = file
            .strip_prefix(root)
            .expect("under the manifest directory")
            .to_string_lossy()
            .replace('\\', "/");
        let lines = std::fs::read_to_string(&file)
            .expect("read a source file")
            .lines()
            .count();
        lengths.insert(relative.clone(), lines);
        if lines > MAX_LINES {
            long.push(format!("  {relative}: {lines} lines"));
        }
    }
    assert!(
        lengths.len() > 20,
        "expected the source files under src/, found {}",
        lengths.len()
    );
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (split them by what they own):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_reader_finds_imports_however_they_are_written() {
    assert_eq!(crate_paths("use crate::model::Lang;"), ["model"]);
    assert_eq!(
        crate_paths("use crate::{config::Config, store::Store};"),
        ["config", "store"]
    );
    assert_eq!(
        crate_paths("let x = crate::site::Profile::builtin(name);"),
        ["site"]
    );
    assert!(crate_paths("use briefwatch_crate::model;").is_empty());
    assert_eq!(code_of("    //! See `crate::site`."), "");
    assert_eq!(code_of("let a = 1; // crate::web"), "let a = 1;");
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph
            .entry(from.into())
            .or_default()
            .insert(to.into(), String::new());
    }
    assert_eq!(find_cycle(&graph).expect("a cycle"), ["a", "b", "c", "a"]);
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&graph), None);
}

/// Files outside `src/store/` that may still name `rusqlite` in library code, and why: they hand
/// the connection a store function runs on through to it, and run no SQL themselves.
const MAY_NAME_RUSQLITE: &[(&str, &str)] = &[
    (
        "src/alert/mod.rs",
        "the outbox's SQLite error inside the alert error",
    ),
    (
        "src/alert/outbox.rs",
        "passes the caller's connection to store::outbox",
    ),
    (
        "src/alert/ingest.rs",
        "passes the ingest transaction's connection to the outbox",
    ),
    (
        "src/alert/sender.rs",
        "holds the sender's own connection from store::outbox::open",
    ),
    (
        "src/search/mod.rs",
        "passes the caller's connection to store::search",
    ),
];

/// What running SQL looks like in Rust code: rusqlite's calls that run statements, and the start
/// of a statement in a string.
const RUNS_SQL: &[&str] = &[
    ".execute(",
    ".execute_batch(",
    ".prepare(",
    ".prepare_cached(",
    ".query_row(",
    ".query_map(",
    ".pragma_update",
    ".pragma_query",
    "unchecked_transaction(",
    "transaction_with_behavior(",
    "\"SELECT ",
    "\"INSERT ",
    "\"UPDATE ",
    "\"DELETE ",
    "\"CREATE ",
    "\"PRAGMA ",
    "\"VACUUM ",
    "\"BEGIN",
];

/// The lines of `text` outside `#[cfg(test)]` modules, numbered from 1, without their comments;
/// and the names of test modules declared there that live in files of their own (`mod tests;`).
fn library_lines(text: &str) -> (Vec<(usize, &str)>, Vec<String>) {
    let mut lines = Vec::new();
    let mut own_files = Vec::new();
    let mut test_attribute = false;
    // Brace depth inside a test module, while in one.
    let mut in_test: Option<i64> = None;
    for (index, line) in text.lines().enumerate() {
        let code = code_of(line);
        if let Some(depth) = in_test.as_mut() {
            let braces = code.replace("'{'", "").replace("'}'", "");
            *depth += braces.matches('{').count() as i64 - braces.matches('}').count() as i64;
            if *depth <= 0 {
                in_test = None;
            }
            continue;
        }
        let trimmed = code.trim();
        if test_attribute {
            let declaration = trimmed.strip_prefix("pub ").unwrap_or(trimmed);
            if let Some(name) = declaration
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'))
            {
                own_files.push(name.trim().to_string());
                test_attribute = false;
                continue;
            }
            if declaration.starts_with("mod ") && trimmed.ends_with('{') {
                in_test = Some(1);
                test_attribute = false;
                continue;
            }
            if !trimmed.starts_with("#[") {
                test_attribute = false;
            }
        }
        if trimmed == "#[cfg(test)]" {
            test_attribute = true;
            continue;
        }
        lines.push((index + 1, code));
    }
    (lines, own_files)
}

/// Every library source file outside `src/store/` with its lines outside test modules, paths
/// relative to the manifest directory.
fn library_code_outside_the_store() -> Vec<(String, Vec<(usize, String)>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = rust_files(&src());
    let mut test_files = BTreeSet::new();
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let (lines, own_files) = library_lines(&text);
        // `a/mod.rs` and `a.rs` declare the modules of `a/`; `main.rs` and `lib.rs` those of `src/`.
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let dir = file.parent().expect("a file has a directory");
        let children = if ["mod", "lib", "main"].contains(&stem) {
            dir.to_path_buf()
        } else {
            dir.join(stem)
        };
        for name in own_files {
            test_files.insert(children.join(format!("{name}.rs")));
            test_files.insert(children.join(name).join("mod.rs"));
        }
        let relative = file
            .strip_prefix(root)
            .expect("under the manifest directory")
            .to_string_lossy()
            .replace('\\', "/");
        let lines = lines
            .into_iter()
            .map(|(number, code)| (number, code.to_string()))
            .collect();
        found.push((file.clone(), relative, lines));
    }
    found
        .into_iter()
        .filter(|(file, relative, _)| {
            !relative.starts_with("src/store/") && !test_files.contains(file)
        })
        .map(|(_, relative, lines)| (relative, lines))
        .collect()
}

#[test]
fn only_the_store_runs_sql() {
    let files = library_code_outside_the_store();
    assert!(
        files.len() > 20,
        "expected the source files under src/, found {}",
        files.len()
    );
    let mut sql = Vec::new();
    let mut rusqlite = Vec::new();
    let mut named = BTreeSet::new();
    for (file, lines) in &files {
        for (number, code) in lines {
            if let Some(call) = RUNS_SQL.iter().find(|call| code.contains(*call)) {
                sql.push(format!("  {file}:{number}: {call} in `{}`", code.trim()));
            }
            if code.contains("rusqlite") {
                named.insert(file.clone());
                if !MAY_NAME_RUSQLITE.iter().any(|(allowed, _)| allowed == file) {
                    rusqlite.push(format!("  {file}:{number}: `{}`", code.trim()));
                }
            }
        }
    }
    assert!(
        sql.is_empty(),
        "only src/store/ runs SQL; move these statements into the store file of their table \
         (or src/store/reads.rs) as a typed method:\n{}",
        sql.join("\n")
    );
    assert!(
        rusqlite.is_empty(),
        "only src/store/ uses rusqlite; give these a store method or a store type instead:\n{}",
        rusqlite.join("\n")
    );
    let stale: Vec<&str> = MAY_NAME_RUSQLITE
        .iter()
        .map(|(file, _)| *file)
        .filter(|file| !named.contains(*file))
        .collect();
    assert!(
        stale.is_empty(),
        "these files no longer name rusqlite: take them off MAY_NAME_RUSQLITE: {stale:?}"
    );
}

#[test]
fn the_sql_reader_skips_test_modules_and_comments() {
    let text = "use crate::store::Store;\n\
                // conn.execute(\"DELETE FROM x\")\n\
                fn live() { conn.query_row(\"SELECT 1\", [], |r| r.get(0)); }\n\
                #[cfg(test)]\n\
                mod tests {\n\
                    fn fixture() { conn.execute(\"INSERT INTO x VALUES (1)\", []); }\n\
                    fn nested() { if true { let c = '}'; } }\n\
                }\n\
                fn after() { rusqlite::Connection::open(path); }\n\
                #[cfg(test)]\n\
                mod fixtures;\n";
    let (lines, own_files) = library_lines(text);
    let numbers: Vec<usize> = lines.iter().map(|(number, _)| *number).collect();
    assert_eq!(numbers, [1, 2, 3, 9]);
    assert_eq!(lines[1].1, "", "a comment is not code");
    assert!(lines[2].1.contains(".query_row("));
    assert_eq!(own_files, ["fixtures"]);
}
