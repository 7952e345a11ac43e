//! What a user is responsible for in the shop's software: default technician on
//! properties (customer sites), primary technician and office assignee on open tasks (work
//! orders), manager of a warehouse. Before a user is deactivated each of these is
//! reassigned to an active user ([`reassign`]), or work gets lost; the deactivate wizard
//! shows [`counts`] and picks replacements from [`routes`]' assignee list, which only ever
//! holds active users.
//!
//! User columns hold SCIM user ids and are indexed together with the org, so counting and
//! moving one user's work stays an index lookup however large the organisation is.
//!
//! - `kind`: the kinds of responsibility ([`Kind`]) and how many of each a user holds
//!   ([`Counts`]).
//! - `schema`: the tables ([`SCHEMA`]) and the SQL that counts and moves each kind.
//! - `rules`: [`counts`] and [`reassign`], with the checks on who may take work over.
//! - `routes`: the responsibilities and assignees endpoints ([`routes`]).
//! - `seed`: the demo's properties, tasks and warehouses ([`seed`]).

mod kind;
mod routes;
mod rules;
mod schema;
mod seed;

pub use kind::{Counts, Kind};
pub use routes::{
    Assignee, AssigneeQuery, DEFAULT_ASSIGNEES, KindCount, MAX_ASSIGNEES, Responsibilities,
    assignees, assignees_handler, responsibilities_handler, routes,
};
pub use rules::{Reassign, counts, reassign};
pub use schema::SCHEMA;
pub use seed::{SeedPeople, seed};
