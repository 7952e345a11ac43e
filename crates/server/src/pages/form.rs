//! The forms the link pages receive: `application/x-www-form-urlencoded` bodies (and the
//! token in a query string) read strictly, and refused with a page saying why when they
//! come from another site, are not a form, or do not decode to UTF-8.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::message_page;

/// The `token` parameter of a query string; empty when missing.
pub(super) fn token_of_query(query: Option<&str>) -> String {
    Form::parse(query.unwrap_or_default().as_bytes())
        .map(|form| form.get("token").to_owned())
        .unwrap_or_default()
}

/// A submitted `application/x-www-form-urlencoded` body.
#[derive(Debug, Default)]
pub(super) struct Form {
    fields: Vec<(String, String)>,
}

/// Why a submitted form cannot be used.
#[derive(Debug, Clone, Copy)]
pub(super) enum FormProblem {
    /// A browser says another site sent it.
    CrossSite,
    /// It is not `application/x-www-form-urlencoded`.
    NotAForm,
    /// It does not decode to UTF-8.
    Garbled,
}

impl FormProblem {
    pub(super) fn page(self) -> Response {
        let (status, title, text) = match self {
            Self::CrossSite => (
                StatusCode::FORBIDDEN,
                "This form was sent from another site",
                "For your safety, this form only works when sent from its own page. Open the \
                 link from your email again.",
            ),
            Self::NotAForm => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "This form could not be read",
                "Send the form from the page the link opens.",
            ),
            Self::Garbled => (
                StatusCode::BAD_REQUEST,
                "This form could not be read",
                "Its contents were garbled. Open the link from your email again.",
            ),
        };
        message_page(status, title, text)
    }
}

impl Form {
    /// Reads a form POST.
    pub(super) fn read(headers: &HeaderMap, body: &[u8]) -> Result<Self, FormProblem> {
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        if cross_site {
            return Err(FormProblem::CrossSite);
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(FormProblem::NotAForm);
        }
        Self::parse(body).ok_or(FormProblem::Garbled)
    }

    /// Parses `a=1&b=x+y%21`; `None` when it is not valid UTF-8 after decoding.
    fn parse(raw: &[u8]) -> Option<Self> {
        let mut fields = Vec::new();
        for pair in raw.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            let mut halves = pair.splitn(2, |&b| b == b'=');
            let name = decode(halves.next().unwrap_or_default())?;
            let value = decode(halves.next().unwrap_or_default())?;
            fields.push((name, value));
        }
        Some(Self { fields })
    }

    /// The first value of `name`; empty when missing.
    pub(super) fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; malformed escapes stay as
/// they are. `None` if the bytes are not UTF-8.
fn decode(raw: &[u8]) -> Option<String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        let escaped = raw
            .get(index + 1..index + 3)
            .filter(|_| raw[index] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (raw[index], escaped) {
            (_, Some(byte)) => {
                bytes.push(byte);
                index += 3;
            }
            (b'+', None) => {
                bytes.push(b' ');
                index += 1;
            }
            (byte, None) => {
                bytes.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        let form =
            Form::parse(b"token=mst_lw_a-b&password=p%C3%A4ss+word%21&x").unwrap_or_default();
        assert_eq!(form.get("token"), "mst_lw_a-b", "plain value");
        assert_eq!(
            form.get("password"),
            "päss word!",
            "+ is a space and %XX bytes are UTF-8"
        );
        assert_eq!(form.get("missing"), "", "missing fields are empty");
        assert_eq!(
            decode(b"100%"),
            Some("100%".to_owned()),
            "a malformed escape stays as it is"
        );
        assert!(
            Form::parse(b"a=%FF").is_none(),
            "bytes that are not UTF-8 are refused"
        );
    }
}
