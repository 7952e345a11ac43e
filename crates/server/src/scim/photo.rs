//! Profile photos: `PUT`, `GET` and `DELETE /Users/{id}/photo`.
//!
//! An upload is checked by what it is, not by what it says it is: the bytes must be a PNG
//! or JPEG image (sniffed, then decoded within size limits), whatever the file name or
//! `Content-Type`. It is then shrunk to fit [`SIDE`] pixels and re-encoded as a fresh JPEG,
//! so nothing of the uploaded file (metadata, trailing payloads, a polyglot's second
//! format) is ever served back. The user's SCIM `photos` then names the photo's URL, with
//! a digest of the stored bytes so that a client's cache sees a change. Setting and
//! removing a photo are user writes: admins only, audited, `If-Match` honoured.

use std::io::Cursor;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, Rgb, RgbImage};
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::base_url;
use super::kind::Kind;
use super::resources::{WriteCtx, audited, check_if_match, finish, if_match, with_etag};
use super::store::{self, PasswordChange};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult, scim_json};
use crate::ratelimit::ClientAddr;

/// The largest upload taken, in bytes: a phone camera's JPEG fits.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The stored photo fits a square of this many pixels.
pub const SIDE: u32 = 256;
/// The largest width or height decoded: bigger images are refused before any pixel is
/// allocated (a small file can claim enormous dimensions).
const MAX_DECODED_SIDE: u32 = 8000;
/// The decoder's whole allocation budget.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
/// The stored JPEG's quality.
const QUALITY: u8 = 85;
/// How many uploads are decoded at once: each may take [`MAX_DECODED_BYTES`], so more
/// wait their turn a moment and are then told to try again (503), rather than exhausting
/// the server's memory.
const DECODING_AT_ONCE: usize = 2;
/// How long an upload waits for its turn to be decoded.
const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODING_AT_ONCE);

/// The table of stored photos, one per user.
pub const SCHEMA: &str = "
CREATE TABLE photos (
    org TEXT NOT NULL,
    user_id TEXT NOT NULL,
    jpeg BLOB NOT NULL,
    PRIMARY KEY (org, user_id)
);
";

/// What the capability document says about photos.
pub fn capability(base: &str) -> Value {
    json!({
        "endpoint": format!("{base}/Users/{{id}}/photo"),
        "methods": ["GET", "PUT", "DELETE"],
        "types": ["image/png", "image/jpeg"],
        "maxBytes": MAX_UPLOAD_BYTES,
        "side": SIDE,
    })
}

/// `PUT /Users/{id}/photo`: the body is the image file itself.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    // The caller's right first: nobody else's upload is even read.
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let jpeg = read_and_reencode(body).await;
    let ctx = user_write(&state, &caller, client, &org);
    change(&ctx, &id, &headers, jpeg.map(Some)).await
}

/// `DELETE /Users/{id}/photo`: removes the stored photo and its entry in `photos` (a
/// photo URL set through SCIM by another client is not this server's to remove). Answers
/// with the user, as a `PUT` does.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let ctx = user_write(&state, &caller, client, &org);
    change(&ctx, &id, &headers, Ok(None)).await
}

/// A write to a user of `org` by `caller`.
fn user_write<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    client: Option<std::net::IpAddr>,
    org: &'a str,
) -> WriteCtx<'a> {
    WriteCtx {
        state,
        caller,
        client,
        kind: Kind::User,
        org,
    }
}

/// Sets user `id`'s photo to `jpeg` (`Some`) or removes it (`None`) in one transaction
/// with its `photos` entry, honouring `If-Match`; audited whatever the outcome, an upload
/// refused before (`Err`) too. Answers with the user.
async fn change(
    ctx: &WriteCtx<'_>,
    id: &str,
    headers: &HeaderMap,
    jpeg: AppResult<Option<Vec<u8>>>,
) -> AppResult<Response> {
    let verb = if matches!(jpeg, Ok(None)) {
        "remove-photo"
    } else {
        "set-photo"
    };
    let state = ctx.state;
    let base = base_url(state, headers, ctx.org);
    let if_match = if_match(headers);
    let now = state.clock.now();
    let (org, user) = (ctx.org.to_owned(), id.to_owned());
    let result = match jpeg {
        Err(refused) => Err(refused),
        Ok(jpeg) => {
            state
                .db
                .write(move |tx| {
                    let old = store::get_or_404(tx, Kind::User, &org, &user)?;
                    check_if_match(if_match.as_deref(), &old)?;
                    let doc = match &jpeg {
                        Some(jpeg) => {
                            tx.execute(
                                "INSERT INTO photos (org, user_id, jpeg) VALUES (?1, ?2, ?3)
                                 ON CONFLICT (org, user_id) DO UPDATE SET jpeg = excluded.jpeg",
                                params![org, user, jpeg],
                            )?;
                            with_own_photo(&old.doc, &base, &user, jpeg)
                        }
                        None => {
                            tx.execute(
                                "DELETE FROM photos WHERE org = ?1 AND user_id = ?2",
                                params![org, user],
                            )?;
                            without_own_photo(&old.doc, &user)
                        }
                    };
                    if doc != old.doc {
                        store::update(tx, Kind::User, &org, &old, &doc, PasswordChange::Keep, now)?;
                    }
                    finish(tx, Kind::User, &org, &base, &user, now)
                })
                .await
        }
    };
    let (row, body) = audited(ctx, Some(id), verb, result).await?;
    Ok(with_etag(scim_json(&body), &row))
}

/// `GET /Users/{id}/photo`: the stored JPEG, for whoever may read the user.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> AppResult<Response> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let jpeg: Vec<u8> = state
        .db
        .read(move |conn| {
            let row = store::get_or_404(conn, Kind::User, &org, &id)?;
            // A write through SCIM that dropped the photo from `photos` hides it too.
            if !names_own_photo(&row.doc, &id) {
                return Err(AppError::not_found(format!("User '{id}' has no photo.")));
            }
            conn.query_row(
                "SELECT jpeg FROM photos WHERE org = ?1 AND user_id = ?2",
                params![org, id],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| AppError::not_found(format!("User '{id}' has no photo.")))
        })
        .await?;
    let mut response = (StatusCode::OK, jpeg).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The URL changes with the photo (`?v=`), so a client may keep it; no one else may.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    Ok(response)
}

/// Reads an upload (at most [`MAX_UPLOAD_BYTES`]) and re-encodes it on the blocking pool,
/// a few at a time.
async fn read_and_reencode(body: Body) -> AppResult<Vec<u8>> {
    let upload = axum::body::to_bytes(body, MAX_UPLOAD_BYTES)
        .await
        .map_err(|error| {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
            if too_large {
                AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "The photo is larger than {} MB: choose a smaller image.",
                        MAX_UPLOAD_BYTES / (1024 * 1024)
                    ),
                )
            } else {
                AppError::invalid_value("The photo did not arrive whole: send it again.")
            }
        })?;
    let busy = || {
        let mut error = AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is reading other photos: try again in a moment.",
        );
        error.retry_after = Some(2);
        error
    };
    let permit = tokio::time::timeout(DECODE_WAIT, DECODING.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        reencode(&upload)
    })
    .await
    .map_err(|error| AppError::internal(format!("photo task: {error}")))?
}

/// Checks that `upload` is a PNG or JPEG image within the limits and returns it shrunk to
/// fit [`SIDE`] and encoded afresh as a JPEG (transparency laid over white).
pub fn reencode(upload: &[u8]) -> AppResult<Vec<u8>> {
    if upload.is_empty() {
        return Err(AppError::invalid_value("The photo is empty."));
    }
    let format = match image::guess_format(upload) {
        Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => format,
        Ok(other) => {
            return Err(AppError::invalid_value(format!(
                "The photo is a {} image; only PNG and JPEG images are taken.",
                other
                    .extensions_str()
                    .first()
                    .unwrap_or(&"other")
                    .to_uppercase()
            )));
        }
        Err(_) => {
            return Err(AppError::invalid_value(
                "The photo is not an image: only PNG and JPEG images are taken, whatever the \
                 file is called.",
            ));
        }
    };
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let unreadable = |error: image::ImageError| {
        AppError::invalid_value(match error {
            image::ImageError::Limits(_) => format!(
                "The photo is too large to read (it may be at most {MAX_DECODED_SIDE} pixels a \
                 side, in ordinary colour depth)."
            ),
            other => format!("The photo could not be read as an image: {other}."),
        })
    };
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // A phone's portrait is stored sideways with an EXIF note saying so: turned upright
    // here, since the note does not survive the re-encoding.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let small = image.thumbnail(SIDE, SIDE).into_rgba8();
    let flat = RgbImage::from_fn(small.width(), small.height(), |x, y| {
        let [r, g, b, a] = small.get_pixel(x, y).0;
        let over_white =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        Rgb([over_white(r), over_white(g), over_white(b)])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(&flat)
        .map_err(|error| AppError::internal(format!("photo encoding: {error}")))?;
    Ok(jpeg)
}

/// `doc` naming this server's photo of user `id` as its one photo, with a digest of the
/// stored bytes in the URL.
fn with_own_photo(doc: &Value, base: &str, id: &str, jpeg: &[u8]) -> Value {
    let digest = hex(&Sha256::digest(jpeg)[..8]);
    let mut doc = doc.clone();
    doc["photos"] = json!([{
        "value": format!("{base}/Users/{id}/photo?v={digest}"),
        "type": "photo",
        "primary": true,
    }]);
    doc
}

/// Whether `url` is this server's photo of user `id` (whatever host it was written with).
fn is_own_photo(url: &str, id: &str) -> bool {
    url.split('?')
        .next()
        .unwrap_or_default()
        .ends_with(&format!("/Users/{id}/photo"))
}

/// Whether user `id`'s document names this server's photo of them.
fn names_own_photo(doc: &Value, id: &str) -> bool {
    doc["photos"].as_array().is_some_and(|photos| {
        photos
            .iter()
            .any(|p| is_own_photo(p["value"].as_str().unwrap_or_default(), id))
    })
}

/// User `id`'s `photos` as rendered: this server's photo named under `base`, the address
/// the client reached the server at (as `meta.location` is), not the one the upload came
/// through; any other entry as stored.
pub fn rendered(photos: &mut Value, base: &str, id: &str) {
    let Some(photos) = photos.as_array_mut() else {
        return;
    };
    for photo in photos {
        let Some(url) = photo["value"].as_str() else {
            continue;
        };
        if is_own_photo(url, id) {
            let query = url
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            photo["value"] = Value::String(format!("{base}/Users/{id}/photo{query}"));
        }
    }
}

/// `doc` without the `photos` entries that point at this server's photo of user `id`.
fn without_own_photo(doc: &Value, id: &str) -> Value {
    let mut doc = doc.clone();
    if let Some(Value::Array(photos)) = doc.get_mut("photos") {
        photos.retain(|photo| !is_own_photo(photo["value"].as_str().unwrap_or_default(), id));
        if photos.is_empty()
            && let Value::Object(object) = &mut doc
        {
            object.remove("photos");
        }
    }
    doc
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 128]));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_png_comes_back_a_small_jpeg() {
        let jpeg = reencode(&png(1000, 500)).unwrap();
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (SIDE, SIDE / 2));
        // Half-transparent red over white: lighter than the red itself.
        let pixel = back.to_rgb8().get_pixel(10, 10).0;
        assert!(pixel[1] > 100 && pixel[0] > 200, "{pixel:?}");
    }

    #[test]
    fn what_is_not_a_png_or_jpeg_is_refused_by_its_content() {
        let html = b"<html><script>alert(1)</script></html>";
        assert!(reencode(html).unwrap_err().detail.contains("not an image"));
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert!(reencode(gif).unwrap_err().detail.contains("GIF image"));
        assert!(reencode(b"").unwrap_err().detail.contains("empty"));
        // A PNG signature followed by garbage is named as unreadable, not stored.
        let mut broken = png(4, 4);
        broken.truncate(30);
        assert!(
            reencode(&broken)
                .unwrap_err()
                .detail
                .contains("could not be read")
        );
    }

    #[test]
    fn a_small_file_claiming_huge_dimensions_is_refused_before_decoding() {
        let mut bomb = png(1, 1);
        // IHDR's width and height (bytes 16..24), and its CRC (29..33) made right again.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let error = reencode(&bomb).unwrap_err();
        assert!(
            error.detail.contains("too large to read"),
            "{}",
            error.detail
        );
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_portrait_noted_sideways_comes_back_upright() {
        // 40 × 20 as stored, with EXIF orientation 6 (turn 90° clockwise to show).
        let stored = image::RgbImage::from_pixel(40, 20, Rgb([10, 200, 10]));
        let exif = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00".to_vec();
        let mut jpeg = Vec::new();
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90);
        image::ImageEncoder::set_exif_metadata(&mut encoder, exif).unwrap();
        encoder.encode_image(&stored).unwrap();
        let back = image::load_from_memory(&reencode(&jpeg).unwrap()).unwrap();
        assert_eq!(
            (back.width(), back.height()),
            (SIDE / 2, SIDE),
            "upright, then fitted"
        );
    }

    #[test]
    fn removing_keeps_a_photo_set_by_another_client() {
        let doc = json!({"photos": [
            {"value": "https://h/o/a/scim/v2/Users/u1/photo?v=ab", "type": "photo"},
            {"value": "https://cdn.example/u1.jpg", "type": "thumbnail"},
        ]});
        let left = without_own_photo(&doc, "u1");
        assert_eq!(left["photos"].as_array().unwrap().len(), 1);
        assert_eq!(left["photos"][0]["value"], "https://cdn.example/u1.jpg");
        let only_ours = json!({"photos": [{"value": "https://h/o/a/scim/v2/Users/u1/photo"}]});
        assert!(without_own_photo(&only_ours, "u1").get("photos").is_none());
        assert!(names_own_photo(&only_ours, "u1"));
        assert!(!names_own_photo(&left, "u1"));
        // Rendered under the address the reader reached the server at.
        let mut photos = doc["photos"].clone();
        rendered(&mut photos, "http://127.0.0.1:9/o/a/scim/v2", "u1");
        assert_eq!(
            photos[0]["value"],
            "http://127.0.0.1:9/o/a/scim/v2/Users/u1/photo?v=ab"
        );
        assert_eq!(photos[1]["value"], "https://cdn.example/u1.jpg");
    }
}
