//! The SCIM filter grammar (RFC 7644 §3.4.2.2): an AST, a parser with positioned errors,
//! a printer that emits canonical filter text, an evaluator over JSON resources, and the
//! PATCH `path` grammar (RFC 7644 §3.5.2).

mod ast;
mod eval;
mod parse;
mod path;
mod print;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use eval::{InvalidFilterError, matches, validate};
pub use parse::{FilterError, parse_attr_path, parse_filter};
pub use path::{PatchPath, parse_patch_path};

#[cfg(test)]
mod tests;
