//! A hostile or misconfigured server cannot send Muster's credentials elsewhere: an
//! address it answers with (`Location` after a create) is followed only within the
//! connection's origin, and redirects are not followed at all (a 307 would replay the
//! sign-in's password to the new address). Two loopback servers: the connection's, which
//! points away, and "elsewhere", which counts every request that reaches it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use muster_core::auth::Credentials;
use muster_core::client::Client;
use muster_core::connection::Connection;
use muster_core::transport::TransportConfig;
use muster_core::{Error, Secret};
use muster_scim::user::User;
use muster_test_support::server::{serve, token_client};

/// A server that counts what reaches it and answers 200 to anything.
async fn elsewhere() -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let router = Router::new().fallback(any(move |headers: HeaderMap| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            assert!(
                headers.get(header::AUTHORIZATION).is_none(),
                "no credential ever reaches another origin"
            );
            (StatusCode::OK, "{}")
        }
    }));
    let (address, _task) = serve(router).await;
    (format!("http://{address}"), seen)
}

#[tokio::test]
async fn a_location_on_another_origin_is_not_followed() {
    let (other, seen) = elsewhere().await;
    let location = format!("{other}/Users/stolen");
    let router = Router::new().route(
        "/scim/v2/Users",
        post(move || {
            let location = location.clone();
            async move { (StatusCode::CREATED, [(header::LOCATION, location)]).into_response() }
        }),
    );
    let (address, _task) = serve(router).await;
    let client = token_client(
        Connection::scim(format!("http://{address}/scim/v2")),
        "provider-token-0123456789abcdef",
    );
    let created = client.users().create(&User::new("ann")).await;
    assert!(
        matches!(&created, Err(Error::Protocol { message, .. }) if message.contains("another address")),
        "{created:?}"
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the other server saw nothing"
    );
}

#[tokio::test]
async fn a_redirect_of_the_sign_in_is_not_followed() {
    let (other, seen) = elsewhere().await;
    let target = format!("{other}/auth/token");
    let router =
        Router::new().route(
            "/auth/token",
            post(move || {
                let target = target.clone();
                async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
                }
            }),
        );
    let (address, _task) = serve(router).await;
    let signed = Client::sign_in(
        Connection::muster(format!("http://{address}"), "acme"),
        Credentials::Password {
            email: "ada@acme.test".into(),
            password: Secret::new("the-password-goes-nowhere"),
        },
        &TransportConfig::default(),
    )
    .await;
    assert!(signed.is_err(), "a redirect is an unexpected answer");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the password was not replayed to the other server"
    );
}
