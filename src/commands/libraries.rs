//! `vidserve library add|list|remove`: named libraries (folders inside the
//! video directories), from the command line while the server is stopped;
//! `list` also while it runs. Accounts are given them with `vidserve user
//! libraries`.

use crate::cli::{LibraryCommand, LibraryCommandArgs};
use crate::people::libraries::shown;
use crate::people::People;

pub fn library(args: &LibraryCommandArgs) -> anyhow::Result<()> {
    let reading = matches!(args.command, LibraryCommand::List);
    let (config, store, _) = super::library_and_store(&args.library, reading)?;
    let people = People::load(store)?;
    people.set_roots(config.roots.iter().map(|r| r.path.clone()).collect());
    match &args.command {
        LibraryCommand::Add { name, paths } => {
            let folders: Vec<String> = paths
                .iter()
                .map(|p| {
                    let text = p.to_string_lossy();
                    if text.contains("://") {
                        Ok(text.into_owned())
                    } else {
                        // Relative to here, as a shell user means it.
                        std::path::absolute(p).map(|p| p.to_string_lossy().into_owned())
                    }
                })
                .collect::<Result<_, _>>()?;
            let new = people.define_library(name, &folders)?;
            let done = if new { "added" } else { "changed" };
            let lib = people.libraries().into_iter().find(|l| l.name.eq_ignore_ascii_case(name.trim()));
            let folders = lib.map(|l| l.folders.join(", ")).unwrap_or_default();
            super::print(format!("{done} library {}: {folders}\n", name.trim()).as_bytes())
        }
        LibraryCommand::List => {
            let mut out = String::new();
            for lib in people.libraries() {
                let given: Vec<String> = people.given_to(&lib.name).iter().map(|n| shown(n)).collect();
                let kind = if lib.default { "  (a video folder)" } else { "" };
                let who = if given.is_empty() { String::new() } else { format!("\tgiven to {}", given.join(", ")) };
                out.push_str(&format!("{}\t{}{kind}{who}\n", lib.name, lib.folders.join(", ")));
            }
            super::print(out.as_bytes())
        }
        LibraryCommand::Remove { name } => {
            let had: Vec<String> = people.remove_library(name)?.iter().map(|n| shown(n)).collect();
            let note = if had.is_empty() { String::new() } else { format!("; {} see less now", had.join(", ")) };
            super::print(format!("removed library {name}{note}\n").as_bytes())
        }
    }
}
