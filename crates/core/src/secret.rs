//! [`Secret`]: how tokens, API keys and passwords are held. It prints as `<redacted>`,
//! implements neither `Display` nor `Serialize`, and wipes its memory when dropped, so a
//! secret reaches a log, a file or the UI only through a deliberate [`Secret::expose`].

use zeroize::Zeroize;

/// A secret string.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::new("mst_at_very-secret");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(
            format!("{:?}", Some(&secret)),
            "Some(<redacted>)",
            "nor inside other types"
        );
        assert_eq!(
            secret.expose(),
            "mst_at_very-secret",
            "expose is the one way out"
        );
    }
}
