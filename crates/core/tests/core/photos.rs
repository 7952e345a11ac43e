//! Profile photos through the console against a real muster-server: a chosen file is
//! judged by its content before anything is sent, the server's re-encoded photo comes back
//! as a `data:` URL for the rows on screen, and a photo URL pointing anywhere but the
//! server is never fetched (the session's token stays home).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use muster_core::Error;
use muster_core::search::SearchQuery;
use muster_scim::message::PatchOperation;
use muster_test_support::console::person;
use muster_test_support::{Muster, PASSWORD};
use serde_json::json;

use crate::console::signed_in;

/// A 1×1 PNG, as a file input's `data:` URL (its declared type is not trusted).
const PNG: &str = "data:application/octet-stream;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[tokio::test]
async fn a_photo_is_checked_set_shown_and_removed() {
    let server = Muster::start("console-photos", 5).await;
    let console = signed_in(&server, &server.url).await;
    console.sync(|_| {}).await.unwrap();
    assert_eq!(
        console.status().await.choices.photo_max_bytes,
        Some(5 * 1024 * 1024),
        "the server's offer"
    );
    assert_eq!(
        console.status().await.choices.photo_hint.as_deref(),
        Some("PNG or JPEG, up to 5 MB.")
    );

    let svg = "data:image/png;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+";
    let refused = console.check_photo(svg).await.unwrap_err();
    let Error::Validation {
        fields, message, ..
    } = &refused
    else {
        panic!("a form error: {refused:?}")
    };
    assert_eq!(fields[0].field, "photo");
    assert!(message.contains("an SVG drawing"), "{message}");
    let preview = console.check_photo(PNG).await.unwrap();
    assert!(preview.data_url.starts_with("data:image/png;base64,"));

    let email = format!("pho.to@{}", server.domain);
    let created = console.create_user(&person(&email), None).await.unwrap();
    assert!(!created.has_photo);
    assert_eq!(created.initials, "RD");
    // Nothing is sent for a refused file: the user's version stays.
    console
        .set_photo(&created.id, svg, created.version.clone())
        .await
        .unwrap_err();
    assert_eq!(
        console.user(&created.id).await.unwrap().version,
        created.version
    );

    let with_photo = console
        .set_photo(&created.id, PNG, created.version.clone())
        .await
        .unwrap();
    assert!(with_photo.has_photo);
    assert_ne!(with_photo.version, created.version);
    let window = console
        .search(&SearchQuery {
            text: "pho.to".into(),
            ..SearchQuery::default()
        })
        .await;
    assert!(window.rows[0].has_photo, "the offline copy follows");
    let shown = console.photos(std::slice::from_ref(&created.id)).await;
    assert_eq!(shown.len(), 1);
    assert!(
        shown[0]
            .data_url
            .as_deref()
            .is_some_and(|url| url.starts_with("data:image/jpeg;base64,")),
        "the server's re-encoded JPEG"
    );

    let removed = console
        .remove_photo(&created.id, with_photo.version.clone())
        .await
        .unwrap();
    assert!(!removed.has_photo);
    let none = console.photos(std::slice::from_ref(&created.id)).await;
    assert_eq!(none.len(), 1, "told: no photo");
    assert_eq!(none[0].data_url, None);
}

#[tokio::test]
async fn a_photo_url_elsewhere_is_never_fetched() {
    let server = Muster::start("console-photo-elsewhere", 5).await;
    let console = signed_in(&server, &server.url).await;
    // Another origin (same host, another port) that records whoever knocks.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere = format!("http://{}/steal.jpg", listener.local_addr().unwrap());
    let email = format!("far.away@{}", server.domain);
    let created = console.create_user(&person(&email), None).await.unwrap();
    // Another SCIM client sets the photo to its own address.
    server
        .client()
        .users()
        .patch(
            &created.id,
            vec![PatchOperation::replace(
                "photos",
                json!([{"value": elsewhere, "type": "photo", "primary": true}]),
            )],
            None,
        )
        .await
        .unwrap();
    console.sync(|_| {}).await.unwrap();
    let detail = console.user(&created.id).await.unwrap();
    assert!(detail.has_photo, "the user has a photo URL");
    let shown = console.photos(std::slice::from_ref(&created.id)).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].data_url, None, "nothing to show from elsewhere");
    let knock = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
    assert!(knock.is_err(), "nothing connected to the other address");
}

#[tokio::test]
async fn a_viewer_cannot_set_or_remove_a_photo() {
    let server = Muster::start("console-photo-viewer", 5).await;
    let email = format!("vic.viewer@{}", server.domain);
    server
        .server
        .seed_person(&server.org, "vic", &email, "viewer", PASSWORD);
    let viewer = server.console_as("vic", &email).await;
    viewer.sync(|_| {}).await.unwrap();
    let someone = viewer
        .search(&SearchQuery::default())
        .await
        .rows
        .into_iter()
        .find(|row| row.email.as_deref() != Some(email.as_str()))
        .unwrap();
    let set = viewer.set_photo(&someone.id, PNG, None).await.unwrap_err();
    assert!(matches!(set, Error::Forbidden { .. }), "{set:?}");
    let removed = viewer.remove_photo(&someone.id, None).await.unwrap_err();
    assert!(matches!(removed, Error::Forbidden { .. }), "{removed:?}");
    // Reading is what a viewer may do: asked for, the row is answered.
    assert_eq!(
        viewer.photos(std::slice::from_ref(&someone.id)).await.len(),
        1
    );
}
