//! Libraries: named sets of folders below the roots (`Films`, `Kids`),
//! and what each one lets a person see. Every `--dir` is a library of its
//! own by default, named after its folder; the admins name more. An
//! account (or the guest and DLNA profiles) given libraries sees only the
//! videos with a file inside one of their folders (`catalog::Sight`);
//! without, it sees everything, and admins always do.

use std::path::{Component, Path, PathBuf};

use crate::catalog::Sight;
use crate::store::people::LibraryRecord;

use super::PeopleError;

/// The profiles without an account whose libraries may be chosen.
pub const PROFILES: [&str; 2] = ["guest", "dlna"];

/// `name` (an account or a profile) as the command line shows it: a
/// profile in parentheses, `(guest)`.
pub fn shown(name: &str) -> String {
    if PROFILES.contains(&name) {
        format!("({name})")
    } else {
        name.to_string()
    }
}

/// A library as people see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    pub name: String,
    pub folders: Vec<String>,
    /// Made from a `--dir` (not stored; it goes with the folder).
    pub default: bool,
}

/// A valid library name: 1–64 letters, digits, spaces, `.`, `_` or `-`,
/// not only spaces (names are told apart without regard to case).
pub fn valid_name(name: &str) -> Result<String, PeopleError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(PeopleError::Invalid("a library's name is 1 to 64 letters, digits, spaces, '.', '_' or '-'".into()))
    }
}

/// The libraries there are: those named, then one per root not named
/// otherwise (its folder's name; a second root of the same name gets
/// " 2", …).
pub fn all(defined: &[LibraryRecord], roots: &[PathBuf]) -> Vec<Library> {
    let mut out: Vec<Library> =
        defined.iter().map(|r| Library { name: r.name.clone(), folders: r.folders.clone(), default: false }).collect();
    for root in roots {
        let base = root.file_name().map_or_else(|| "videos".to_string(), |n| n.to_string_lossy().into_owned());
        let base = valid_name(&base).unwrap_or_else(|_| "videos".into());
        let taken = |n: &str| out.iter().any(|l| l.name.eq_ignore_ascii_case(n));
        let mut name = base.clone();
        let mut k = 2;
        while taken(&name) {
            name = format!("{base} {k}");
            k += 1;
        }
        out.push(Library { name, folders: vec![root.to_string_lossy().into_owned()], default: true });
    }
    out
}

/// What someone given `names` (`None`: no libraries chosen) sees.
pub fn sight(libraries: &[Library], names: Option<&[String]>) -> Sight {
    let Some(names) = names else { return Sight::All };
    let folders = libraries
        .iter()
        .filter(|l| names.iter().any(|n| n.eq_ignore_ascii_case(&l.name)))
        .flat_map(|l| l.folders.iter().map(PathBuf::from))
        .collect();
    Sight::only(folders)
}

/// `folder` made plain (no `.`, no `..`, no trailing `/`), if it is
/// absolute (or a bucket URL) and inside one of `roots`.
pub fn folder_inside(folder: &str, roots: &[PathBuf]) -> Result<String, PeopleError> {
    let bucket = folder.contains("://");
    let path = Path::new(folder);
    if !bucket && !path.is_absolute() {
        return Err(PeopleError::Invalid(format!("{folder:?} is not an absolute path")));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(PeopleError::Invalid(format!("{folder:?} may not contain '..'")));
    }
    let plain: PathBuf = path.components().filter(|c| !matches!(c, Component::CurDir)).collect();
    let shown = if bucket {
        // `s3:/b/p` as components: give the scheme its two slashes back.
        let s = plain.to_string_lossy().into_owned();
        match s.split_once(":/") {
            Some((scheme, rest)) => format!("{scheme}://{}", rest.trim_start_matches('/')),
            None => s,
        }
    } else {
        plain.to_string_lossy().into_owned()
    };
    if roots.iter().any(|r| Path::new(&shown).starts_with(r)) {
        Ok(shown)
    } else {
        let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        Err(PeopleError::Invalid(format!(
            "{folder} is not inside a video folder (served: {})",
            if list.is_empty() { "none yet".into() } else { list.join(", ") }
        )))
    }
}

/// The names in `given` as the libraries spell them; an unknown one is an
/// error naming those there are.
pub fn known(libraries: &[Library], given: &[String]) -> Result<Vec<String>, PeopleError> {
    let mut out: Vec<String> = Vec::new();
    for g in given.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
        match libraries.iter().find(|l| l.name.eq_ignore_ascii_case(g)) {
            Some(l) if !out.contains(&l.name) => out.push(l.name.clone()),
            Some(_) => {}
            None => {
                let names: Vec<&str> = libraries.iter().map(|l| l.name.as_str()).collect();
                return Err(PeopleError::Invalid(format!(
                    "there is no library named {g:?} (there are: {})",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_root_is_a_library_unless_one_has_its_name() {
        let defined = vec![LibraryRecord { name: "Kids".into(), folders: vec!["/v/films/Kids".into()] }];
        let roots = vec![PathBuf::from("/v/films"), PathBuf::from("/w/films"), PathBuf::from("/x/kids")];
        let names: Vec<String> = all(&defined, &roots).into_iter().map(|l| l.name).collect();
        assert_eq!(names, ["Kids", "films", "films 2", "kids 2"]);
    }

    #[test]
    fn folders_must_lie_inside_a_root() {
        let roots = vec![PathBuf::from("/v"), PathBuf::from("s3://bucket/home")];
        assert_eq!(folder_inside("/v/Kids/", &roots).unwrap(), "/v/Kids");
        assert_eq!(folder_inside("/v/./Kids", &roots).unwrap(), "/v/Kids");
        assert_eq!(folder_inside("/v", &roots).unwrap(), "/v");
        assert_eq!(folder_inside("s3://bucket/home/Family", &roots).unwrap(), "s3://bucket/home/Family");
        assert!(folder_inside("/v/../etc", &roots).is_err());
        assert!(folder_inside("/vv/Kids", &roots).is_err());
        assert!(folder_inside("Kids", &roots).is_err());
        assert!(folder_inside("s3://other/home", &roots).is_err());
    }

    #[test]
    fn names_are_matched_without_case_and_unknown_ones_refused() {
        let libs = all(&[LibraryRecord { name: "Kids".into(), folders: vec!["/v/Kids".into()] }], &[]);
        assert_eq!(known(&libs, &["kids".into(), "KIDS".into()]).unwrap(), ["Kids"]);
        assert!(known(&libs, &["Films".into()]).unwrap_err().to_string().contains("there are: Kids"));
        assert_eq!(sight(&libs, None), Sight::All);
        assert_eq!(sight(&libs, Some(&["kids".into()])), Sight::only(vec!["/v/Kids".into()]));
        assert_eq!(sight(&libs, Some(&[])), Sight::only(vec![]));
        assert!(valid_name("Films & TV").is_err() && valid_name("  ").is_err());
        assert_eq!(valid_name(" Films 2 ").unwrap(), "Films 2");
    }
}
