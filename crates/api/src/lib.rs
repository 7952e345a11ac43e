//! What Muster's server and its engine both speak beyond SCIM: the bodies of the
//! organisation, plan, API-token and assignee endpoints, the rules both sides check before
//! a request (an organisation id's form, a name's length, a token's lifetime), and the
//! clock both read. The server serves these types and the engine reads them, so the two
//! cannot drift apart; whatever only one side needs (storage columns, error wording,
//! HTTP) stays on that side.
//!
//! No I/O here: serde and time only.

pub mod clock;
pub mod orgs;
pub mod responsibilities;
pub mod tokens;

pub use clock::Clock;

/// Whether `name`, trimmed, is 1 to `max` characters: the rule of every name both sides
/// check before a request.
fn is_name(name: &str, max: usize) -> bool {
    let name = name.trim();
    !name.is_empty() && name.chars().count() <= max
}
