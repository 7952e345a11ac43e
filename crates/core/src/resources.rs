//! What users and [groups](crate::groups) share: a [`Collection`] of one SCIM resource
//! type with its list, search, get, create, replace, patch and delete, and [`Versioned`].
//!
//! Every write is sent once with the provider's version (`If-Match`) when the caller has
//! one; reads and versioned writes may be retried by the transport. What comes back is the
//! resource as the server now holds it, with its version: a provider that answers a PATCH
//! with `204 No Content` (scim2-server does) is asked for the resource again.

use std::marker::PhantomData;

use muster_scim::message::{PatchOp, PatchOperation};
use reqwest::Method;
use reqwest::header::LOCATION;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::query::{self, ListQuery, Page, Progress};
use crate::transport::Answer;

/// A resource with the version the server gave it (its `ETag`, or else `meta.version`),
/// to send back as `If-Match` with the next change.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The resource as the server holds it.
    pub value: T,
    /// Its version, when the provider supports versions.
    pub etag: Option<String>,
}

/// The resources of one type at the connected provider: [`Users`](crate::users::Users)
/// and [`Groups`](crate::groups::Groups).
#[derive(Debug)]
pub struct Collection<'a, T> {
    pub(crate) client: &'a Client,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Collection<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Collection<'_, T> {}

impl<'a, T> Collection<'a, T> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self {
            client,
            kind: PhantomData,
        }
    }
}

impl<T: Resource> Collection<'_, T> {
    /// Every resource matching `query`, page after page (`query.count`, or
    /// [`query::DEFAULT_PAGE_SIZE`], at a time), calling `progress` after each page.
    /// Each appears once, even if data shifted between pages; attributes the engine does
    /// not model are kept.
    pub async fn list_all(
        &self,
        query: &ListQuery,
        mut progress: impl FnMut(Progress),
    ) -> Result<Vec<T>, Error> {
        query::fetch_all(self.client, T::ENDPOINT, query, &mut progress).await
    }

    /// Every resource matching `query` as [`Collection::list_all`] walks them, each page's
    /// handed to `page` as soon as it is read rather than all kept: one page in memory at
    /// a time. An id met again on a later page is left out (its first copy was handed on).
    ///
    /// # Errors
    ///
    /// As [`Collection::list_all`], and any error `page` returns, which ends the walk.
    pub async fn for_each_page(
        &self,
        query: &ListQuery,
        progress: impl FnMut(Progress),
        mut page: impl FnMut(Vec<T>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.for_each_page_with_later(query, progress, |fresh, _| page(fresh))
            .await
    }

    /// [`Collection::for_each_page`], with each page's later copies of resources handed on
    /// before (data shifted between pages), each with the place its first copy had among
    /// all those handed on: what [`Collection::list_all`] keeps in their place.
    ///
    /// # Errors
    ///
    /// As [`Collection::for_each_page`].
    pub async fn for_each_page_with_later(
        &self,
        query: &ListQuery,
        mut progress: impl FnMut(Progress),
        page: impl FnMut(Vec<T>, Vec<(usize, T)>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        query::for_each_page(self.client, T::ENDPOINT, query, &mut progress, page).await
    }

    /// The id of every resource matching `query`, read with `attributes=id` and nothing
    /// else of each parsed: what the reconciliation pass compares with the offline copy.
    pub async fn list_ids(
        &self,
        query: &ListQuery,
        mut progress: impl FnMut(Progress),
    ) -> Result<Vec<String>, Error> {
        let query = ListQuery {
            attributes: vec!["id".to_owned()],
            ..query.clone()
        };
        let listed: Vec<IdOnly> =
            query::fetch_all(self.client, T::ENDPOINT, &query, &mut progress).await?;
        Ok(listed.into_iter().filter_map(|listed| listed.id).collect())
    }

    /// One page, as `query` asks.
    pub async fn page(&self, query: &ListQuery) -> Result<Page<T>, Error> {
        query::fetch_page(self.client, T::ENDPOINT, query).await
    }

    /// One page matching `query.filter` (the filter goes in the query string, as every
    /// provider accepts). The same as [`Collection::page`]; named for readability.
    pub async fn search(&self, query: &ListQuery) -> Result<Page<T>, Error> {
        self.page(query).await
    }

    /// One page by `POST /{Endpoint}/.search`, for filters too long for a URL. Sent once
    /// (it is a POST).
    pub async fn search_post(&self, query: &ListQuery) -> Result<Page<T>, Error> {
        query::search_page(self.client, T::ENDPOINT, query).await
    }

    /// The resource with this id.
    pub async fn get(&self, id: &str) -> Result<Versioned<T>, Error> {
        let answer = self
            .client
            .send(Method::GET, &path_of::<T>(id)?, &[], None, None, true)
            .await?;
        versioned(&answer)
    }

    /// Creates a resource (`POST`, sent exactly once).
    pub async fn create(&self, resource: &T) -> Result<Versioned<T>, Error> {
        let body = encode(resource)?;
        let answer = self
            .client
            .send(Method::POST, T::ENDPOINT, &[], Some(&body), None, false)
            .await?;
        if has_body(&answer) {
            return versioned(&answer);
        }
        // A provider that creates without answering the resource: read it where it says.
        let location = answer
            .headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                Error::protocol(
                    format!(
                        "the {} was created but the answer holds neither it nor its address",
                        T::NAME
                    ),
                    &answer.body,
                )
            })?;
        let again = self
            .client
            .send(Method::GET, location, &[], None, None, true)
            .await?;
        versioned(&again)
    }

    /// Replaces a resource (`PUT`), only if it is still at version `etag` when one is
    /// given.
    pub async fn replace(
        &self,
        id: &str,
        resource: &T,
        etag: Option<&str>,
    ) -> Result<Versioned<T>, Error> {
        let body = encode(resource)?;
        let path = path_of::<T>(id)?;
        let answer = self
            .client
            .send(Method::PUT, &path, &[], Some(&body), etag, true)
            .await?;
        self.answered_or_read(id, &answer).await
    }

    /// Changes parts of a resource (`PATCH`), only if it is still at version `etag` when
    /// one is given (and only then may the request be retried).
    pub async fn patch(
        &self,
        id: &str,
        operations: Vec<PatchOperation>,
        etag: Option<&str>,
    ) -> Result<Versioned<T>, Error> {
        if operations.is_empty() {
            return Err(Error::invalid(
                "operations",
                "A change needs at least one operation.",
            ));
        }
        let body = serde_json::to_value(PatchOp::new(operations)).map_err(|e| {
            Error::invalid("operations", format!("The change cannot be sent: {e}."))
        })?;
        // Without If-Match a repeated PATCH could apply twice (an `add` to a list): send once.
        let path = path_of::<T>(id)?;
        let answer = self
            .client
            .send(Method::PATCH, &path, &[], Some(&body), etag, etag.is_some())
            .await?;
        self.answered_or_read(id, &answer).await
    }

    /// Deletes a resource, only if it is still at version `etag` when one is given. (A
    /// Muster server keeps a deleted user, soft-deleted, for a system admin to restore.)
    pub async fn delete(&self, id: &str, etag: Option<&str>) -> Result<(), Error> {
        self.client
            .send(Method::DELETE, &path_of::<T>(id)?, &[], None, etag, true)
            .await
            .map(|_| ())
    }

    /// The resource in a write's answer, or, when the provider answered `204 No Content`
    /// (scim2-server does), as it is read again: the change is made either way.
    async fn answered_or_read(&self, id: &str, answer: &Answer) -> Result<Versioned<T>, Error> {
        if has_body(answer) {
            versioned(answer)
        } else {
            self.get(id).await
        }
    }
}

/// What a page of a list is read as: something with an id, by which a walk through the
/// pages keeps each once.
pub trait Listed: DeserializeOwned + Send + 'static {
    /// Its id.
    fn id(&self) -> Option<&str>;

    /// Whether a page's resources are each read from their own text by
    /// [`from_listed_text`](Self::from_listed_text) rather than by serde in one pass.
    const BY_TEXT: bool = false;

    /// Reads one listed resource from its JSON text: `None` when it cannot be kept, and
    /// the page's other resources are read without it.
    fn from_listed_text(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A SCIM resource type the engine reads and writes.
pub trait Resource: Listed {
    /// Its endpoint under the SCIM base: `/Users`.
    const ENDPOINT: &'static str;
    /// Its name, for messages: `user`.
    const NAME: &'static str;
    /// Its `meta.version`.
    fn version(&self) -> Option<&str>;
    /// Its JSON for a request body.
    fn body(&self) -> Result<Value, serde_json::Error>;
}

/// Implements [`Resource`] for a `muster_scim` resource type, which all hold an `id`, a
/// `meta` and write themselves with `to_json`: `scim_resource!(User, "/Users", "user")`.
macro_rules! scim_resource {
    ($type:ty, $endpoint:literal, $name:literal) => {
        impl $crate::resources::Listed for $type {
            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }

            // Straight into the struct when the provider writes it as the schema spells
            // it, which is about five times faster than the lenient reading.
            const BY_TEXT: bool = true;

            fn from_listed_text(text: &str) -> Option<Self> {
                <$type>::from_listed_text(text)
            }
        }

        impl $crate::resources::Resource for $type {
            const ENDPOINT: &'static str = $endpoint;
            const NAME: &'static str = $name;

            fn version(&self) -> Option<&str> {
                self.meta.as_ref().and_then(|meta| meta.version.as_deref())
            }

            fn body(&self) -> Result<serde_json::Value, serde_json::Error> {
                self.to_json()
            }
        }
    };
}
pub(crate) use scim_resource;

/// A listed resource read for its id alone (a string, or a number some providers send),
/// whatever else it holds.
#[derive(Debug, serde::Deserialize)]
struct IdOnly {
    #[serde(default, alias = "ID", alias = "Id", deserialize_with = "id_text")]
    id: Option<String>,
}

impl Listed for IdOnly {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

fn id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(
        match <Option<Value> as serde::Deserialize>::deserialize(deserializer)? {
            Some(Value::String(text)) => Some(text),
            Some(Value::Number(number)) => Some(number.to_string()),
            _ => None,
        },
    )
}

/// `/Users/{id}` with the id escaped as one path segment. An empty id, `.` or `..` would
/// name another resource, so they are refused.
pub(crate) fn path_of<T: Resource>(id: &str) -> Result<String, Error> {
    if matches!(id.trim(), "" | "." | "..") {
        return Err(Error::invalid(
            "id",
            format!("'{id}' is not the id of a {}.", T::NAME),
        ));
    }
    Ok(format!("{}/{}", T::ENDPOINT, segment(id)))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id can never
/// reach another path.
pub(crate) fn segment(id: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// The resource in an answer, with its version from `ETag` or else `meta.version`.
///
/// A resource read from its own text ([`Listed::BY_TEXT`]) keeps what can be read of it,
/// as a listed one does: a user with one bad attribute is shown without it.
pub(crate) fn versioned<T: Resource>(answer: &Answer) -> Result<Versioned<T>, Error> {
    let read = std::str::from_utf8(&answer.body)
        .ok()
        .filter(|_| T::BY_TEXT)
        .and_then(T::from_listed_text);
    let value: T = match read {
        Some(value) => value,
        // Not such a resource: the reading's own error says why.
        None => answer.json()?,
    };
    let etag = answer.etag().or_else(|| value.version().map(str::to_owned));
    Ok(Versioned { value, etag })
}

fn encode<T: Resource>(resource: &T) -> Result<Value, Error> {
    resource
        .body()
        .map_err(|e| Error::invalid(T::NAME, format!("The {} cannot be sent: {e}.", T::NAME)))
}

fn has_body(answer: &Answer) -> bool {
    !answer.body.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use muster_scim::user::User;

    use super::*;

    #[test]
    fn an_id_only_listing_reads_ids_whatever_else_comes() {
        let read = |json: &str| serde_json::from_str::<IdOnly>(json).unwrap().id;
        assert_eq!(
            read(r#"{"id":"u1","schemas":["x"],"name":{"givenName":"A"}}"#).as_deref(),
            Some("u1")
        );
        assert_eq!(
            read(r#"{"ID":42}"#).as_deref(),
            Some("42"),
            "a numeric id, any key case"
        );
        assert_eq!(read(r#"{"id":null}"#), None);
        assert_eq!(read(r#"{"userName":"no-id"}"#), None);
    }

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(segment("2819c223-7f76"), "2819c223-7f76");
        assert_eq!(segment("../admin?x=1"), "..%2Fadmin%3Fx%3D1");
        assert_eq!(path_of::<User>("a b/é").unwrap(), "/Users/a%20b%2F%C3%A9");
        assert!(
            path_of::<User>("..").is_err(),
            "'..' would climb out of /Users"
        );
        assert!(
            path_of::<User>("").is_err(),
            "an empty id would list every user"
        );
    }
}
