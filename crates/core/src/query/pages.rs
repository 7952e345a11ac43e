//! Paging: one page of a list, and the walk through every page (prefetching, the
//! provider's quirks, each resource read from its own text), which
//! [`Collection`](crate::resources::Collection) uses for every resource type.

use std::collections::{HashMap, VecDeque};

use muster_scim::message::ListResponse;
use reqwest::Method;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::task::JoinHandle;

use super::{DEFAULT_PAGE_SIZE, ListQuery, Page, Progress};
use crate::client::Client;
use crate::error::Error;
use crate::resources::Listed;
use crate::transport::Answer;

/// One page of `endpoint` (`/Users`, `/Groups`) by `GET`.
pub(crate) async fn fetch_page<T: Listed>(
    client: &Client,
    endpoint: &str,
    query: &ListQuery,
) -> Result<Page<T>, Error> {
    let answer = client
        .send(Method::GET, endpoint, &query.to_params(), None, None, true)
        .await?;
    Ok(page_of(parse_page_body(&answer)?, query.start_index.max(1)))
}

/// One page of `endpoint` by `POST {endpoint}/.search` (sent once, as every POST).
pub(crate) async fn search_page<T: Listed>(
    client: &Client,
    endpoint: &str,
    query: &ListQuery,
) -> Result<Page<T>, Error> {
    let body = serde_json::to_value(query.to_search_request())
        .map_err(|e| Error::protocol(format!("cannot encode the search: {e}"), b""))?;
    let answer = client
        .send(
            Method::POST,
            &format!("{endpoint}/.search"),
            &[],
            Some(&body),
            None,
            false,
        )
        .await?;
    Ok(page_of(parse_page_body(&answer)?, query.start_index.max(1)))
}

fn page_of<T>(read: Read<T>, asked_start: u64) -> Page<T> {
    let Read { list, unreadable } = read;
    Page {
        total: list.total_results,
        start_index: list.start_index.unwrap_or(asked_start),
        items_per_page: len_u64(list.resources.len()) + unreadable,
        unreadable,
        resources: list.resources,
    }
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// Requests in flight at once while walking a list whose total is known.
const IN_FLIGHT: usize = 3;

/// Walks every page of `endpoint` for `query`, `query.count` (or [`DEFAULT_PAGE_SIZE`])
/// at a time, reporting progress after each page.
///
/// Providers' quirks handled: a `count` capped silently (the next page starts after what
/// came back, not after what was asked); no `totalResults` (the walk ends at an empty
/// page, or at one shorter than the provider's pages so far); the same id on two pages
/// when data shifts between requests (one copy kept, the later one, at the first one's
/// place); a provider ignoring `startIndex` (an error rather than an endless walk).
///
/// While a page is parsed (off the async threads) the next ones are already being fetched
/// (up to [`IN_FLIGHT`] requests once the total is known), guessing each starts a full
/// page after the one before; wrong guesses are abandoned and the right page asked for.
pub(crate) async fn fetch_all<T: Listed>(
    client: &Client,
    endpoint: &'static str,
    query: &ListQuery,
    progress: &mut impl FnMut(Progress),
) -> Result<Vec<T>, Error> {
    let walk = walk(client, endpoint, query, progress, |_| Ok(())).await?;
    Ok(walk.into_resources())
}

/// Walks every page as [`fetch_all`] does, handing each page's resources to `page` as
/// soon as it is read instead of keeping them all: what a caller that writes them out
/// as they come needs, holding one page at a time (and the ids seen). An id met again on
/// a later page is left out, its first copy having been handed on already.
///
/// # Errors
///
/// What [`fetch_all`] returns, and any error of `page`, which ends the walk.
pub(crate) async fn for_each_page<T: Listed>(
    client: &Client,
    endpoint: &'static str,
    query: &ListQuery,
    progress: &mut impl FnMut(Progress),
    mut page: impl FnMut(Vec<T>, Vec<(usize, T)>) -> Result<(), Error>,
) -> Result<(), Error> {
    walk(client, endpoint, query, progress, |walk| {
        let late = std::mem::take(&mut walk.late);
        page(walk.hand_on(), late)
    })
    .await?;
    Ok(())
}

/// The walk itself; `after_page` sees it after each page is taken in.
async fn walk<T: Listed>(
    client: &Client,
    endpoint: &'static str,
    query: &ListQuery,
    progress: &mut impl FnMut(Progress),
    mut after_page: impl FnMut(&mut Walk<T>) -> Result<(), Error>,
) -> Result<Walk<T>, Error> {
    let asked = query.count.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
    let mut walk = Walk::new(asked);
    let mut start = query.start_index.max(1);
    let mut current = Fetch::spawn(client, endpoint, query, start, asked);
    // Pages requested ahead of the one being read, in order of their start.
    let mut ahead: VecDeque<Fetch> = VecDeque::new();
    loop {
        let answer = current.finish().await?;
        let mut next_start = ahead.back().map_or(start, |fetch| fetch.start) + walk.step;
        while ahead.len() < walk.window() && walk.worth_prefetching(next_start - walk.step) {
            ahead.push_back(Fetch::spawn(client, endpoint, query, next_start, asked));
            next_start += walk.step;
        }
        let list = parse_list::<T>(answer).await?;
        let next = walk.absorb(list, start)?;
        progress(walk.progress());
        after_page(&mut walk)?;
        let Some(next) = next else {
            return Ok(walk);
        };
        current = match ahead.pop_front() {
            Some(fetch) if fetch.start == next => fetch,
            _ => {
                // The provider's page size turned out different: the guesses are wrong.
                ahead.clear();
                Fetch::spawn(client, endpoint, query, next, asked)
            }
        };
        start = next;
    }
}

/// A page request running on its own task; dropping it abandons the request.
struct Fetch {
    start: u64,
    handle: JoinHandle<Result<Answer, Error>>,
}

impl Fetch {
    fn spawn(
        client: &Client,
        endpoint: &'static str,
        query: &ListQuery,
        start: u64,
        count: u64,
    ) -> Self {
        let page = ListQuery {
            start_index: start,
            count: Some(count),
            ..query.clone()
        };
        let params = page.to_params();
        let client = client.clone();
        let handle = tokio::spawn(async move {
            client
                .send(Method::GET, endpoint, &params, None, None, true)
                .await
        });
        Self { start, handle }
    }

    async fn finish(mut self) -> Result<Answer, Error> {
        (&mut self.handle)
            .await
            .map_err(|e| Error::protocol(format!("a page request did not finish: {e}"), b""))?
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Parses a page on the blocking pool, so the next page keeps arriving meanwhile.
async fn parse_list<T: Listed>(answer: Answer) -> Result<Read<T>, Error> {
    tokio::task::spawn_blocking(move || parse_page_body(&answer))
        .await
        .map_err(|e| Error::protocol(format!("a page could not be parsed: {e}"), b""))?
}

/// A list as most providers write it: exact key case, `Resources` an array. Read straight
/// from the bytes, it costs a sixth less than [`ListResponse`]'s any-case reading, which
/// goes through a JSON tree first.
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "T: serde::Deserialize<'de>"))]
struct PlainList<T> {
    #[serde(
        rename = "totalResults",
        default,
        deserialize_with = "muster_scim::lenient::option_uint"
    )]
    total_results: Option<u64>,
    #[serde(
        rename = "itemsPerPage",
        default,
        deserialize_with = "muster_scim::lenient::option_uint"
    )]
    items_per_page: Option<u64>,
    #[serde(
        rename = "startIndex",
        default,
        deserialize_with = "muster_scim::lenient::option_uint"
    )]
    start_index: Option<u64>,
    #[serde(rename = "Resources", default)]
    resources: Vec<T>,
}

impl<T> PlainList<T> {
    /// Whether the plain reading found what a page has: a total and resources.
    fn is_whole(&self) -> bool {
        self.total_results.is_some() && !self.resources.is_empty()
    }

    fn into_response<R>(self, resources: Vec<R>) -> ListResponse<R> {
        ListResponse {
            total_results: self.total_results,
            items_per_page: self.items_per_page,
            start_index: self.start_index,
            resources,
        }
    }
}

/// A page's body as read: its list, and how many of its resources could not be read at
/// all and were left out.
pub(super) struct Read<T> {
    pub(super) list: ListResponse<T>,
    pub(super) unreadable: u64,
}

/// A page's body: the plain reading when it finds a total and resources, else the
/// lenient [`ListResponse`] reading (other key case, `null` resources, no total).
///
/// Where the type says so ([`Listed::BY_TEXT`]), each resource is read from its own text
/// by [`Listed::from_listed_text`]: one that cannot be kept is left out and counted, and
/// the page's others are kept (a user with a bad attribute is kept without it).
pub(super) fn parse_page_body<T: Listed>(answer: &Answer) -> Result<Read<T>, Error> {
    if T::BY_TEXT {
        if let Ok(plain) = serde_json::from_slice::<PlainList<&RawValue>>(&answer.body)
            && plain.is_whole()
        {
            let (resources, unreadable) = read_each(plain.resources.iter().map(|text| text.get()));
            let list = plain.into_response(resources);
            return Ok(Read { list, unreadable });
        }
        // The any-case reading goes through a JSON tree: each resource is written out
        // again to be read as the plain ones are (a rare provider's cost, not the usual).
        let lenient = answer.json::<ListResponse<Value>>()?;
        let texts: Vec<String> = lenient.resources.iter().map(Value::to_string).collect();
        let (resources, unreadable) = read_each(texts.iter().map(String::as_str));
        let list = ListResponse {
            total_results: lenient.total_results,
            items_per_page: lenient.items_per_page,
            start_index: lenient.start_index,
            resources,
        };
        return Ok(Read { list, unreadable });
    }
    let list = match serde_json::from_slice::<PlainList<T>>(&answer.body) {
        Ok(mut plain) if plain.is_whole() => {
            let resources = std::mem::take(&mut plain.resources);
            plain.into_response(resources)
        }
        _ => answer.json::<ListResponse<T>>()?,
    };
    Ok(Read {
        list,
        unreadable: 0,
    })
}

/// Reads each resource from its text; those that cannot be kept are left out, logged by
/// their place on the page (their text may hold what must not reach a log) and counted.
fn read_each<'a, T: Listed>(texts: impl Iterator<Item = &'a str>) -> (Vec<T>, u64) {
    let mut unreadable = 0;
    let resources = texts
        .enumerate()
        .filter_map(|(place, text)| {
            let read = T::from_listed_text(text);
            if read.is_none() {
                tracing::warn!(
                    place,
                    bytes = text.len(),
                    "a listed resource cannot be read"
                );
                unreadable += 1;
            }
            read
        })
        .collect();
    (resources, unreadable)
}

/// The state of a walk through every page.
pub(super) struct Walk<T> {
    /// The resources taken in and not yet handed on.
    resources: Vec<T>,
    /// How many were handed on before `resources` (see [`Walk::hand_on`]).
    handed_on: usize,
    /// Place of each id seen, counting those handed on.
    seen: HashMap<String, usize>,
    /// Later copies of ids whose first copy was handed on already, with its place.
    pub(super) late: Vec<(usize, T)>,
    /// The page size to expect: what was asked, or less once the provider showed a cap.
    pub(super) step: u64,
    /// The largest page the provider has returned.
    largest: u64,
    total: Option<u64>,
    /// Resources left out because they could not be read at all.
    unreadable: u64,
    pages: u64,
    stalled: u32,
}

impl<T: Listed> Walk<T> {
    pub(super) fn new(asked: u64) -> Self {
        Self {
            resources: Vec::new(),
            handed_on: 0,
            seen: HashMap::new(),
            late: Vec::new(),
            step: asked,
            largest: 0,
            total: None,
            unreadable: 0,
            pages: 0,
            stalled: 0,
        }
    }

    /// How many pages to have requested ahead of the one being read: [`IN_FLIGHT`] when
    /// the total is known (the server renders pages in parallel; the walk stays in
    /// order), one when the end can only be seen by reaching it. The one being read has
    /// come in already, so these are the requests in flight meanwhile.
    fn window(&self) -> usize {
        if self.total.is_some() { IN_FLIGHT } else { 1 }
    }

    /// Whether the page after the one starting at `start` probably exists, judged before
    /// that page is parsed. Not on the first page, so a short list costs one request.
    pub(super) fn worth_prefetching(&self, start: u64) -> bool {
        match self.total {
            _ if self.pages == 0 => false,
            Some(total) => start + self.step <= total,
            None => self.largest >= self.step,
        }
    }

    /// Takes in the page that started at `start`; returns where the next one starts, or
    /// `None` when the walk is over.
    pub(super) fn absorb(&mut self, read: Read<T>, start: u64) -> Result<Option<u64>, Error> {
        let Read { list, unreadable } = read;
        // Those left out took their places on the page all the same.
        let returned = len_u64(list.resources.len()) + unreadable;
        self.unreadable += unreadable;
        let short_of_largest = self.pages > 0 && returned < self.largest;
        self.pages += 1;
        self.total = list.total_results;
        let readable = list.resources.len();
        let added = self.keep(list.resources);
        let next = start + returned;
        if returned == 0 {
            return Ok(None);
        }
        // A page of nothing readable says nothing of `startIndex` when the total ends the
        // walk; without a total it counts as a page of nothing new, so it cannot go on
        // for ever.
        let nothing_new = added == 0 && (readable > 0 || self.total.is_none());
        self.stalled = if nothing_new { self.stalled + 1 } else { 0 };
        if self.stalled >= 2 {
            let problem = if readable == 0 {
                "the provider keeps sending pages with nothing that can be read"
            } else {
                "the provider keeps returning the same resources; it seems to ignore startIndex"
            };
            return Err(Error::protocol(problem, b""));
        }
        self.largest = self.largest.max(returned);
        if returned < self.step {
            // A silent cap: expect pages of what the provider gives.
            self.step = self.largest;
        }
        let over = match self.total {
            Some(total) => next > total,
            None => short_of_largest,
        };
        Ok((!over).then_some(next))
    }

    /// Adds resources, keeping the later copy of an id seen before (at its first place).
    /// Returns how many were new.
    fn keep(&mut self, resources: Vec<T>) -> usize {
        let mut added = 0;
        for resource in resources {
            let slot = resource.id().and_then(|id| self.seen.get(id).copied());
            match slot {
                // Its first copy was handed on already: the caller is told.
                Some(index) if index < self.handed_on => self.late.push((index, resource)),
                Some(index) => self.resources[index - self.handed_on] = resource,
                None => {
                    if let Some(id) = resource.id() {
                        self.seen
                            .insert(id.to_owned(), self.handed_on + self.resources.len());
                    }
                    self.resources.push(resource);
                    added += 1;
                }
            }
        }
        added
    }

    pub(super) fn progress(&self) -> Progress {
        Progress {
            fetched: len_u64(self.handed_on + self.resources.len()),
            total: self.total,
            unreadable: self.unreadable,
        }
    }

    pub(super) fn into_resources(self) -> Vec<T> {
        self.resources
    }

    /// The resources taken in since the last call; the ids stay seen.
    pub(super) fn hand_on(&mut self) -> Vec<T> {
        self.handed_on += self.resources.len();
        std::mem::take(&mut self.resources)
    }
}
