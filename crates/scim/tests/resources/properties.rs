//! Property tests: generated users are written and read back unchanged.

use muster_scim::user::{Licence, MultiValue, ShopUser, User};
use proptest::prelude::*;

pub fn user() -> impl Strategy<Value = User> {
    (
        "[a-z0-9.@+-]{1,30}",
        proptest::option::of("\\PC{0,20}"),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(("[a-z]{1,8}@[a-z]{1,8}\\.example", any::<bool>()), 0..3),
        proptest::option::of(0u32..1000),
        proptest::option::of("[A-Za-z_]{1,12}"),
    )
        .prop_map(
            |(user_name, display, active, emails, sessions, licence)| User {
                display_name: display,
                active,
                emails: emails
                    .into_iter()
                    .map(|(value, primary)| MultiValue {
                        primary: Some(primary),
                        ..MultiValue::typed(value, "work")
                    })
                    .collect(),
                shop: sessions.map(|sessions| ShopUser {
                    active_sessions: Some(sessions),
                    licence: licence.as_deref().map(Licence::parse),
                    ..ShopUser::default()
                }),
                ..User::new(user_name)
            },
        )
}

proptest! {
    #[test]
    fn users_round_trip(user in user()) {
        let json = user.to_json().unwrap();
        prop_assert_eq!(User::from_json(json).unwrap(), user);
    }
}
