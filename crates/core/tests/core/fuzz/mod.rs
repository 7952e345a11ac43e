//! Fuzzing with proptest at scale: the SCIM filter parser, SCIM JSON parsing of
//! every resource, the cache file loader and the CSV importer, each fed mutations of a
//! corpus of real inputs (kept beside this file, and the SCIM fixtures of muster-scim)
//! and grammar-shaped noise. Nothing may panic, and what parses must behave: a parsed
//! filter prints to text that parses to the same filter, a cache file opens only when
//! it is byte for byte the one written, and an import never counts more rows than the
//! file has.
//!
//! `FUZZ_CASES` sets the cases per target (default 2,000, a few seconds each in a debug
//! build; CI runs the default). A failure is saved under `proptest-regressions/` and
//! replayed first on every later run: commit it with the fix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use muster_core::cache::{self, PackedUser, Snapshot, SyncState};
use muster_core::csv::import::{ImportOptions, Known, plan};
use muster_core::csv::{Limits, parse};
use muster_scim::discovery::{ResourceType, ServiceProviderConfig};
use muster_scim::filter::{parse_attr_path, parse_filter, parse_patch_path};
use muster_scim::group::Group;
use muster_scim::message::{ListResponse, PatchOp, ScimError};
use muster_scim::schema::Schema;
use muster_scim::user::User;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::json;
use time::macros::datetime;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/core/fuzz/corpus");
const SCIM_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scim/tests/fixtures");

fn config() -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Every file under `dir` with extension `ext`, as bytes.
fn files(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    let corpus: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!corpus.is_empty(), "no .{ext} files in {dir}");
    corpus
}

/// One line of the filters corpus per input.
static FILTERS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    std::fs::read_to_string(format!("{CORPUS}/filters.txt"))
        .unwrap()
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.as_bytes().to_vec())
        .collect()
});
static SCIM_JSON: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| files(SCIM_FIXTURES, "json"));
static CSV_FILES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| files(&format!("{CORPUS}/csv"), "csv"));

// --- mutation ------------------------------------------------------------------------

/// One change to an input, at positions taken modulo its length.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace a byte.
    Set(usize, u8),
    /// Insert a byte.
    Insert(usize, u8),
    /// Insert a byte that matters to the format.
    InsertSpecial(usize, usize),
    /// Remove up to n bytes.
    Remove(usize, usize),
    /// Repeat a stretch of up to n bytes in place.
    Repeat(usize, usize),
    /// Cut the input short.
    Truncate(usize),
}

/// Bytes with a meaning in one of the formats fuzzed here.
const SPECIAL: &[&[u8]] = &[
    b"\"",
    b"\\",
    b",",
    b";",
    b"\t",
    b"\r\n",
    b"\n",
    b"\r",
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b".",
    b" ",
    b" and ",
    b" or ",
    b"not ",
    b" eq ",
    b" pr",
    b"null",
    b"true",
    b"-1",
    b"1e400",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"\xC3",
    b"\x00",
    b"=",
    b"+",
    b"@",
    b"\\u0000",
    b"\"\"",
    b"urn:ietf:params:scim:schemas:core:2.0:User:",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 0..SPECIAL.len()).prop_map(|(at, s)| Edit::InsertSpecial(at, s)),
        (any::<usize>(), 1..16usize).prop_map(|(at, n)| Edit::Remove(at, n)),
        (any::<usize>(), 1..64usize).prop_map(|(at, n)| Edit::Repeat(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for edit in edits {
        let at = |at: usize, len: usize| if len == 0 { 0 } else { at % len };
        match *edit {
            Edit::Set(i, b) if !bytes.is_empty() => {
                let i = at(i, bytes.len());
                bytes[i] = b;
            }
            Edit::Set(..) => {}
            Edit::Insert(i, b) => bytes.insert(at(i, bytes.len() + 1), b),
            Edit::InsertSpecial(i, s) => {
                let i = at(i, bytes.len() + 1);
                bytes.splice(i..i, SPECIAL[s].iter().copied());
            }
            Edit::Remove(i, n) => {
                let i = at(i, bytes.len());
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            Edit::Repeat(i, n) => {
                let i = at(i, bytes.len());
                let end = (i + n).min(bytes.len());
                let stretch = bytes[i..end].to_vec();
                bytes.splice(i..i, stretch);
            }
            Edit::Truncate(i) => {
                let keep = at(i, bytes.len() + 1);
                bytes.truncate(keep);
            }
        }
    }
    bytes
}

/// A corpus entry with up to `most` edits (none a quarter of the time: the corpus itself
/// must pass too).
fn mutated(corpus: &'static [Vec<u8>], most: usize) -> impl Strategy<Value = Vec<u8>> {
    (
        0..corpus.len(),
        prop_oneof![1 => Just(Vec::new()), 3 => prop::collection::vec(edit(), 1..=most)],
    )
        .prop_map(move |(i, edits)| apply(&corpus[i], &edits))
}

// --- the SCIM filter parser ----------------------------------------------------------

/// Filter-shaped token soup: right words, wrong (or right) order.
fn filter_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("userName"),
        Just("emails[type eq \"work\"]"),
        Just("emails"),
        Just(".value"),
        Just("name.familyName"),
        Just("meta.lastModified"),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        Just("eq"),
        Just("ne"),
        Just("co"),
        Just("sw"),
        Just("ew"),
        Just("gt"),
        Just("ge"),
        Just("lt"),
        Just("le"),
        Just("pr"),
        Just("and"),
        Just("or"),
        Just("not"),
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just("\"bob\""),
        Just("\"a\\\"b\""),
        Just("\"\\u00e9\""),
        Just("42"),
        Just("-1.5e3"),
        Just("true"),
        Just("null"),
        Just("\""),
    ];
    prop::collection::vec(token, 0..24).prop_map(|tokens| tokens.join(" "))
}

fn check_filter(text: &str) {
    if let Ok(filter) = parse_filter(text) {
        let printed = filter.to_string();
        let again = parse_filter(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(again, filter, "{text:?} printed as {printed:?}");
    }
    let _ = parse_attr_path(text);
    let _ = parse_patch_path(text);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn filter_parser_mutated_corpus(bytes in mutated(&FILTERS, 6)) {
        check_filter(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn filter_parser_token_soup(text in filter_soup()) {
        check_filter(&text);
    }

    #[test]
    fn filter_parser_any_text(text in "\\PC{0,80}") {
        check_filter(&text);
    }
}

// --- SCIM JSON -------------------------------------------------------------------------

/// Parses `bytes` as `T`; what parses must write out again.
fn round<T: serde::de::DeserializeOwned + serde::Serialize>(bytes: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        serde_json::to_vec(&value).expect("what parsed writes out");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scim_json_every_resource(bytes in mutated(&SCIM_JSON, 8)) {
        round::<User>(&bytes);
        round::<Group>(&bytes);
        round::<ListResponse<User>>(&bytes);
        round::<ListResponse<Group>>(&bytes);
        round::<PatchOp>(&bytes);
        round::<ScimError>(&bytes);
        round::<ServiceProviderConfig>(&bytes);
        round::<ResourceType>(&bytes);
        round::<Schema>(&bytes);
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let _ = User::from_json(value);
        }
        // A listed user is read in part where it does not read whole: what is kept has an
        // id, and writes out again.
        if let Ok(text) = std::str::from_utf8(&bytes)
            && let Some(user) = User::from_listed_text(text)
        {
            prop_assert!(user.id.is_some());
            serde_json::to_vec(&user).expect("what was kept writes out");
        }
    }
}

// --- the cache file loader -----------------------------------------------------------

const KEY: [u8; 32] = [0x5a; 32];

fn snapshot() -> Snapshot {
    let users = (0..5)
        .map(|i| {
            User::from_json(json!({
                "id": format!("id-{i}"),
                "userName": format!("user{i}@shop.test"),
                "emails": [{"value": format!("user{i}@shop.test"), "primary": true}],
                "urn:muster:params:scim:schemas:extension:shop:2.0:User": {"role": "technician"},
            }))
            .unwrap()
        })
        .map(PackedUser::from)
        .collect();
    Snapshot {
        users,
        sync: SyncState {
            last_modified_high_water: Some("2026-05-31T00:00:00Z".into()),
            ..SyncState::default()
        },
        ..Snapshot::empty(datetime!(2026-06-01 12:00 UTC))
    }
}

/// A cache file as written, and the directory the cases write theirs in.
static CACHE: LazyLock<(Vec<Vec<u8>>, PathBuf)> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("muster-fuzz-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seed.cache");
    cache::write(&path, &snapshot(), &KEY).unwrap();
    (vec![std::fs::read(&path).unwrap()], dir)
});

fn cache_case(bytes: &[u8], case: &Path) {
    std::fs::write(case, bytes).unwrap();
    let written = &CACHE.0[0];
    match cache::read(case, &KEY) {
        Ok(Some(found)) => {
            assert!(bytes == written.as_slice(), "an altered file opened");
            assert_eq!(found, snapshot());
        }
        Ok(None) => panic!("the file is there"),
        Err(_) => assert!(bytes != written.as_slice(), "the file as written must open"),
    }
    if let Ok(Some((found, _))) = cache::read_indexed(case, &KEY) {
        assert_eq!(found, snapshot());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cache_loader(bytes in mutated(&CACHE.0, 4), tag in any::<u64>()) {
        let case = CACHE.1.join(format!("case-{tag}.cache"));
        cache_case(&bytes, &case);
        let _ = std::fs::remove_file(case);
    }
}

// --- the CSV importer ----------------------------------------------------------------

static KNOWN: LazyLock<Known> = LazyLock::new(|| {
    let users: Vec<User> = ["admin@shop.test", "ann@shop.test"]
        .iter()
        .map(|email| {
            User::from_json(json!({
                "id": email, "userName": email, "emails": [{"value": email}],
                "urn:muster:params:scim:schemas:extension:shop:2.0:User":
                    {"licence": "field", "branches": ["Denver"], "zones": ["North"]},
            }))
            .unwrap()
        })
        .collect();
    Known::from_users(&users)
});

fn check_import(bytes: &[u8]) {
    let limits = Limits::default();
    let Ok(table) = parse(bytes, &limits) else {
        return;
    };
    assert!(table.rows.len() <= limits.max_rows);
    for record in &table.rows {
        assert!(record.fields.len() <= limits.max_fields);
    }
    if let Ok(planned) = plan(&table, &[], &KNOWN, &ImportOptions::default()) {
        let preview = planned.preview();
        let rows = u32::try_from(table.rows.len()).unwrap();
        assert!(preview.ready + preview.with_problems + preview.blank_rows <= rows);
        assert_eq!(
            preview.rows.len() as u32,
            preview.ready + preview.with_problems
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_importer_mutated_corpus(bytes in mutated(&CSV_FILES, 8)) {
        check_import(&bytes);
    }

    #[test]
    fn csv_importer_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_import(&bytes);
    }
}

#[test]
fn the_corpus_itself_goes_through() {
    for filter in FILTERS.iter() {
        let text = std::str::from_utf8(filter).unwrap();
        parse_filter(text).unwrap_or_else(|e| panic!("corpus filter {text:?}: {e}"));
    }
    for file in CSV_FILES.iter() {
        let table = parse(file, &Limits::default()).unwrap();
        let planned = plan(&table, &[], &KNOWN, &ImportOptions::default()).unwrap();
        assert!(!planned.preview().rows.is_empty());
    }
    cache_case(&CACHE.0[0], &CACHE.1.join("corpus.cache"));
}
