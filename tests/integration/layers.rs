//! The layer rules of ARCHITECTURE.md, enforced on the code as the compiler
//! sees it: the crate's module tree is followed from `src/lib.rs` through
//! its `mod` declarations, every file is parsed with `syn`, and every path
//! that leaves a module (`use` trees however rustfmt wraps them, paths in
//! code and types, paths inside macro calls; `crate::`, `self::` and any
//! number of `super::`) is resolved to the module it names.
//!
//! Two rules follow from the graph:
//! - a top-level module uses only modules of lower layers (`LAYERS`);
//! - no cycle between second-level modules (`media::inside`,
//!   `http::handlers`, …): each folder module's parts form a one-way graph
//!   too.
//!
//! Code under `#[cfg(test)]` is left out: unit tests may build fixtures
//! from anywhere. A failure names the file and line of each offending path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// Top-level modules, lowest layer first; a module may use the modules of
/// lower layers only (never its own layer's neighbours, never a higher one).
const LAYERS: &[&[&str]] = &[
    &["loadtest", "metrics", "blocking", "container", "dial"],
    &["cli", "tls"],
    &["config", "logging"],
    &["library"],
    &["catalog"],
    &["store", "events", "media"],
    &["jobs"],
    &["scan", "import", "people", "chat"],
    &["app"],
    &["dlna"],
    &["http"],
    &["commands"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// One module of the crate: its path from the root (`["media", "inside",
/// "mkv"]`).
struct Module {
    path: Vec<String>,
}

/// A path that leaves its module: from which module, resolved to which
/// module path (not yet cut to a node), and where it was written.
struct Use {
    from: Vec<String>,
    to: Vec<String>,
    file: String,
    line: usize,
}

/// The crate as the tests see it: file names relative to `src/` and a way
/// to read them, so the checker runs on the real tree and on planted ones.
struct Crate<'a> {
    read: &'a dyn Fn(&str) -> Option<String>,
    /// Whether a relative path names a folder (`media` for `media/`).
    is_dir: &'a dyn Fn(&str) -> bool,
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<TokenStream>().is_ok_and(|t| t.to_string().split_whitespace().any(|w| w == "test"))
    })
}

/// Expands a use tree into the full paths it names (`a::{b, c::{d, e}}`
/// gives `a::b`, `a::c::d`, `a::c::e`); a glob names the module itself.
fn expand(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            expand(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut full = prefix.clone();
            if n.ident != "self" {
                full.push(n.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                expand(t, prefix, out);
            }
        }
    }
}

/// Resolves a written path against the module it is written in: `crate::`
/// from the root, `self::` and `super::` from the module; other paths are
/// not this crate's (std, dependencies) unless they start with one of the
/// module's own children, which stays inside the module and is no edge.
fn resolve(module: &[String], segs: &[String]) -> Option<Vec<String>> {
    let first = segs.first()?;
    match first.as_str() {
        "crate" => Some(segs[1..].to_vec()),
        "self" | "super" => {
            let mut base = module.to_vec();
            let mut rest = segs;
            if rest[0] == "self" {
                rest = &rest[1..];
            }
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            Some(base)
        }
        // At the crate root a bare path may name a top-level module
        // (`pub use app::App;`); kept, and sorted out by the caller.
        _ if module.is_empty() => Some(segs.to_vec()),
        _ => None,
    }
}

/// Collects the paths of one file, module by module (inline `mod` blocks
/// included), skipping `#[cfg(test)]` items.
struct Collector<'c> {
    module: Vec<String>,
    file: String,
    uses: &'c mut Vec<Use>,
    children: &'c mut Vec<(Vec<String>, String)>,
}

impl Collector<'_> {
    fn add(&mut self, segs: Vec<String>, line: usize) {
        if let Some(to) = resolve(&self.module, &segs) {
            self.uses.push(Use { from: self.module.clone(), to, file: self.file.clone(), line });
        }
    }

    /// Paths inside macro calls (`html! { … }`, `format!(…)`) are tokens to
    /// syn; find `crate`/`self`/`super` followed by `::` idents in them.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            if let TokenTree::Group(g) = &trees[i] {
                self.scan_tokens(g.stream());
            }
            if let TokenTree::Ident(id) = &trees[i] {
                let name = id.to_string();
                if matches!(name.as_str(), "crate" | "self" | "super") {
                    let line = id.span().start().line;
                    let mut segs = vec![name];
                    let mut j = i + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(next))) =
                        (trees.get(j), trees.get(j + 1), trees.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segs.push(next.to_string());
                        j += 3;
                    }
                    if segs.len() > 1 {
                        self.add(segs, line);
                    }
                    i = j;
                    continue;
                }
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Type(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_cfg_test(attrs) {
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let mut path = self.module.clone();
        path.push(m.ident.to_string());
        match &m.content {
            None => self.children.push((path, self.file.clone())),
            Some((_, items)) => {
                let outer = std::mem::replace(&mut self.module, path);
                for item in items {
                    self.visit_item(item);
                }
                self.module = outer;
            }
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        expand(&u.tree, &mut Vec::new(), &mut paths);
        let line = u.use_token.span.start().line;
        for p in paths {
            self.add(p, line);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = p.segments.first() {
            self.add(segs, first.ident.span().start().line);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }
}

impl Crate<'_> {
    /// Every module reachable from `lib.rs` through `mod` declarations, and
    /// every path that leaves one. Panics on a file that does not parse.
    fn read_all(&self) -> (Vec<Module>, Vec<Use>) {
        let mut modules = Vec::new();
        let mut uses = Vec::new();
        let mut todo: Vec<(Vec<String>, String)> = vec![(Vec::new(), "lib.rs".to_string())];
        while let Some((path, file)) = todo.pop() {
            let text = (self.read)(&file).unwrap_or_else(|| panic!("src/{file}: declared but not found"));
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("src/{file}: {e}"));
            let mut children = Vec::new();
            let mut c =
                Collector { module: path.clone(), file: file.clone(), uses: &mut uses, children: &mut children };
            c.visit_file(&ast);
            for (child, declared_in) in children {
                todo.push((child.clone(), self.child_file(&declared_in, &child)));
            }
            modules.push(Module { path });
        }
        (modules, uses)
    }

    /// The file of a `mod name;` declared in `parent_file`.
    fn child_file(&self, parent_file: &str, child: &[String]) -> String {
        let name = child.last().expect("a declared module has a name");
        let dir = match parent_file.rsplit_once('/') {
            _ if parent_file == "lib.rs" => String::new(),
            Some((dir, "mod.rs")) => format!("{dir}/"),
            Some((_, _)) | None => format!("{}/", parent_file.trim_end_matches(".rs")),
        };
        let flat = format!("{dir}{name}.rs");
        if (self.read)(&flat).is_some() {
            flat
        } else {
            format!("{dir}{name}/mod.rs")
        }
    }

    /// The second-level node of a module path: a top-level file module is a
    /// node itself; in a folder module, each child is one (deeper modules
    /// fold into it); a folder's own `mod.rs` items are no node.
    fn node_of(&self, path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<String> {
        let top = path.first()?;
        if !(self.is_dir)(top) {
            return Some(top.clone());
        }
        let child = path.get(1)?;
        modules.contains(&vec![top.clone(), child.clone()]).then(|| format!("{top}::{child}"))
    }
}

/// Re-exports at the crate root (`pub use app::App;` in lib.rs): a path
/// through `crate::App` names the module the item comes from.
fn root_reexports(uses: &[Use], tops: &BTreeSet<String>) -> BTreeMap<String, Vec<String>> {
    uses.iter()
        .filter(|u| u.from.is_empty() && u.file == "lib.rs" && u.to.len() > 1 && tops.contains(&u.to[0]))
        .map(|u| (u.to.last().cloned().unwrap_or_default(), u.to.clone()))
        .collect()
}

/// Checks the crate; returns one line per broken rule.
fn check(krate: &Crate) -> Vec<String> {
    let (modules, uses) = krate.read_all();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    let tops: BTreeSet<String> = modules.iter().filter(|m| m.path.len() == 1).map(|m| m.path[0].clone()).collect();
    let reexports = root_reexports(&uses, &tops);
    let mut broken = Vec::new();
    for top in &tops {
        if layer_of(top).is_none() {
            broken.push(format!("src: top-level module `{top}` is missing from LAYERS (and from ARCHITECTURE.md)"));
        }
    }
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for u in &uses {
        if u.from.is_empty() || u.to.is_empty() {
            continue; // lib.rs declares and re-exports; it is the top.
        }
        let mut to = u.to.clone();
        if to.len() == 1 && !tops.contains(&to[0]) {
            match reexports.get(&to[0]) {
                Some(real) => to = real.clone(),
                None => continue, // an item of lib.rs itself (`crate::serve`)
            }
        }
        let (mine, theirs) = (&u.from[0], &to[0]);
        if mine != theirs {
            match (layer_of(mine), layer_of(theirs)) {
                (Some(a), Some(b)) if b < a => {}
                (Some(_), Some(_)) => broken.push(format!("src/{}:{}: {mine} must not use {theirs}", u.file, u.line)),
                _ => {}
            }
        }
        if let (Some(a), Some(b)) = (krate.node_of(&u.from, &known), krate.node_of(&to, &known)) {
            if a != b {
                edges.entry(a).or_default().entry(b).or_insert_with(|| format!("src/{}:{}", u.file, u.line));
            }
        }
    }
    for cycle in cycles(&edges) {
        let ties: Vec<String> = cycle
            .iter()
            .flat_map(|a| {
                edges[a].iter().filter(|(b, _)| cycle.contains(b)).map(move |(b, at)| format!("    {a} -> {b} ({at})"))
            })
            .collect();
        broken.push(format!("a cycle between {}:\n{}", cycle.join(", "), ties.join("\n")));
    }
    broken
}

/// Strongly connected components of more than one node (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    struct Tarjan<'e> {
        edges: &'e BTreeMap<String, BTreeMap<String, String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        out: Vec<Vec<String>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &str) {
            let n = self.index.len();
            self.index.insert(v.to_string(), n);
            self.low.insert(v.to_string(), n);
            self.stack.push(v.to_string());
            for w in self.edges.get(v).map(|e| e.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let l = self.low[v].min(self.low[&w]);
                    self.low.insert(v.to_string(), l);
                } else if self.stack.contains(&w) {
                    let l = self.low[v].min(self.index[&w]);
                    self.low.insert(v.to_string(), l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = w == v;
                    comp.push(w);
                    if done {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), out: Vec::new() };
    let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flat_map(|e| e.keys())).collect();
    for v in nodes {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn modules_only_use_lower_layers_and_make_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let read = |rel: &str| std::fs::read_to_string(src.join(rel)).ok();
    let is_dir = |rel: &str| src.join(rel).is_dir();
    let krate = Crate { read: &read, is_dir: &is_dir };
    let (modules, _) = krate.read_all();
    assert!(modules.iter().filter(|m| m.path.len() == 1).count() >= 15, "every top-level module was read");
    assert!(modules.len() >= 100, "the module tree was followed: {} modules", modules.len());
    let broken = check(&krate);
    assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
}

/// Runs the checker on a planted crate of `(file, text)` pairs.
fn check_planted(files: &[(&str, &str)]) -> Vec<String> {
    let map: BTreeMap<String, String> = files.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
    let read = |rel: &str| map.get(rel).cloned();
    let is_dir = |rel: &str| map.keys().any(|f| f.starts_with(&format!("{rel}/")));
    check(&Crate { read: &read, is_dir: &is_dir })
}

#[test]
fn the_checker_catches_a_wrapped_use_group() {
    let broken = check_planted(&[
        ("lib.rs", "pub mod store;\npub mod http;\n"),
        ("http.rs", "pub fn serve() {}\n"),
        ("store.rs", "use crate::{\n    http::{\n        self,\n    },\n};\npub fn f() { http::serve() }\n"),
    ]);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(broken[0].contains("src/store.rs:1: store must not use http"), "{broken:?}");
}

#[test]
fn the_checker_resolves_super_and_paths_in_code_and_macros() {
    let broken = check_planted(&[
        ("lib.rs", "pub mod store;\npub mod http;\npub use http::Thing;\n"),
        ("http/mod.rs", "pub mod route;\npub struct Thing;\n"),
        ("http/route.rs", "pub fn f() {}\n"),
        ("store/mod.rs", "pub mod a;\n"),
        (
            "store/a.rs",
            "pub fn g() {\n    let _ = super::super::http::route::f();\n    format!(\"{}\", crate::Thing);\n}\n",
        ),
    ]);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].contains("src/store/a.rs:2: store must not use http"), "{broken:?}");
    assert!(broken[1].contains("src/store/a.rs:3: store must not use http"), "{broken:?}");
    // Test code is left out.
    let broken = check_planted(&[
        ("lib.rs", "pub mod store;\npub mod http;\n"),
        ("http.rs", ""),
        ("store.rs", "#[cfg(test)]\nmod tests {\n    use crate::http;\n}\n"),
    ]);
    assert!(broken.is_empty(), "{broken:?}");
}

#[test]
fn the_checker_catches_a_second_level_cycle() {
    let broken = check_planted(&[
        ("lib.rs", "pub mod media;\n"),
        ("media/mod.rs", "pub mod inside;\npub mod matroska;\n"),
        ("media/inside/mod.rs", "pub mod mkv;\npub fn helper() {}\n"),
        ("media/inside/mkv.rs", "use crate::media::matroska::walk;\n"),
        ("media/matroska.rs", "pub fn walk() { super::inside::helper() }\n"),
    ]);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(broken[0].contains("a cycle between media::inside, media::matroska"), "{broken:?}");
    assert!(broken[0].contains("media::inside -> media::matroska (src/media/inside/mkv.rs:1)"), "{broken:?}");
    assert!(broken[0].contains("media::matroska -> media::inside (src/media/matroska.rs:1)"), "{broken:?}");
}
