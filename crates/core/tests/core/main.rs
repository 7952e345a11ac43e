//! Integration tests of muster-core, one binary, one module per area: against a real
//! muster-server on port 0 (in this process, or behind the fault proxy) and scim2-server;
//! the offline cache file and search index; sync; and proptest fuzzing of every parser.
//! The keychain tests (`vault::` and the app's fault suite, `resilience::`) need a Secret
//! Service: `scripts/test` leaves them out of the main run and runs them under one.

mod auth;
mod bulk;
mod cache;
mod choices;
mod console;
mod credentials;
mod faults;
mod fuzz;
mod muster;
mod orgs;
mod origin;
mod photos;
mod resilience;
mod review;
mod rules;
mod scim2;
mod search;
mod settings;
mod sync;
mod tokens;
mod transfer;
mod unread;
mod vault;
