//! Profile photos in the console: checking a chosen file, setting and removing a user's
//! photo, and the photos of the rows on screen as `data:` URLs (kept in memory for the
//! session; nothing of them is written to disk).

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use crate::error::Error;
use crate::photos::{self, check_upload, decode_upload, photo_url};

use super::status::capabilities_of;
use super::view::UserDetail;
use super::{Console, active};

/// How many bytes of photos the session keeps in memory (a Muster server's are a few
/// dozen kilobytes each; another provider's may be up to [`photos::MAX_SHOWN_BYTES`]).
const KEPT_BYTES: usize = 32 * 1024 * 1024;
/// How many photos one call reads at most (a screenful of rows).
const PER_CALL: usize = 100;
/// How many photos are read at once.
const IN_FLIGHT: usize = 6;

/// A chosen file that may be sent as a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct PhotoPreview {
    /// The file as a `data:` URL of its real type, for the form to show.
    pub data_url: String,
    /// Its size in bytes.
    pub bytes: u32,
}

/// The photo of one user as it stands: a `data:` URL the screen shows as it is, or
/// `None` when there is none to show (no photo, a photo elsewhere than the server, or not
/// an image). A user whose photo could not be read now (offline) is left out of the
/// answer, to be asked for again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct PhotoView {
    /// User id.
    pub id: String,
    /// `data:image/jpeg;base64,…`.
    pub data_url: Option<String>,
}

/// Photos read this session, by URL (a URL names one version of a photo); `None` for a
/// URL that gave nothing to show. The oldest go first when full.
#[derive(Debug, Default)]
pub(super) struct PhotoMemory {
    by_url: HashMap<String, Option<String>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl PhotoMemory {
    fn get(&self, url: &str) -> Option<&Option<String>> {
        self.by_url.get(url)
    }

    fn keep(&mut self, url: String, shown: Option<String>) {
        let size = url.len() + shown.as_ref().map_or(0, String::len);
        match self.by_url.insert(url.clone(), shown) {
            Some(before) => self.bytes -= url.len() + before.map_or(0, |b| b.len()),
            None => self.order.push_back(url),
        }
        self.bytes += size;
        while self.bytes > KEPT_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.by_url.remove(&oldest) {
                self.bytes -= oldest.len() + gone.map_or(0, |g| g.len());
            }
        }
    }
}

impl Console {
    /// The largest photo the provider takes, or why it takes none.
    async fn photo_limit(&self) -> Result<u64, Error> {
        let state = self.state.lock().await;
        capabilities_of(active(&state)?)
            .photo_max_bytes
            .ok_or_else(|| Error::Unsupported {
                message: "This server does not take profile photos.".to_owned(),
            })
    }

    /// Checks a chosen file's size before the form reads it: not empty, and no larger
    /// than the provider takes.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] on the `photo` field; [`Error::Unsupported`] when the
    /// provider takes no photos.
    pub async fn check_photo_size(&self, bytes: u64) -> Result<(), Error> {
        photos::check_size(bytes, self.photo_limit().await?)
    }

    /// Checks a file the form read (a `data:` URL or base64) as a photo: its size and
    /// that it is a PNG or JPEG by content. The preview is the file with its real type.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] on the `photo` field; [`Error::Unsupported`] when the
    /// provider takes no photos.
    pub async fn check_photo(&self, file: &str) -> Result<PhotoPreview, Error> {
        let max = self.photo_limit().await?;
        let bytes = decode_upload(file)?;
        // Previewed whatever its size (what is stored is the server's small re-encoding).
        let kind = check_upload(&bytes, max)?;
        Ok(PhotoPreview {
            data_url: kind.data_url(&bytes),
            bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        })
    }

    /// Sets user `id`'s photo from a file the form read, at the version the form holds,
    /// and puts the answer in the offline copy.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a file that is not a PNG or JPEG, or too large (the
    /// engine's check or the server's); a stale version; [`Error::Forbidden`]…
    pub async fn set_photo(
        &self,
        id: &str,
        file: &str,
        version: Option<String>,
    ) -> Result<UserDetail, Error> {
        let max = self.photo_limit().await?;
        let bytes = decode_upload(file)?;
        check_upload(&bytes, max)?;
        let client = self.writer().await?;
        let saved = self
            .note_and_save_session(client.set_photo(id, &bytes, max, version.as_deref()).await)
            .await?;
        self.apply(&saved.value).await;
        Ok(self.detail(&saved.value, saved.etag, false).await)
    }

    /// Removes user `id`'s photo.
    ///
    /// # Errors
    ///
    /// As [`Console::set_photo`].
    pub async fn remove_photo(
        &self,
        id: &str,
        version: Option<String>,
    ) -> Result<UserDetail, Error> {
        self.photo_limit().await?;
        let client = self.writer().await?;
        let saved = self
            .note_and_save_session(client.remove_photo(id, version.as_deref()).await)
            .await?;
        self.apply(&saved.value).await;
        Ok(self.detail(&saved.value, saved.etag, false).await)
    }

    /// The photos of users `ids` (the rows on screen, at most a hundred): read from the
    /// server once per photo version and kept for the session. Each user asked for is in
    /// the answer, with `None` for one without a photo to show, except those whose photo
    /// could not be read now (offline), to be asked for again. The reads' outcome goes
    /// through the session like any request's (a refreshed session is kept, a lost
    /// connection or an ended session is noted).
    pub async fn photos(&self, ids: &[String]) -> Vec<PhotoView> {
        let wanted: std::collections::HashSet<&str> =
            ids.iter().take(PER_CALL).map(String::as_str).collect();
        let data = self.data().await;
        let mut known = Vec::new();
        let mut urls: Vec<(String, String)> = Vec::new();
        for user in &data.snapshot.users {
            let Some(id) = user.id().filter(|id| wanted.contains(id)) else {
                continue;
            };
            match photo_url(&user.user()) {
                Some(url) => urls.push((id.to_owned(), url.to_owned())),
                None => known.push(PhotoView {
                    id: id.to_owned(),
                    data_url: None,
                }),
            }
        }
        drop(data);
        let (client, missing) = {
            let state = self.state.lock().await;
            let Ok(active) = active(&state) else {
                return Vec::new();
            };
            let memory = &active.session.photos;
            let mut missing = Vec::new();
            for (id, url) in urls {
                match memory.get(&url) {
                    Some(shown) => known.push(PhotoView {
                        id,
                        data_url: shown.clone(),
                    }),
                    None => missing.push((id, url)),
                }
            }
            (active.session.client.clone(), missing)
        };
        let Some(client) = client.filter(|_| !missing.is_empty()) else {
            return known;
        };
        // A few at a time, as a browser would.
        let mut reads = tokio::task::JoinSet::new();
        let mut queue = missing.into_iter();
        let mut read_now = Vec::new();
        loop {
            while reads.len() < IN_FLIGHT {
                let Some((id, url)) = queue.next() else { break };
                let client = client.clone();
                reads.spawn(async move {
                    let read = client.photo(&url).await;
                    (id, url, read)
                });
            }
            match reads.join_next().await {
                Some(Ok(done)) => read_now.push(done),
                Some(Err(_)) => {}
                None => break,
            }
        }
        let mut outcome = Ok(());
        {
            let mut state = self.state.lock().await;
            if let Some(active) = state.active.as_mut() {
                for (id, url, read) in read_now {
                    match read {
                        Ok(shown) => {
                            known.push(PhotoView {
                                id,
                                data_url: shown.clone(),
                            });
                            active.session.photos.keep(url, shown);
                        }
                        // A photo the server does not have (any more): none to show.
                        Err(Error::NotFound { .. }) => {
                            known.push(PhotoView { id, data_url: None });
                            active.session.photos.keep(url, None);
                        }
                        // Offline, or the session refused: left out, asked again later.
                        Err(error) => {
                            tracing::debug!(%error, "photo not read");
                            if outcome.is_ok() {
                                outcome = Err(error);
                            }
                        }
                    }
                }
            }
        }
        // Like any request's: a session refreshed by the reads is kept in the keychain,
        // a lost connection or an ended session is noted.
        let _ = self.note_and_save_session(outcome).await;
        known
    }
}
