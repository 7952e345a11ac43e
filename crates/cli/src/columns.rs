//! The user columns that `users list --columns` and `users export --columns` take:
//! muster-core's [`columns`](muster_core::csv::columns), named on the command line as
//! `a,b,c`.

pub use muster_core::csv::columns::{ALL, Column};

use crate::failure::Failure;

/// What `users list` shows without `--columns`.
pub const LIST_DEFAULT: &[&str] = &[
    "id", "userName", "name", "email", "role", "licence", "status",
];

/// The columns named in `spec` (`id,userName,email`), or `default` when there is none.
pub fn select(spec: Option<&str>, default: &[&str]) -> Result<Vec<Column>, Failure> {
    let names: Vec<&str> = match spec {
        Some(spec) => spec
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect(),
        None => default.to_vec(),
    };
    if names.is_empty() {
        return Err(Failure::Usage("--columns names no column.".into()));
    }
    muster_core::csv::columns::select(&names).map_err(|error| Failure::Usage(error.to_string()))
}

/// Every column's name, in export order.
pub fn all_names() -> Vec<&'static str> {
    ALL.iter().map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_on_the_command_line() {
        let names: Vec<&str> = select(Some(" id, userName,,EMAIL"), LIST_DEFAULT)
            .unwrap()
            .iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["id", "userName", "email"]);
        assert_eq!(
            select(None, LIST_DEFAULT).unwrap().len(),
            LIST_DEFAULT.len()
        );
        let unknown = select(Some("id,nope"), LIST_DEFAULT).unwrap_err();
        assert_eq!(unknown.exit_code(), crate::failure::exit::USAGE);
        assert!(unknown.message().contains("'nope'"));
        assert!(select(Some(" , "), LIST_DEFAULT).is_err());
    }
}
