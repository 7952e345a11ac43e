//! A user as the offline copy holds it in memory: its binary form in one shared
//! allocation, read into a [`User`] only when one is needed (a row on screen, the detail
//! view, an export row, a write).
//!
//! A typed `User` takes about 2.7 KB of memory with its strings and lists; its binary
//! form (the cache file's, with every string where it stands: see [`wire`](super::wire))
//! about a fifth of that, in one allocation instead of about twenty. The copy holds
//! 100,000 of them, so this is most of the app's memory.
//!
//! The form is the user's `meta.lastModified` (which a sync compares for every cached
//! user) and then the user as [`codec::user`] writes it.
//!
//! Copies of the snapshot (a sync's or a write's working copy) share every user they do
//! not change: cloning a `PackedUser` shares its bytes, and [`PackedUser::same`] tells a
//! shared user from a replaced one (the search index is mended for those rows only).

use std::fmt;
use std::sync::Arc;

use muster_scim::user::User;
use time::OffsetDateTime;

use super::codec;
use super::wire::{In, Out, Read};

/// A user in the compact form the offline copy holds. See the [module](self) docs.
#[derive(Clone, PartialEq, Eq)]
pub struct PackedUser(Arc<[u8]>);

impl PackedUser {
    /// `user` in its compact form.
    pub fn pack(user: &User) -> Self {
        let mut out = Out::inline(512);
        out.opt_time(user.meta.as_ref().and_then(|meta| meta.last_modified));
        match codec::user(&mut out, user) {
            Ok(()) => Self(out.bytes.into()),
            Err(error) => {
                // Only unmodelled attributes can fail to encode, and a JSON map with
                // string keys always does: this is not reached. Should it be, the user
                // is kept by its id and sign-in name rather than lost.
                tracing::error!(%error, "a user could not be packed; its other attributes are dropped");
                let bare = User {
                    id: user.id.clone(),
                    user_name: user.user_name.clone(),
                    ..User::default()
                };
                let mut out = Out::inline(64);
                out.opt_time(None);
                let _ = codec::user(&mut out, &bare);
                Self(out.bytes.into())
            }
        }
    }

    /// The user, read from its compact form.
    ///
    /// The bytes are this module's own encoding (made by [`pack`](Self::pack), or read
    /// from a cache file whose every segment authenticated), so they always read; should
    /// they not, the user is given by whatever of its id reads, and the error is logged,
    /// rather than the app stopping.
    pub fn user(&self) -> User {
        let mut user = User::default();
        let mut input = In::inline(&self.0);
        let read = input
            .opt_time()
            .and_then(|_| codec::read_user(&mut input, &mut user))
            .and_then(|()| input.end());
        if let Err(error) = read {
            tracing::error!(%error, "a user of the offline copy could not be read");
            return User {
                id: self.id().map(str::to_owned),
                ..User::default()
            };
        }
        user
    }

    /// The user's id, read without reading the rest.
    pub fn id(&self) -> Option<&str> {
        let mut input = In::inline(&self.0);
        input
            .opt_time()
            .and_then(|_| input.opt_str())
            .ok()
            .flatten()
    }

    /// The user's `meta.lastModified`, read without reading the rest.
    pub fn modified(&self) -> Option<OffsetDateTime> {
        In::inline(&self.0).opt_time().ok().flatten()
    }

    /// The user's sign-in name and email addresses, read without reading the rest: for
    /// the checks that look through every user as a form is typed. `None` for bytes that
    /// do not read (as [`user`](Self::user) would log).
    pub fn addresses(&self) -> Option<Addresses<'_>> {
        read_addresses(&mut In::inline(&self.0)).ok()
    }

    /// Whether `self` and `other` are the very same allocation: a user a copy of the
    /// snapshot shares rather than replaced.
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The compact form's bytes (what the cache file stores).
    pub(super) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A user from bytes a cache file held (they are read when used: see
    /// [`user`](Self::user)).
    pub(super) fn from_bytes(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }
}

/// A user's sign-in name and email addresses, borrowed from its compact form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses<'a> {
    /// `userName`.
    pub user_name: &'a str,
    /// Each `emails` value, in order.
    pub emails: Vec<&'a str>,
}

/// The start of [`codec::user`]'s layout, up to the emails, read in its order.
fn read_addresses<'a>(input: &mut In<'a>) -> Read<Addresses<'a>> {
    input.opt_time()?; // meta.lastModified, before the user
    input.opt_str()?; // id
    input.opt_str()?; // externalId
    let user_name = input.str()?;
    if input.flag()? {
        // The name: six texts and its unmodelled attributes.
        for _ in 0..6 {
            input.opt_str()?;
        }
        input.skip_extra()?;
    }
    // displayName, nickName, profileUrl, title, userType, preferredLanguage, locale,
    // timezone; then active and password.
    for _ in 0..8 {
        input.opt_str()?;
    }
    input.opt_bool()?;
    input.opt_str()?;
    let count = input.len()?;
    let mut emails = Vec::with_capacity(count);
    for _ in 0..count {
        // A multi-value: value, display, type, primary, $ref, unmodelled attributes.
        let value = input.opt_str()?;
        input.opt_str()?;
        input.opt_str()?;
        input.opt_bool()?;
        input.opt_str()?;
        input.skip_extra()?;
        emails.extend(value);
    }
    Ok(Addresses { user_name, emails })
}

impl From<&User> for PackedUser {
    fn from(user: &User) -> Self {
        Self::pack(user)
    }
}

impl From<User> for PackedUser {
    fn from(user: User) -> Self {
        Self::pack(&user)
    }
}

impl fmt::Debug for PackedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.user().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use muster_scim::user::{MultiValue, ShopUser};

    use super::*;

    fn sample() -> User {
        let mut user: User = serde_json::from_value(serde_json::json!({
            "id": "u-1",
            "userName": "ada@example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace", "x-nick": "Countess"},
            "emails": [{"value": "ada@example.com", "primary": true, "type": "work"}],
            "active": true,
            "x-unmodelled": {"kept": [1, 2.5, null]},
        }))
        .unwrap();
        user.shop = Some(ShopUser {
            zones: vec!["north".to_owned(), "ünïcode ✓".to_owned()],
            ..ShopUser::default()
        });
        user.phone_numbers = vec![MultiValue::default()];
        user
    }

    #[test]
    fn a_user_reads_back_as_it_was_packed() {
        let mut user = sample();
        let packed = PackedUser::pack(&user);
        assert_eq!(packed.user(), user);
        assert_eq!(packed.id(), Some("u-1"));
        assert_eq!(packed.modified(), None);
        let at = time::macros::datetime!(2026-12-07 10:11:12.345 +01:00);
        user.meta = Some(muster_scim::meta::Meta {
            last_modified: Some(at),
            ..Default::default()
        });
        let packed = PackedUser::pack(&user);
        assert_eq!(packed.modified(), Some(at));
        assert_eq!(packed.id(), Some("u-1"));
        assert_eq!(packed.user(), user);
        assert_eq!(PackedUser::pack(&User::default()).id(), None);
        assert_eq!(PackedUser::pack(&User::default()).user(), User::default());
    }

    #[test]
    fn addresses_read_as_the_whole_user_has_them() {
        let mut user = sample();
        let extra = serde_json::from_value::<serde_json::Map<_, _>>(serde_json::json!({"x": 1}));
        user.emails.push(MultiValue {
            value: Some("second@example.com".to_owned()),
            extra: extra.unwrap().into(),
            ..MultiValue::default()
        });
        user.emails.push(MultiValue::default());
        user.display_name = Some("Ada".to_owned());
        user.timezone = Some("Europe/London".to_owned());
        user.active = Some(false);
        let packed = PackedUser::pack(&user);
        let addresses = packed.addresses().unwrap();
        assert_eq!(addresses.user_name, "ada@example.com");
        assert_eq!(addresses.emails, ["ada@example.com", "second@example.com"]);
        // Without a name, and with nothing after the emails.
        user.name = None;
        user.emails.truncate(1);
        assert_eq!(
            PackedUser::pack(&user).addresses().unwrap().emails,
            ["ada@example.com"]
        );
        assert_eq!(PackedUser::from_bytes(&[0, 1]).addresses(), None);
    }

    #[test]
    fn clones_share_and_repacks_do_not() {
        let packed = PackedUser::pack(&sample());
        let clone = packed.clone();
        let again = PackedUser::pack(&sample());
        assert!(packed.same(&clone));
        assert!(!packed.same(&again));
        assert_eq!(packed, again, "equal users pack to equal bytes");
    }

    #[test]
    fn bytes_that_do_not_read_give_the_id_not_a_panic() {
        let packed = PackedUser::pack(&sample());
        let mut bytes = packed.bytes().to_vec();
        bytes.truncate(bytes.len() - 3);
        let broken = PackedUser::from_bytes(&bytes);
        let user = broken.user();
        assert_eq!(user.id.as_deref(), Some("u-1"));
        assert!(user.user_name.is_empty());
        assert_eq!(PackedUser::from_bytes(&[]).user(), User::default());
    }
}
