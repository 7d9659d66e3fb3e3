//! The layer rules of ARCHITECTURE.md, enforced: every `crate::` path in a
//! top-level module must name a module of a lower layer, so no module
//! reaches up and there is no cycle. A new edge that breaks this fails here
//! with the file and line to look at.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules, lowest layer first; a module may use the modules of
/// lower layers only (never its own layer's neighbours, never a higher one).
const LAYERS: &[&[&str]] = &[
    &["loadtest", "metrics", "blocking"],
    &["cli"],
    &["config", "logging"],
    &["library"],
    &["catalog"],
    &["store", "events", "media"],
    &["jobs"],
    &["scan", "import", "people", "chat"],
    &["app"],
    &["http"],
    &["commands"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source text names through `crate::`, with the
/// line of each use; unit-test modules (`#[cfg(test)] mod tests`) are left
/// out (they may build fixtures from anywhere).
fn crate_uses(text: &str) -> Vec<(String, usize)> {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or("");
                group.split(',').map(|x| x.trim().split("::").next().unwrap_or("").to_string()).collect()
            } else {
                vec![rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()]
            };
            out.extend(names.into_iter().filter(|x| !x.is_empty()).map(|x| (x, n + 1)));
        }
    }
    out
}

#[test]
fn modules_only_use_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut known = BTreeMap::new();
    let mut broken = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
        let module = first.trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(mine) = layer_of(module) else {
            broken.push(format!("src/{first}: a top-level module missing from LAYERS (and from ARCHITECTURE.md)"));
            continue;
        };
        known.insert(module.to_string(), mine);
        let text = std::fs::read_to_string(&file).unwrap();
        for (used, line) in crate_uses(&text) {
            if used == module || matches!(used.as_str(), "App" | "Outcome" | "ServeError" | "serve" | "run") {
                // Its own items, or the crate root's re-exports (checked below).
                if used == "App" && layer_of(module).is_some_and(|l| l < layer_of("app").unwrap()) {
                    broken.push(format!("src/{}:{line}: {module} uses crate::App (the app layer)", rel.display()));
                }
                continue;
            }
            match layer_of(&used) {
                Some(theirs) if theirs < mine => {}
                Some(_) => broken.push(format!("src/{}:{line}: {module} must not use {used}", rel.display())),
                None => broken.push(format!("src/{}:{line}: crate::{used} is not a known module", rel.display())),
            }
        }
    }
    assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
    assert!(known.len() >= 15, "every top-level module was read: {known:?}");
}

#[test]
fn the_checker_catches_upward_uses() {
    let uses = crate_uses("use crate::http::route;\nuse crate::{app::App, store::Store};\n// crate::x\n");
    let names: Vec<&str> = uses.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["http", "app", "store"]);
    assert!(layer_of("store") < layer_of("http"));
    assert!(crate_uses("#[cfg(test)]\nmod tests {\n use crate::http::x;\n}").is_empty());
}
