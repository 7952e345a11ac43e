//! The desktop app's engine ([`Console`]) as a test starts it: files and a keychain
//! service of its own ([`Home`]), a profile for a Muster server, signed in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use muster_core::Secret;
use muster_core::console::view::{Phase, ProfileInput, ServerKindView, UserInput};
use muster_core::console::{Console, Dirs};
use muster_core::transport::{RetryPolicy, TransportConfig};
use muster_core::vault::Vault;

use crate::TempDir;

/// The name of the profile [`sign_in`] saves.
pub const PROFILE: &str = "shop";

/// One install of the app: a config and a cache directory and a keychain service of its
/// own. Consoles made from the same `Home` are the same person starting the app again.
#[derive(Debug)]
pub struct Home {
    dir: TempDir,
    service: String,
}

impl Home {
    /// A fresh install, named after `tag`.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self {
            dir: TempDir::new(&format!("console-{tag}")),
            service: format!(
                "app.muster.tests.{tag}.{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    /// Its config and cache directories.
    pub fn dirs(&self) -> Dirs {
        Dirs {
            config: self.dir.join("config"),
            cache: self.dir.join("cache"),
        }
    }

    /// Its keychain service. Where no Secret Service runs, every call fails, as on a
    /// machine without a keychain.
    pub fn vault(&self) -> Vault {
        Vault::with_service(self.service.clone())
    }

    /// A console over these files and keychain, as the app makes one at start.
    pub fn console(&self, transport: TransportConfig) -> Console {
        Console::new(self.dirs(), self.vault(), transport).expect("a console starts")
    }
}

/// The create form filled in for a field technician at `email` (Rosa Diaz, zone North).
pub fn person(email: &str) -> UserInput {
    UserInput {
        user_name: email.into(),
        given_name: "Rosa".into(),
        family_name: "Diaz".into(),
        email: email.into(),
        licence: Some("field".into()),
        role: Some("technician".into()),
        zones: vec!["North".into()],
        ..UserInput::default()
    }
}

/// Transport settings that give up quickly: a 2 s connect and 10 s request timeout and no
/// retries, for tests that take the server away on purpose.
pub fn fail_fast() -> TransportConfig {
    TransportConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..TransportConfig::default()
    }
}

/// The form of profile [`PROFILE`] for organisation `org` of the Muster server at `url`,
/// as the default.
pub fn muster_profile(url: &str, org: &str) -> ProfileInput {
    ProfileInput {
        name: PROFILE.into(),
        kind: ServerKindView::Muster,
        url: url.to_owned(),
        org: Some(org.to_owned()),
        make_default: true,
    }
}

/// Saves profile [`PROFILE`] for organisation `org` of the Muster server at `url` as the
/// default, opens it, and signs in as `email`; asserts the console is then ready.
pub async fn sign_in(console: &Console, url: &str, org: &str, email: &str, password: &str) {
    console
        .save_profile(muster_profile(url, org), false)
        .await
        .expect("the profile is saved");
    let opened = console
        .open_profile(PROFILE)
        .await
        .expect("the profile opens");
    assert_eq!(
        opened.phase,
        Phase::SignedOut,
        "a new profile has no session"
    );
    let status = console
        .sign_in(email, Secret::new(password))
        .await
        .expect("the account signs in");
    assert_eq!(status.phase, Phase::Ready, "signed in: {status:?}");
}

/// A console of a fresh [`Home`], signed in; it keeps its home alive and derefs to the
/// [`Console`].
#[derive(Debug)]
pub struct TestConsole {
    console: Console,
    /// Its files and keychain service.
    pub home: Home,
}

impl TestConsole {
    /// A console of a fresh home called `tag` with `transport`, signed in as `email` to
    /// organisation `org` of the Muster server at `url`.
    pub async fn signed_in(
        tag: &str,
        transport: TransportConfig,
        url: &str,
        org: &str,
        email: &str,
        password: &str,
    ) -> Self {
        let home = Home::new(tag);
        let console = home.console(transport);
        sign_in(&console, url, org, email, password).await;
        Self { console, home }
    }
}

impl std::ops::Deref for TestConsole {
    type Target = Console;

    fn deref(&self) -> &Console {
        &self.console
    }
}

impl crate::Muster {
    /// A console of a fresh home called `tag`, signed in straight to the server as `email`
    /// (someone of this organisation, or the system admin, with the shared password),
    /// giving up fast.
    pub async fn console_as(&self, tag: &str, email: &str) -> TestConsole {
        TestConsole::signed_in(
            tag,
            fail_fast(),
            &self.url,
            &self.org,
            email,
            crate::PASSWORD,
        )
        .await
    }

    /// A console of a fresh home signed in as this organisation's admin, through `url`
    /// (the server's, or a proxy's in front of it).
    pub async fn admin_console(
        &self,
        tag: &str,
        transport: TransportConfig,
        url: &str,
    ) -> TestConsole {
        TestConsole::signed_in(
            tag,
            transport,
            url,
            &self.org,
            &self.admin_email(),
            crate::PASSWORD,
        )
        .await
    }
}
