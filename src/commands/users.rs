//! `vidserve user add|passwd|remove|list|token|libraries`: accounts, from the command
//! line, while the server is stopped (one process writes a data dir);
//! `list` also while it runs.

use std::io::{BufRead, IsTerminal};

use crate::cli::{RoleArg, UserArgs, UserCommand};
use crate::people::{People, PeopleError, Role};
use crate::store::Store;

pub fn user(args: &UserArgs) -> anyhow::Result<()> {
    let data = crate::config::data_dir(args.library.data.as_deref())?;
    let database = crate::config::database::Database::from_args(&args.library.database)?;
    // Listing only reads: it works beside a running server.
    let store = match &args.command {
        UserCommand::List => crate::store::open_for_reading(&data, database.as_ref())?.0,
        _ => crate::store::open(&data, database.as_ref())?,
    };
    let people = People::load(store.clone())?;
    // The roots last scanned: each is a library of its own.
    people.set_roots(store.roots()?);
    match &args.command {
        UserCommand::Add { name, role, password_stdin, no_password, replace, libraries } => {
            let password = if *no_password { None } else { Some(read_password(*password_stdin, true)?) };
            let role = match role {
                RoleArg::Viewer => Role::Viewer,
                RoleArg::Editor => Role::Editor,
                RoleArg::Admin => Role::Admin,
            };
            let existed = people.exists(name);
            if *replace {
                people.set_account(name, role, password.as_deref(), libraries.as_deref())?;
            } else {
                people.add(name, role, password.as_deref(), libraries.as_deref()).map_err(|e| match e {
                    PeopleError::Exists(_) => anyhow::anyhow!(
                        "there is already an account named {name}; nothing was changed \
                         (`vidserve user add {name} --replace` replaces it, `vidserve user passwd {name}` \
                         changes its password)"
                    ),
                    e => e.into(),
                })?;
            }
            let kind = if *no_password { " (no password: private addresses only)" } else { "" };
            let done = if existed { "replaced" } else { "added" };
            let sees = sees(&people, name, role);
            super::print(format!("{done} {name} as {}{kind}; {sees}\n", role.name()).as_bytes())
        }
        UserCommand::Libraries { name, libraries, all } => {
            let names: Option<Vec<String>> = match (all, libraries) {
                (true, _) | (false, None) => None,
                (false, Some(list)) => {
                    Some(list.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect())
                }
            };
            people.set_libraries(name, names.as_deref())?;
            let role = people.list().into_iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(_, r, _)| r);
            let sees = sees(&people, name, role.unwrap_or(Role::Viewer));
            super::print(format!("{name}: {sees}\n").as_bytes())
        }
        UserCommand::Passwd { name, password_stdin } => {
            let password = read_password(*password_stdin, true)?;
            people.set_password(name, &password)?;
            super::print(
                format!("changed the password of {name}; its sessions, tokens and signed links ended\n").as_bytes(),
            )
        }
        UserCommand::Remove { name, yes } => {
            let owner = people.is_owner(name);
            if owner && !*yes {
                anyhow::bail!(
                    "{name} holds the household's own ratings, favorites, resume positions and playlists \
                     ({}); they go with the account. Nothing was changed; run again with --yes to remove it \
                     (a backup is written first)",
                    household_summary(&store)?
                );
            }
            // The server is stopped: the store clears the household's data,
            // once a backup of it is written.
            people.remove(name, true, || {
                let file = crate::app::backup_store(&data, store.as_ref()).map_err(|e| {
                    format!("the backup before removing {name} could not be written ({e}); nothing was changed")
                })?;
                super::print(format!("backed up user data to {}\n", file.display()).as_bytes())
                    .map_err(|e| e.to_string())
            })?;
            let what = if owner {
                "with the household's own ratings, favorites, positions and playlists"
            } else {
                "with their own ratings, favorites, positions and playlists"
            };
            super::print(format!("removed {name}, {what}\n").as_bytes())
        }
        UserCommand::List => {
            let mut out = String::new();
            for (name, role, has_password) in people.list() {
                let note = if has_password { "" } else { "  (no password)" };
                out.push_str(&format!("{name}\t{}\t{}{note}\n", role.name(), sees(&people, &name, role)));
            }
            for profile in crate::people::libraries::PROFILES {
                if people.libraries_of(profile).is_some() {
                    out.push_str(&format!("({profile})\t-\t{}\n", sees(&people, profile, Role::Viewer)));
                }
            }
            if out.is_empty() {
                out.push_str("no accounts: everyone on the local network may use vidserve\n");
            }
            super::print(out.as_bytes())
        }
        UserCommand::Token { name, revoke: true } => {
            let n = people.revoke_tokens(name)?;
            super::print(format!("revoked {n} token(s) of {name}\n").as_bytes())
        }
        UserCommand::Token { name, revoke: false } => {
            let token = people.new_token(name)?;
            super::print(format!("{token}\n").as_bytes())
        }
    }
}

/// What `name` sees, in words.
fn sees(people: &People, name: &str, role: Role) -> String {
    match (role, people.libraries_of(name)) {
        (Role::Admin, _) => "sees everything (an admin)".into(),
        (_, None) => "sees everything".into(),
        (_, Some(l)) if l.is_empty() => "sees nothing (no libraries)".into(),
        (_, Some(l)) => format!("sees {}", l.join(", ")),
    }
}

/// A password from standard input (one line), or asked for twice on the
/// terminal without echo.
fn read_password(from_stdin: bool, confirm: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ")?;
    if confirm && rpassword::prompt_password("Again: ")? != first {
        anyhow::bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// What the household's own data holds, in words.
fn household_summary(store: &std::sync::Arc<dyn Store>) -> anyhow::Result<String> {
    let data = store.load_user()?;
    let rated = data.values().filter(|d| d.rating.is_some()).count();
    let favorites = data.values().filter(|d| d.favorite).count();
    let positions = data.values().filter(|d| d.position_ms.is_some()).count();
    let playlists = store.load_playlists()?.iter().filter(|(owner, _, _)| owner.is_empty()).count();
    use super::count;
    Ok(format!(
        "{} rated, {}, {}, {}",
        rated,
        count(favorites, "favorite", "favorites"),
        count(positions, "resume position", "resume positions"),
        count(playlists, "playlist", "playlists")
    ))
}
