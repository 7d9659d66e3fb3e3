//! `vidserve user add|passwd|remove|list|token`: accounts, from the command
//! line, while the server is stopped (one process opens a data dir).

use std::io::{BufRead, IsTerminal};

use crate::cli::{RoleArg, UserArgs, UserCommand};
use crate::people::{People, Role};

pub fn user(args: &UserArgs) -> anyhow::Result<()> {
    let data = crate::config::data_dir(args.library.data.as_deref())?;
    let people = People::load(crate::store::open(&data)?)?;
    match &args.command {
        UserCommand::Add { name, role, password_stdin, no_password } => {
            let password = if *no_password { None } else { Some(read_password(*password_stdin, true)?) };
            let role = match role {
                RoleArg::Viewer => Role::Viewer,
                RoleArg::Editor => Role::Editor,
                RoleArg::Admin => Role::Admin,
            };
            people.set_account(name, role, password.as_deref())?;
            let kind = if *no_password { " (no password: private addresses only)" } else { "" };
            super::print(format!("added {name} as {}{kind}\n", role.name()).as_bytes())
        }
        UserCommand::Passwd { name, password_stdin } => {
            let password = read_password(*password_stdin, true)?;
            people.set_password(name, &password)?;
            super::print(format!("changed the password of {name}; its sessions ended\n").as_bytes())
        }
        UserCommand::Remove { name } => {
            // The server is stopped: the store clears the household's data.
            people.remove(name, false, || Ok(()))?;
            super::print(format!("removed {name}, with their own ratings, favorites and positions\n").as_bytes())
        }
        UserCommand::List => {
            let mut out = String::new();
            for (name, role, has_password) in people.list() {
                let note = if has_password { "" } else { "  (no password)" };
                out.push_str(&format!("{name}\t{}{note}\n", role.name()));
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
