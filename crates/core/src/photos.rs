//! Profile photos: a Muster server's `/Users/{id}/photo` (upload, read, remove), what an
//! upload must be before it is sent, and what a screen shows without one (initials).
//!
//! A photo is read only from the server the session belongs to: the URL in SCIM `photos`
//! is followed with the session's token only within the connection's own origin (see
//! [`Client::send`]); a photo hosted elsewhere is not fetched at all, so a hostile or
//! careless `photos` value can neither collect the token nor track who looked. What comes
//! back is shown only if it is a PNG or JPEG by its content and not too large, and only
//! as a `data:` URL the engine builds, never the server's own address.

use base64::Engine as _;
use muster_scim::user::User;
use reqwest::Method;

use crate::client::Client;
use crate::error::{Error, size_words};
use crate::resources::{Versioned, path_of, versioned};

/// The largest photo the engine shows, as served. A Muster server serves 256-pixel JPEGs
/// of a few dozen kilobytes.
pub const MAX_SHOWN_BYTES: usize = 1024 * 1024;

/// An image format the app takes, told by the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
}

impl ImageKind {
    /// What `bytes` are, when they are a PNG or a JPEG.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else {
            None
        }
    }

    /// The media type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// `bytes` (an image of this kind) as a `data:` URL, whatever their size.
    pub fn data_url(self, bytes: &[u8]) -> String {
        format!(
            "data:{};base64,{}",
            self.mime(),
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

/// What a file that is not a PNG or JPEG looks like, for the refusal.
fn what_it_is(bytes: &[u8]) -> &'static str {
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_lowercase();
    if bytes.starts_with(b"GIF8") {
        "a GIF image"
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        "a WebP image"
    } else if bytes.get(4..8) == Some(b"ftyp") {
        "a HEIC image or a video"
    } else if bytes.starts_with(b"%PDF") {
        "a PDF document"
    } else if start.contains("<svg") {
        "an SVG drawing"
    } else if start.trim_start().starts_with('<') {
        "a web page or XML"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "a ZIP archive or an office document"
    } else if bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF") {
        "a program"
    } else {
        "not an image"
    }
}

/// Checks a file chosen as a photo before it is sent: not empty, at most `max_bytes`, and
/// a PNG or JPEG by its content (whatever its name says). The server checks again, and
/// decodes it.
///
/// # Errors
///
/// [`Error::Validation`] on the `photo` field, saying what is wrong.
pub fn check_upload(bytes: &[u8], max_bytes: u64) -> Result<ImageKind, Error> {
    check_size(bytes.len() as u64, max_bytes)?;
    ImageKind::sniff(bytes).ok_or_else(|| {
        let what = what_it_is(bytes);
        let what = if what == "not an image" {
            "This file is not an image".to_owned()
        } else {
            format!("This file is {what}")
        };
        Error::invalid(
            "photo",
            format!("{what}: choose a PNG or JPEG image, whatever the file is called."),
        )
    })
}

/// Checks a photo file's size (`bytes` long) before anything reads or sends it.
///
/// # Errors
///
/// [`Error::Validation`] on the `photo` field for an empty file or one over `max_bytes`.
pub fn check_size(bytes: u64, max_bytes: u64) -> Result<(), Error> {
    if bytes == 0 {
        return Err(Error::invalid("photo", "The file is empty."));
    }
    if bytes > max_bytes {
        return Err(Error::invalid(
            "photo",
            format!(
                "The photo is {}; the server takes at most {}. Choose a smaller image.",
                size_words(bytes),
                size_words(max_bytes)
            ),
        ));
    }
    Ok(())
}

/// What a form says about the photo it takes: "PNG or JPEG, up to 5 MB."
pub fn hint(max_bytes: u64) -> String {
    format!("PNG or JPEG, up to {}.", size_words(max_bytes))
}

/// The bytes of a file the screen read: a `data:` URL (its declared type is ignored) or
/// bare base64.
///
/// # Errors
///
/// [`Error::Validation`] when it is not base64.
pub fn decode_upload(text: &str) -> Result<Vec<u8>, Error> {
    let encoded = match text.split_once(";base64,") {
        Some((head, rest)) if head.starts_with("data:") => rest,
        _ => text,
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| Error::invalid("photo", "The file could not be read. Choose it again."))
}

/// `bytes` as a `data:` URL of their sniffed type, for a webview to show without asking
/// any server; `None` unless they are a PNG or JPEG of at most [`MAX_SHOWN_BYTES`].
pub fn data_url(bytes: &[u8]) -> Option<String> {
    let kind = ImageKind::sniff(bytes)?;
    (bytes.len() <= MAX_SHOWN_BYTES).then(|| kind.data_url(bytes))
}

/// The URL of a user's photo: the primary entry of type `photo`, else any `photo`, else
/// the first entry with a value.
pub fn photo_url(user: &User) -> Option<&str> {
    let photos = || user.photos.iter().filter(|p| p.value.is_some());
    let is_photo = |p: &&muster_scim::user::MultiValue| p.kind.as_deref() == Some("photo");
    photos()
        .find(|p| is_photo(p) && p.primary == Some(true))
        .or_else(|| photos().find(is_photo))
        .or_else(|| photos().next())
        .and_then(|p| p.value.as_deref())
}

/// One or two letters for a user without a photo: given and family name, else the words
/// of the display name, else the sign-in name.
pub fn initials(user: &User) -> String {
    let first = |text: &str| text.trim().chars().next();
    let name = user.name.as_ref();
    let given = name.and_then(|n| n.given_name.as_deref()).and_then(first);
    let family = name.and_then(|n| n.family_name.as_deref()).and_then(first);
    let letters: Vec<char> = match (given, family) {
        (Some(g), Some(f)) => vec![g, f],
        _ => {
            let display = user.display_name();
            let words: Vec<&str> = display.split_whitespace().collect();
            match words.as_slice() {
                [] => first(&user.user_name).into_iter().collect(),
                [one] => first(one).into_iter().collect(),
                [one, .., last] => [first(one), first(last)].into_iter().flatten().collect(),
            }
        }
    };
    letters
        .into_iter()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

impl Client {
    /// Uploads `bytes` as user `id`'s photo (a Muster server) and returns the user as it
    /// now is. Checked first with [`check_upload`].
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a file the server refuses (it says why).
    pub async fn set_photo(
        &self,
        id: &str,
        bytes: &[u8],
        max_bytes: u64,
        if_match: Option<&str>,
    ) -> Result<Versioned<User>, Error> {
        let kind = check_upload(bytes, max_bytes)?;
        let path = format!("{}/photo", path_of::<User>(id)?);
        let answer = self
            .send_bytes(Method::PUT, &path, bytes, kind.mime(), if_match)
            .await?;
        versioned(&answer)
    }

    /// Removes user `id`'s photo and returns the user as it now is.
    ///
    /// # Errors
    ///
    /// As any write.
    pub async fn remove_photo(
        &self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<Versioned<User>, Error> {
        let path = format!("{}/photo", path_of::<User>(id)?);
        let answer = self
            .send(Method::DELETE, &path, &[], None, if_match, true)
            .await?;
        versioned(&answer)
    }

    /// A photo at `url` as a `data:` URL, when `url` is on this connection's server and
    /// what it serves is a PNG or JPEG small enough to show; `Ok(None)` otherwise.
    ///
    /// # Errors
    ///
    /// Network and HTTP errors of the read.
    pub async fn photo(&self, url: &str) -> Result<Option<String>, Error> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Ok(None);
        }
        let answer = match self.send(Method::GET, url, &[], None, None, true).await {
            Ok(answer) => answer,
            // Another origin: not fetched (see the module's note).
            Err(Error::Protocol { .. }) => return Ok(None),
            Err(other) => return Err(other),
        };
        Ok(data_url(&answer.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(value: serde_json::Value) -> User {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_upload_is_judged_by_its_content() {
        let png = b"\x89PNG\r\n\x1a\n rest of it";
        assert_eq!(check_upload(png, 100).unwrap(), ImageKind::Png);
        assert_eq!(
            check_upload(b"\xFF\xD8\xFF\xE0", 100).unwrap(),
            ImageKind::Jpeg
        );
        let refusal = |bytes: &[u8]| check_upload(bytes, 1000).unwrap_err().to_string();
        assert!(refusal(b"<svg xmlns=''/>").contains("an SVG drawing"));
        assert!(refusal(b"GIF89a....").contains("a GIF image"));
        assert!(refusal(b"MZ\x90\x00").contains("a program"));
        assert!(refusal(b"hello").contains("not an image"));
        assert!(refusal(b"").contains("empty"));
        let big = check_upload(&[0xFF; 3 * 1024 * 1024], 2 * 1024 * 1024).unwrap_err();
        assert_eq!(
            big.to_string(),
            "The photo is 3 MB; the server takes at most 2 MB. Choose a smaller image."
        );
        let Error::Validation { fields, .. } = big else {
            panic!("a validation error")
        };
        assert_eq!(fields[0].field, "photo");
        assert_eq!(hint(5 * 1024 * 1024), "PNG or JPEG, up to 5 MB.");
    }

    #[test]
    fn a_data_url_is_read_whatever_type_it_claims_and_shown_only_as_an_image() {
        let bytes = decode_upload("data:text/plain;base64,iVBORw0KGgo=").unwrap();
        assert_eq!(ImageKind::sniff(&bytes), Some(ImageKind::Png));
        assert_eq!(decode_upload("iVBORw0KGgo=").unwrap(), bytes);
        assert!(decode_upload("data:image/png;base64,***").is_err());
        assert_eq!(
            data_url(&bytes).unwrap(),
            "data:image/png;base64,iVBORw0KGgo="
        );
        assert_eq!(data_url(b"<svg onload=alert(1)>"), None);
        let mut huge = vec![0xFF, 0xD8, 0xFF];
        huge.resize(MAX_SHOWN_BYTES + 1, 0);
        assert_eq!(data_url(&huge), None);
    }

    #[test]
    fn the_photo_url_prefers_the_primary_photo() {
        let u = user(json!({"userName": "a", "photos": [
            {"value": "https://x/thumb", "type": "thumbnail"},
            {"value": "https://x/other", "type": "photo"},
            {"value": "https://x/main", "type": "photo", "primary": true},
        ]}));
        assert_eq!(photo_url(&u), Some("https://x/main"));
        let thumb = user(
            json!({"userName": "a", "photos": [{"value": "https://x/t", "type": "thumbnail"}]}),
        );
        assert_eq!(photo_url(&thumb), Some("https://x/t"));
        assert_eq!(photo_url(&user(json!({"userName": "a"}))), None);
    }

    #[test]
    fn initials_come_from_the_names_there_are() {
        let named = user(
            json!({"userName": "jd", "name": {"givenName": "jane", "familyName": "Ödegaard"}}),
        );
        assert_eq!(initials(&named), "JÖ");
        let display = user(json!({"userName": "x", "displayName": "Mary Anne Lee"}));
        assert_eq!(initials(&display), "ML");
        let bare = user(json!({"userName": "robot"}));
        assert_eq!(initials(&bare), "R");
    }
}
