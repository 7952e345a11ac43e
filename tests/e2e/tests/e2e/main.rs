//! End-to-end tests of the built app in a real webview, one binary, one module per story:
//! an admin's day (`admin`), API tokens (`api_tokens`), bulk actions (`bulk`), every
//! screen at three window sizes with axe-core (`layout`), a system admin's organisations (`orgs`), the `.deb` (`package`), a plain
//! SCIM provider (`scim2`), secrets at rest (`secrets`), organisation settings
//! (`settings`), support staff read-only (`support`), CSV export and import
//! (`transfer`). `scripts/e2e` builds what they drive and runs them one at a time under
//! Xvfb (a 1920×1080 screen) with a private D-Bus session and gnome-keyring.

mod admin;
mod api_tokens;
mod bulk;
mod layout;
mod orgs;
mod package;
mod scim2;
mod secrets;
mod settings;
mod support;
mod transfer;
