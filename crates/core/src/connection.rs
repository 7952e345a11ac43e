//! Where to connect: a Muster server and organisation, or any SCIM 2.0 provider's base
//! URL. HTTPS is required unless the host is this machine (loopback), so credentials never
//! cross a network in the clear.

use reqwest::Url;

use crate::error::Error;

/// What kind of server a connection talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// A Muster server: sign-in at `{url}/auth/token`, SCIM at `{url}/o/{org}/scim/v2`.
    Muster {
        /// Organisation id.
        org: String,
    },
    /// Any SCIM 2.0 provider: `url` is its SCIM base URL (ending before `/Users`).
    Scim,
}

/// A server to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The server's URL (Muster) or SCIM base URL (other providers).
    pub url: String,
    /// Muster or another provider.
    pub kind: ServerKind,
    /// An extra CA certificate (PEM) to trust, for on-premises servers with a private CA.
    pub extra_ca_pem: Option<String>,
}

impl Connection {
    /// A Muster server's organisation.
    pub fn muster(url: impl Into<String>, org: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            kind: ServerKind::Muster { org: org.into() },
            extra_ca_pem: None,
        }
    }

    /// Any SCIM 2.0 provider.
    pub fn scim(base_url: impl Into<String>) -> Self {
        Self {
            url: base_url.into(),
            kind: ServerKind::Scim,
            extra_ca_pem: None,
        }
    }

    /// Checks the URL: absolute http(s), HTTPS unless loopback, an org id for Muster.
    pub fn validate(&self) -> Result<Url, Error> {
        let url = Url::parse(self.url.trim()).map_err(|error| {
            Error::invalid("url", format!("'{}' is not a URL: {error}.", self.url))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(Error::invalid(
                    "url",
                    "Use https:// — plain http is only allowed for a server on this computer.",
                ));
            }
            other => {
                return Err(Error::invalid(
                    "url",
                    format!("'{other}' is not http or https."),
                ));
            }
        }
        if let ServerKind::Muster { org } = &self.kind
            && (org.is_empty()
                || !org
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(Error::invalid(
                "org",
                format!("'{org}' is not an organisation id."),
            ));
        }
        Ok(url)
    }

    /// Whom credentials of this connection belong to: scheme, host and port, and the
    /// organisation (a Muster server) or the SCIM base path (another provider, where a
    /// path can name a tenant). A secret stored for one origin is never presented to
    /// another (see [`crate::vault::Vault::bound_to`]).
    pub fn origin(&self) -> Result<String, Error> {
        let url = self.validate()?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or_default();
        let origin = format!("{}://{host}:{port}", url.scheme());
        Ok(match &self.kind {
            ServerKind::Muster { org } => format!("{origin} org={org}"),
            ServerKind::Scim => format!("{origin}{}", url.path().trim_end_matches('/')),
        })
    }

    /// The server root without a trailing slash.
    pub fn root(&self) -> String {
        self.url.trim().trim_end_matches('/').to_owned()
    }

    /// The SCIM base URL, without a trailing slash.
    pub fn scim_base(&self) -> String {
        match &self.kind {
            ServerKind::Muster { org } => format!("{}/o/{org}/scim/v2", self.root()),
            ServerKind::Scim => self.root(),
        }
    }
}

/// Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_except_on_this_machine() {
        assert!(
            Connection::muster("https://muster.acme.test", "acme")
                .validate()
                .is_ok()
        );
        assert!(
            Connection::muster("http://127.0.0.1:8650", "acme")
                .validate()
                .is_ok()
        );
        assert!(Connection::scim("http://[::1]:9000/v2").validate().is_ok());
        assert!(Connection::scim("http://localhost/v2").validate().is_ok());
        let error = Connection::muster("http://muster.acme.test", "acme")
            .validate()
            .unwrap_err();
        assert!(
            error.to_string().contains("https"),
            "plain http elsewhere is refused: {error}"
        );
        assert!(Connection::scim("ftp://x").validate().is_err());
        assert!(
            Connection::muster("https://x.test", "Bad Org")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn scim_base_urls() {
        assert_eq!(
            Connection::muster("http://127.0.0.1:1/", "acme").scim_base(),
            "http://127.0.0.1:1/o/acme/scim/v2"
        );
        assert_eq!(
            Connection::scim("https://idp.test/scim/v2/").scim_base(),
            "https://idp.test/scim/v2"
        );
    }
}
