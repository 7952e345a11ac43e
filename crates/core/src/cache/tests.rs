#![allow(clippy::unwrap_used)]
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::file::{Entry, read_header};
use super::*;
use crate::discovery::Capabilities;
use muster_scim::meta::Meta;
use muster_scim::user::User;

const KEY: [u8; 32] = [7; 32];

struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "muster-cache-unit-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("p.cache")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn snapshot() -> Snapshot {
    let times = [
        OffsetDateTime::UNIX_EPOCH,
        time::macros::datetime!(2026-06-01 12:00:00.123456789 +02:00),
        time::macros::datetime!(1969-12-31 23:59:59.5 UTC),
    ];
    let mut extra = serde_json::Map::new();
    extra.insert(
        "urn:example:ext".into(),
        serde_json::json!({"k": [1, "two"]}),
    );
    Snapshot {
        users: times
            .iter()
            .enumerate()
            .map(|(i, at)| User {
                id: Some(format!("u{i}")),
                display_name: Some("Zoë Ünal".into()),
                emails: vec![muster_scim::user::MultiValue {
                    value: Some(format!("u{i}@example.test")),
                    primary: Some(i == 0),
                    ..Default::default()
                }],
                meta: Some(Meta {
                    created: Some(*at),
                    last_modified: Some(*at),
                    ..Default::default()
                }),
                extra: if i == 1 {
                    extra.clone().into()
                } else {
                    Default::default()
                },
                unread: if i == 0 {
                    vec![muster_scim::user::Unread {
                        attribute: "active".into(),
                        reason: "attribute \"active\" must be a boolean".into(),
                        raw: r#""maybe""#.into(),
                    }]
                } else {
                    Vec::new()
                },
                ..User::new(format!("user {i}"))
            })
            .map(PackedUser::from)
            .collect(),
        groups: vec![Group {
            id: Some("g".into()),
            members: vec![muster_scim::group::Member::user("u0")],
            ..Group::new("Dispatch")
        }],
        capabilities: Some(Capabilities {
            filter: true,
            ..Capabilities::default()
        }),
        ..Snapshot::empty(times[1])
    }
}

fn unusable(path: &Path) -> Unusable {
    match read_indexed(path, &KEY) {
        Err(CacheError::Unusable(why)) => why,
        other => panic!("expected an unusable file, got {other:?}"),
    }
}

/// The header gives a users segment's length before the segment is written: the length
/// worked out must be the length written, for any count and user size (each varint
/// crossing its one- and two-byte bounds).
#[test]
fn a_users_segment_is_as_long_as_the_header_says() {
    let users: Vec<PackedUser> = (0..300)
        .map(|i| {
            let mut user = User::new(format!("user {i}"));
            user.display_name = Some("x".repeat(i * 60));
            PackedUser::from(user)
        })
        .collect();
    for count in [0, 1, 2, 127, 128, 129, 300] {
        let chunk = &users[..count];
        assert_eq!(
            super::codec::users_segment_len(chunk),
            super::codec::users_segment(chunk).len(),
            "{count} users"
        );
    }
}

/// Unmodelled attributes are written last in a user and in a group, so they end a
/// user's bytes and, for the last group, the segment: their length (written + 1) is then
/// more than the bytes left, which once made such a file unreadable.
#[test]
fn unmodelled_attributes_at_the_very_end_read_back() {
    let temp = Temp::new("extra-last");
    let mut original = snapshot();
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({"urn:example:last": {"n": 1}})).unwrap();
    let mut last = original.users[2].user();
    last.extra = extra.clone().into();
    original.users[2] = PackedUser::from(last);
    original.groups[0].extra = extra.into();
    write(&temp.file(), &original, &KEY).unwrap();
    let (read, _) = read_indexed(&temp.file(), &KEY).unwrap().unwrap();
    assert_eq!(read, original);
    assert!(!read.users[2].user().extra.is_empty());
    assert!(!read.groups[0].extra.is_empty());
}

#[test]
fn round_trip_keeps_times_offsets_text_and_unknown_attributes() {
    let temp = Temp::new("round-trip");
    let original = snapshot();
    write(&temp.file(), &original, &KEY).unwrap();
    let (read, index) = read_indexed(&temp.file(), &KEY).unwrap().unwrap();
    assert_eq!(read, original);
    assert_eq!(index.len(), 3);
    assert_eq!(
        read.users[0].user().unread,
        original.users[0].user().unread,
        "what could not be read is kept as sent"
    );
    assert_eq!(read.users[0].user().unread[0].raw, r#""maybe""#);
    for (a, b) in read.users.iter().zip(&original.users) {
        let (a, b) = (a.user().meta.unwrap(), b.user().meta.unwrap());
        assert_eq!(a.created.unwrap().offset(), b.created.unwrap().offset());
    }
    assert_eq!(
        read_header(
            &File::open(temp.file()).unwrap(),
            fs::metadata(temp.file()).unwrap().len()
        )
        .unwrap()
        .1[0]
            .kind,
        Kind::Head
    );
}

#[test]
fn segment_table_and_order_are_authenticated() {
    let temp = Temp::new("table");
    write(&temp.file(), &snapshot(), &KEY).unwrap();
    let bytes = fs::read(temp.file()).unwrap();
    let (_, entries) = read_header(&File::open(temp.file()).unwrap(), bytes.len() as u64).unwrap();
    let entry_at = |n: usize| FIXED_HEADER_LEN + ENTRY_LEN * n;

    // A changed item count (the table is associated data of every segment).
    let mut changed = bytes.clone();
    changed[entry_at(1) + 1] ^= 1;
    fs::write(temp.file(), &changed).unwrap();
    assert!(matches!(
        unusable(&temp.file()),
        Unusable::Undecryptable | Unusable::Malformed(_)
    ));

    // Two sort-order segments of equal length swapped: their nonces differ.
    let orders: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.kind == Kind::IndexOrder)
        .collect();
    let (a, b) = (orders[0], orders[1]);
    assert_eq!(a.len, b.len);
    let span = |e: &Entry| e.offset as usize..e.offset as usize + e.len + TAG_LEN;
    let mut swapped = bytes.clone();
    swapped[span(a)].copy_from_slice(&bytes[span(b)]);
    swapped[span(b)].copy_from_slice(&bytes[span(a)]);
    fs::write(temp.file(), &swapped).unwrap();
    assert_eq!(unusable(&temp.file()), Unusable::Undecryptable);

    // A segment dropped, with its entry and the count adjusted.
    let last = entries.last().unwrap();
    let mut dropped = bytes[..FIXED_HEADER_LEN].to_vec();
    let count = u32::try_from(entries.len() - 1).unwrap();
    dropped[FIXED_HEADER_LEN - 4..].copy_from_slice(&count.to_le_bytes());
    dropped.extend_from_slice(&bytes[FIXED_HEADER_LEN..entry_at(entries.len() - 1)]);
    dropped.extend_from_slice(&bytes[entry_at(entries.len())..last.offset as usize]);
    fs::write(temp.file(), &dropped).unwrap();
    assert_eq!(unusable(&temp.file()), Unusable::Undecryptable);

    // Bytes appended.
    let mut longer = bytes.clone();
    longer.push(0);
    fs::write(temp.file(), &longer).unwrap();
    assert!(matches!(unusable(&temp.file()), Unusable::Malformed(_)));
}

#[test]
fn every_segment_is_authenticated_even_when_the_index_is_not_wanted() {
    let temp = Temp::new("skip");
    write(&temp.file(), &snapshot(), &KEY).unwrap();
    let mut bytes = fs::read(temp.file()).unwrap();
    let (_, entries) = read_header(&File::open(temp.file()).unwrap(), bytes.len() as u64).unwrap();
    let text = entries.iter().find(|e| e.kind == Kind::IndexText).unwrap();
    bytes[text.offset as usize] ^= 1;
    fs::write(temp.file(), &bytes).unwrap();
    assert!(matches!(
        read(&temp.file(), &KEY),
        Err(CacheError::Unusable(Unusable::Undecryptable))
    ));
}

#[test]
fn varints_round_trip_at_their_edges() {
    for value in [
        0,
        1,
        127,
        128,
        16_383,
        16_384,
        u64::from(u32::MAX),
        u64::MAX,
    ] {
        let mut out = wire::Out::default();
        wire::test_varint(&mut out, value);
        let bytes = wire::test_finish(out);
        assert_eq!(wire::test_read_varint(&bytes), Some(value), "{value}");
    }
    // No strings, then eleven continuation bytes: not a number.
    let mut too_long = vec![0x00];
    too_long.extend([0xff; 10]);
    too_long.push(0x01);
    assert_eq!(wire::test_read_varint(&too_long), None);
}

#[test]
fn capabilities_this_version_cannot_read_count_as_not_yet_known() {
    let StoredCapabilities(odd) =
        serde_json::from_value(serde_json::json!({"bulk": "maybe", "actions": 7})).unwrap();
    assert!(odd.is_none(), "an unreadable shape is not an error");
    let StoredCapabilities(missing) = serde_json::from_value(serde_json::Value::Null).unwrap();
    assert!(missing.is_none());
    let known = Capabilities::default();
    let StoredCapabilities(read) =
        serde_json::from_value(serde_json::to_value(&known).unwrap()).unwrap();
    assert_eq!(read, Some(known), "a readable set is kept as it was");
}

#[test]
fn an_index_passed_in_is_stored_as_the_one_built_here_would_be() {
    let original = snapshot();
    let built = Index::of_packed(&original.users);
    assert_eq!(
        encode(&original, Some(&built)).unwrap(),
        encode(&original, None).unwrap(),
        "the same plaintext, segment for segment"
    );
    let temp = Temp::new("indexed");
    write_indexed(&temp.file(), &original, &built, &KEY).unwrap();
    let (read, index) = read_indexed(&temp.file(), &KEY).unwrap().unwrap();
    assert_eq!(read, original);
    let now = OffsetDateTime::UNIX_EPOCH;
    let query = crate::search::SearchQuery::default();
    assert_eq!(index.search(&query, now), built.search(&query, now));
}
