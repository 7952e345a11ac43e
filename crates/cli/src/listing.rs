//! Reading users for `muster users list`: one page, every user, or every user written out
//! as JSON page by page as they are read (`--all --json`), so that a list of a hundred
//! thousand people is never all in memory at once.

use std::io::Write;

use muster_core::Error;
use muster_core::query::ListQuery;
use muster_core::search::{Index, SearchQuery};
use muster_scim::user::User;
use serde::Serialize;
use time::OffsetDateTime;

use crate::Target;
use crate::failure::Failure;
use crate::output::{Progress, closed_pipe_is_fine};

/// The users `query` asks for, from the server; with `all`, every one.
pub(crate) async fn fetch(
    query: &ListQuery,
    all: bool,
    target: &Target,
) -> Result<(Vec<User>, Option<u64>), Failure> {
    let client = target.client().await?;
    if all {
        let mut progress = Progress::on_terminal();
        let users = client
            .users()
            .list_all(query, |p| progress.update(p.fetched, p.total))
            .await?;
        progress.finish();
        Ok((users, None))
    } else {
        let page = client.users().page(query).await?;
        Ok((page.resources, page.total))
    }
}

/// How a streamed list ended.
pub(crate) enum Streamed {
    /// Every user was written.
    Whole,
    /// The reader went away first (`muster users list --all --json | head`).
    ReaderGone,
}

/// Every user `query` lists, written to stdout as JSON page by page as they are read: the
/// same text `Output::json` prints for the whole list. Also says whether any of it was
/// written: a failure after that leaves the list cut off (said on stderr), and is not one
/// the offline copy can stand in for.
pub(crate) async fn stream(
    query: &ListQuery,
    target: &Target,
) -> (Result<Streamed, Failure>, bool) {
    let client = match target.client().await {
        Ok(client) => client,
        Err(failure) => return (Err(failure), false),
    };
    let mut progress = Progress::beside_output();
    let mut array = JsonArray::new(std::io::BufWriter::new(std::io::stdout()));
    let walked = client
        .users()
        .for_each_page(
            query,
            |p| progress.update(p.fetched, p.total),
            |users| array.extend(&users),
        )
        .await;
    progress.finish();
    let started = array.started();
    let ended = match walked {
        // Stopped by the writer: its own failure says why (a closed pipe is none).
        Err(_) if array.stopped.is_some() => array.finish(),
        Err(error) => {
            // What is written stands before the words that say it ends there.
            if started {
                match array.flush() {
                    Ok(()) => {
                        eprintln!("The list above is cut off after {} users.", array.written())
                    }
                    Err(_) => eprintln!("The list above is cut off."),
                }
            }
            Err(error.into())
        }
        Ok(()) => array.finish(),
    };
    (ended, started)
}

/// The users the engine's search keeps (free text over name, email, username and phone;
/// statuses; invitations about to lapse), in their order.
pub(crate) fn narrow(users: Vec<User>, query: &SearchQuery) -> Vec<User> {
    let index = Index::build(&users);
    let result = index.search(query, OffsetDateTime::now_utc());
    let mut keep = vec![false; users.len()];
    for row in result.rows {
        if let Some(k) = keep.get_mut(row) {
            *k = true;
        }
    }
    users
        .into_iter()
        .zip(keep)
        .filter_map(|(user, k)| k.then_some(user))
        .collect()
}

/// A JSON array written item by item, as `serde_json::to_writer_pretty` writes a whole
/// one (two spaces a level), then a newline.
struct JsonArray<W: Write> {
    out: W,
    written: usize,
    /// What stopped the writing; nothing more is written after it.
    stopped: Option<Stop>,
}

/// Why a [`JsonArray`] stopped before its end.
enum Stop {
    /// The reader went away (`muster users list --all --json | head`): not a failure.
    Closed,
    Failed(Failure),
}

impl<W: Write> JsonArray<W> {
    fn new(out: W) -> Self {
        Self {
            out,
            written: 0,
            stopped: None,
        }
    }

    fn started(&self) -> bool {
        self.written > 0
    }

    fn written(&self) -> usize {
        self.written
    }

    /// Writes `items`. A failure is kept for [`JsonArray::finish`] and returned as an
    /// error that ends the walk.
    fn extend<T: Serialize>(&mut self, items: &[T]) -> Result<(), Error> {
        let stopped = || Error::Storage {
            message: "The list could not be written.".to_owned(),
        };
        if self.stopped.is_some() {
            return Err(stopped());
        }
        for item in items {
            if let Err(stop) = self.push(item) {
                self.stopped = Some(stop);
                return Err(stopped());
            }
        }
        Ok(())
    }

    fn push<T: Serialize>(&mut self, item: &T) -> Result<(), Stop> {
        let text = serde_json::to_vec_pretty(item).map_err(|error| {
            Stop::Failed(Failure::Local(format!(
                "Cannot encode the answer: {error}."
            )))
        })?;
        let lead: &[u8] = if self.written == 0 {
            b"[\n  "
        } else {
            b",\n  "
        };
        let mut write = || -> std::io::Result<()> {
            self.out.write_all(lead)?;
            // One level deeper: every line of the item indented by two more spaces.
            for (number, line) in text.split(|b| *b == b'\n').enumerate() {
                if number > 0 {
                    self.out.write_all(b"\n  ")?;
                }
                self.out.write_all(line)?;
            }
            Ok(())
        };
        write().map_err(|error| match closed_pipe_is_fine(error) {
            Ok(()) => Stop::Closed,
            Err(failure) => Stop::Failed(failure),
        })?;
        self.written += 1;
        Ok(())
    }

    /// Writes out what is buffered.
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Closes the array, or says what stopped it; a closed pipe ends it quietly.
    fn finish(mut self) -> Result<Streamed, Failure> {
        match self.stopped.take() {
            Some(Stop::Closed) => return Ok(Streamed::ReaderGone),
            Some(Stop::Failed(failure)) => return Err(failure),
            None => {}
        }
        let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
        match self.out.write_all(end).and_then(|()| self.out.flush()) {
            Ok(()) => Ok(Streamed::Whole),
            Err(error) => closed_pipe_is_fine(error).map(|()| Streamed::ReaderGone),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn streamed(pages: &[Vec<serde_json::Value>]) -> String {
        let mut out = Vec::new();
        let mut array = JsonArray::new(&mut out);
        for page in pages {
            array.extend(page).unwrap();
        }
        assert!(matches!(array.finish(), Ok(Streamed::Whole)));
        String::from_utf8(out).unwrap()
    }

    /// A reader that takes `left` bytes, then goes away.
    struct Leaving {
        left: usize,
    }

    impl Write for Leaving {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let took = bytes.len().min(self.left);
            self.left -= took;
            Ok(took)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_reader_that_goes_away_ends_the_walk_quietly_and_says_so() {
        let mut array = JsonArray::new(Leaving { left: 10 });
        let page = vec![json!({"id": "a", "userName": "someone long enough"}); 3];
        assert!(array.extend(&page).is_err(), "the walk is told to stop");
        let written = array.written();
        assert!(array.extend(&page).is_err(), "and nothing more is written");
        assert_eq!(array.written(), written);
        assert!(matches!(array.finish(), Ok(Streamed::ReaderGone)));
    }

    #[test]
    fn the_array_written_page_by_page_is_the_text_of_the_whole_list() {
        let items = vec![
            json!({"id": "a", "emails": [{"value": "a@x.test", "primary": true}], "empty": []}),
            json!({"id": "b", "note": "two\nlines", "nested": {"deep": {"x": 1}}, "o": {}}),
            json!("plain"),
            json!([1, [2, 3]]),
        ];
        let whole = format!("{}\n", serde_json::to_string_pretty(&items).unwrap());
        assert_eq!(streamed(&[items[..1].to_vec(), items[1..].to_vec()]), whole);
        assert_eq!(streamed(&[vec![], items.clone(), vec![]]), whole);
        let none: Vec<serde_json::Value> = Vec::new();
        let empty = format!("{}\n", serde_json::to_string_pretty(&none).unwrap());
        assert_eq!(streamed(&[]), empty);
    }
}
