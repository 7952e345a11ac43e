//! Profile photos over HTTP: an upload is taken by its content, shrunk and re-encoded,
//! named in SCIM `photos`, readable by whoever may read the user, and refused plainly
//! (nothing changed) when it is not an image, too large, or aimed at another
//! organisation's user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use serde_json::Value;

use crate::scim::{admin, create, person, users};
use crate::support::{scim_error, seed_org};

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([20, 120, 200]));
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn put_photo(
    server: &crate::support::TestServer,
    token: &str,
    id: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    server
        .client
        .put(server.url(&users(&format!("/{id}/photo"))))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_uploaded_image_is_reencoded_named_in_photos_and_served_to_readers() {
    let (server, token) = admin().await;
    let user = create(&server, &token, person("kim", "Kim")).await;
    let id = user["id"].as_str().unwrap();

    let response = put_photo(&server, &token, id, png(900, 600), "image/png").await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    let url = updated["photos"][0]["value"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&server.url(&users(&format!("/{id}/photo?v=")))),
        "{url}"
    );
    assert_eq!(updated["photos"][0]["type"], "photo");
    assert_ne!(updated["meta"]["version"], user["meta"]["version"]);

    let viewer_token = server
        .sign_in(Some("acme"), "vera@acme.example")
        .await
        .access;
    let photo = server
        .client
        .get(&url)
        .bearer_auth(&viewer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 200, "a viewer reads photos");
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    assert_eq!(photo.headers()["x-content-type-options"], "nosniff");
    let bytes = photo.bytes().await.unwrap();
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (256, 171));

    // A second photo gets a new URL, so a client's copy of the first is not shown.
    let again = put_photo(&server, &token, id, png(50, 50), "image/png").await;
    let again: Value = again.json().await.unwrap();
    assert_ne!(again["photos"][0]["value"], url.as_str());

    let audit = server
        .get("/o/acme/audit?action=user.set-photo", &token)
        .await;
    let audit: Value = audit.json().await.unwrap();
    assert_eq!(audit["totalResults"], 2, "{audit}");
}

#[tokio::test]
async fn a_file_that_is_not_a_png_or_jpeg_is_refused_and_changes_nothing() {
    let (server, token) = admin().await;
    let user = create(&server, &token, person("lou", "Lou")).await;
    let id = user["id"].as_str().unwrap();
    let disguised = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let error = scim_error(
        put_photo(&server, &token, id, disguised.to_vec(), "image/png").await,
        400,
    )
    .await;
    assert!(
        error["detail"].as_str().unwrap().contains("not an image"),
        "{error}"
    );
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let error = scim_error(put_photo(&server, &token, id, gif, "image/gif").await, 400).await;
    assert!(error["detail"].as_str().unwrap().contains("GIF"), "{error}");

    let too_large = vec![0u8; 6 * 1024 * 1024];
    let error = scim_error(
        put_photo(&server, &token, id, too_large, "image/jpeg").await,
        413,
    )
    .await;
    assert!(
        error["detail"].as_str().unwrap().contains("5 MB"),
        "{error}"
    );

    let now: Value = server
        .get(&users(&format!("/{id}")), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["meta"]["version"], user["meta"]["version"]);
    assert!(now.get("photos").is_none());
    let photo = server.get(&users(&format!("/{id}/photo")), &token).await;
    scim_error(photo, 404).await;
}

#[tokio::test]
async fn another_organisations_user_is_out_of_reach() {
    let (server, token) = admin().await;
    let theirs = seed_org(&server, "rival").technician;
    let response = put_photo(&server, &token, &theirs.id, png(10, 10), "image/png").await;
    scim_error(response, 404).await;
    let photo = server
        .get(&users(&format!("/{}/photo", theirs.id)), &token)
        .await;
    scim_error(photo, 404).await;
}

#[tokio::test]
async fn the_photo_url_follows_the_address_the_reader_used_and_a_scim_write_can_drop_it() {
    let (server, token) = admin().await;
    let user = create(&server, &token, person("ned", "Ned")).await;
    let id = user["id"].as_str().unwrap();
    // Uploaded through another name for the server.
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let uploaded = server
        .client
        .put(server.url(&users(&format!("/{id}/photo"))))
        .bearer_auth(&token)
        .header("host", format!("localhost:{port}"))
        .body(png(20, 20))
        .send()
        .await
        .unwrap();
    let uploaded: Value = uploaded.json().await.unwrap();
    let through = uploaded["photos"][0]["value"].as_str().unwrap().to_owned();
    assert!(
        through.starts_with(&format!("http://localhost:{port}/")),
        "{through}"
    );
    let read: Value = server
        .get(&users(&format!("/{id}")), &token)
        .await
        .json()
        .await
        .unwrap();
    let url = read["photos"][0]["value"].as_str().unwrap();
    assert!(
        url.starts_with(&server.url(&users(&format!("/{id}/photo?v=")))),
        "{url}"
    );

    // A stale If-Match is refused and the photo stays as it was.
    let stale = server
        .client
        .put(server.url(&users(&format!("/{id}/photo"))))
        .bearer_auth(&token)
        .header("if-match", user["meta"]["version"].as_str().unwrap())
        .body(png(30, 30))
        .send()
        .await
        .unwrap();
    scim_error(stale, 412).await;

    // Another client's SCIM write takes `photos` away: the photo is not served any more.
    let patched = server
        .patch(
            &users(&format!("/{id}")),
            &token,
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "remove", "path": "photos"}],
            }),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let photo = server.get(&users(&format!("/{id}/photo")), &token).await;
    scim_error(photo, 404).await;
}

#[tokio::test]
async fn removing_the_photo_takes_it_and_its_url_away() {
    let (server, token) = admin().await;
    let user = create(&server, &token, person("max", "Max")).await;
    let id = user["id"].as_str().unwrap();
    let set = put_photo(&server, &token, id, png(64, 64), "image/png").await;
    let set: Value = set.json().await.unwrap();

    // A stale If-Match is refused, as for any write.
    let stale = server
        .client
        .delete(server.url(&users(&format!("/{id}/photo"))))
        .bearer_auth(&token)
        .header("if-match", user["meta"]["version"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    scim_error(stale, 412).await;

    let removed = server
        .client
        .delete(server.url(&users(&format!("/{id}/photo"))))
        .bearer_auth(&token)
        .header("if-match", set["meta"]["version"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    let removed: Value = removed.json().await.unwrap();
    assert!(removed.get("photos").is_none(), "{removed}");
    let photo = server.get(&users(&format!("/{id}/photo")), &token).await;
    scim_error(photo, 404).await;
}
