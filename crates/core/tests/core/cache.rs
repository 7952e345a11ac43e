//! The offline cache file and the search index it keeps: encryption, tamper handling,
//! crash safety, and an index read back from the file answering as the one built (every
//! filter and sort of the search itself is in `search.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_core::cache::{self, Opened, PackedUser, Snapshot, SyncState};
use muster_core::discovery::Capabilities;
use muster_scim::user::User;
use muster_test_support::TempDir;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

const KEY: [u8; 32] = [0x11; 32];
pub(crate) const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

pub(crate) fn user(index: usize, shop: serde_json::Value) -> User {
    User::from_json(json!({
        "id": format!("id-{index}"),
        "userName": format!("user{index}@shop.test"),
        "displayName": format!("Person {index}"),
        "emails": [{"value": format!("user{index}@shop.test"), "primary": true}],
        "phoneNumbers": [{"value": format!("+1 303 555 {index:04}")}],
        "meta": {"created": "2025-01-01T00:00:00Z", "lastModified": "2025-02-01T00:00:00Z"},
        "urn:muster:params:scim:schemas:extension:shop:2.0:User": shop,
    }))
    .unwrap()
}

fn snapshot(users: usize, generation: u64) -> Snapshot {
    Snapshot {
        users: (0..users)
            .map(|i| PackedUser::from(user(i, json!({"role": "technician", "zones": ["North"]}))))
            .collect(),
        capabilities: Some(Capabilities {
            filter: true,
            ..Capabilities::default()
        }),
        sync: SyncState {
            // Tells one snapshot from the next.
            last_modified_high_water: Some(generation.to_string()),
            last_full_sync: Some(NOW),
            ..SyncState::default()
        },
        ..Snapshot::empty(NOW)
    }
}

mod file {
    use super::*;

    fn written(dir: &TempDir) -> (std::path::PathBuf, Vec<u8>) {
        let path = dir.join("p.cache");
        cache::write(&path, &snapshot(3, 1), &KEY).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        (path, bytes)
    }

    fn discarded(path: &std::path::Path, key: &[u8; 32]) -> String {
        match cache::open(path, key) {
            Opened::Discarded { reason } => reason,
            other => panic!("an unusable file must be discarded, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        let dir = TempDir::new("round-trip");
        let path = dir.join("p.cache");
        assert!(matches!(cache::open(&path, &KEY), Opened::Missing));
        let original = snapshot(5, 1);
        cache::write(&path, &original, &KEY).unwrap();
        let Opened::Fresh(read) = cache::open(&path, &KEY) else {
            panic!("a file just written must open");
        };
        assert_eq!(*read, original, "what is read back is what was written");
        assert_eq!(
            read.age(NOW + time::Duration::hours(2)),
            time::Duration::hours(2)
        );
        cache::write(&path, &snapshot(2, 2), &KEY).unwrap();
        assert_eq!(
            cache::read(&path, &KEY).unwrap().unwrap().users.len(),
            2,
            "overwrites"
        );
        cache::remove(&path).unwrap();
        assert!(!path.exists(), "remove deletes the file");
        cache::remove(&path).unwrap();
    }

    /// Segments of 4,096 users are decoded on every core, largest first: the users still
    /// come back in the order they were written, across segments.
    #[test]
    fn users_of_many_segments_come_back_in_their_order() {
        let dir = TempDir::new("segments");
        let path = dir.join("p.cache");
        let original = snapshot(2 * 4096 + 1, 1);
        cache::write(&path, &original, &KEY).unwrap();
        let read = cache::read(&path, &KEY).unwrap().unwrap();
        let ids = |s: &Snapshot| -> Vec<Option<String>> {
            s.users.iter().map(|u| u.id().map(str::to_owned)).collect()
        };
        assert_eq!(read.users.len(), 2 * 4096 + 1);
        assert_eq!(ids(&read), ids(&original));
    }

    #[test]
    fn wrong_key_is_discarded() {
        let dir = TempDir::new("wrong-key");
        let (path, _) = written(&dir);
        let reason = discarded(&path, &[0x22; 32]);
        assert!(reason.contains("decryption"), "{reason}");
    }

    #[test]
    fn every_flipped_byte_is_discarded() {
        let dir = TempDir::new("flip");
        let (path, bytes) = written(&dir);
        // Every header and nonce byte, then a stride through the ciphertext, and the tag.
        let mut positions: Vec<usize> = (0..32).collect();
        positions.extend((32..bytes.len()).step_by(97));
        positions.extend(bytes.len() - 16..bytes.len());
        for at in positions {
            let mut tampered = bytes.clone();
            tampered[at] ^= 0x01;
            std::fs::write(&path, &tampered).unwrap();
            discarded(&path, &KEY);
        }
    }

    #[test]
    fn truncated_empty_and_garbage_files_are_discarded() {
        let dir = TempDir::new("truncate");
        let (path, bytes) = written(&dir);
        for cut in [
            0,
            1,
            4,
            8,
            31,
            32,
            40,
            bytes.len() / 2,
            bytes.len() - 16,
            bytes.len() - 1,
        ] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            discarded(&path, &KEY);
        }
        std::fs::write(&path, b"").unwrap();
        assert!(discarded(&path, &KEY).contains("truncated"));
        std::fs::write(&path, vec![0xa5; 5000]).unwrap();
        assert!(discarded(&path, &KEY).contains("magic"));
    }

    #[test]
    fn unknown_version_is_discarded() {
        let dir = TempDir::new("version");
        let (path, mut bytes) = written(&dir);
        let next = cache::FORMAT + 1;
        bytes[4..8].copy_from_slice(&next.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        assert!(discarded(&path, &KEY).contains(&format!("version {next}")));
    }

    /// A file of format 1 (one sealed JSON document) is discarded, never read or crashed
    /// on, and the store starts over: empty, then rebuilt by the next save.
    #[test]
    fn a_format_1_file_is_discarded_and_rebuilt() {
        let dir = TempDir::new("format-1");
        let path = dir.join("p.cache");
        let mut old = b"MSTC".to_vec();
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(&[0x42; 24]);
        old.extend_from_slice(&[0x17; 4000]);
        std::fs::write(&path, &old).unwrap();
        assert!(discarded(&path, &KEY).contains("version 1"));
        let store = muster_core::cache::Store::new(&path, KEY);
        let (empty, index, outcome) = store.open_indexed(NOW);
        assert!(
            matches!(outcome, muster_core::cache::OpenOutcome::Discarded { ref reason } if reason.contains("version 1")),
            "{outcome:?}"
        );
        assert_eq!(
            empty,
            Snapshot::empty(NOW),
            "nothing of the old file is used"
        );
        assert!(index.is_empty());
        let fresh = snapshot(4, 9);
        store.save(&fresh).unwrap();
        let (read, index, outcome) = store.open_indexed(NOW);
        assert_eq!(outcome, muster_core::cache::OpenOutcome::Fresh);
        assert_eq!(read, fresh);
        assert_eq!(index.len(), 4);
    }

    #[test]
    fn a_write_updates_only_an_existing_readable_copy() {
        let dir = TempDir::new("update");
        let path = dir.join("p.cache");
        let store = muster_core::cache::Store::new(&path, KEY);
        store.update(NOW, |_| true).unwrap();
        assert!(!path.exists(), "a write never starts a copy");

        store.save(&snapshot(3, 1)).unwrap();
        store
            .update(NOW, |snapshot| {
                snapshot.users.truncate(1);
                true
            })
            .unwrap();
        assert_eq!(store.open(NOW).0.users.len(), 1, "the change is saved");
        store
            .update(NOW, |snapshot| {
                snapshot.users.clear();
                false
            })
            .unwrap();
        assert_eq!(
            store.open(NOW).0.users.len(),
            1,
            "an edit that changed nothing saves nothing"
        );

        std::fs::write(&path, b"not a cache file").unwrap();
        let refused = store.update(NOW, |_| true);
        assert!(
            matches!(refused, Err(muster_core::Error::Storage { .. })),
            "an unreadable copy is not replaced by one holding only this change: {refused:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"not a cache file");
    }

    #[test]
    fn no_plaintext_on_disk() {
        let dir = TempDir::new("plaintext");
        let path = dir.join("p.cache");
        let mut data = snapshot(2, 1);
        data.users[0] = PackedUser::from(
            User::from_json(json!({
                "userName": "zebulon.quixote",
                "displayName": "Zebulon Quixote",
                "emails": [{"value": "zq-unique@plaintext.test"}],
                "urn:example:ext": {"apiToken": "mst_at_SEEKRIT0123456789abcdef"},
            }))
            .unwrap(),
        );
        cache::write(&path, &data, &KEY).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for needle in [
            "Zebulon",
            "zebulon",
            "plaintext.test",
            "mst_at_SEEKRIT",
            "Person",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "'{needle}' must not be readable in the cache file"
            );
        }
        assert_eq!(cache::read(&path, &KEY).unwrap().unwrap(), data);
    }
}

mod crash {
    use super::*;
    use rand::Rng;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    const WRITER: &str = "MUSTER_CACHE_TEST_WRITER";
    const READY: &str = "@@writer-ready@@";
    const WROTE: &str = "@@writer-wrote@@";
    const USERS: usize = 1000;

    /// The snapshot of one generation; built once, then only relabelled.
    fn generation_snapshot(generation: u64) -> Snapshot {
        static BASE: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
        let mut snapshot = BASE.get_or_init(|| snapshot(USERS, 0)).clone();
        snapshot.sync.last_modified_high_water = Some(generation.to_string());
        snapshot
    }

    fn generation(snapshot: &Snapshot) -> u64 {
        snapshot
            .sync
            .last_modified_high_water
            .as_deref()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Writer mode: rewrites the snapshot at `$MUSTER_CACHE_TEST_WRITER` with ever newer
    /// generations until killed. A no-op in a normal test run.
    #[test]
    fn writer_child() {
        let Some(path) = std::env::var_os(WRITER) else {
            return;
        };
        let path = std::path::PathBuf::from(path);
        let mut next = match cache::read(&path, &KEY) {
            Ok(Some(current)) => generation(&current) + 1,
            _ => 1,
        };
        let _ = generation_snapshot(next);
        say(READY);
        loop {
            cache::write(&path, &generation_snapshot(next), &KEY).unwrap();
            say(WROTE);
            next += 1;
        }
    }

    /// The writer's progress, to the parent over stdout (run with `--nocapture`).
    fn say(marker: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{marker}");
        let _ = out.flush();
    }

    /// Reads the writer's stdout until a line containing `marker`.
    fn wait_for(lines: &mut impl Iterator<Item = std::io::Result<String>>, marker: &str) {
        for line in lines.by_ref() {
            if line.unwrap().contains(marker) {
                return;
            }
        }
        panic!("the writer stopped before saying {marker}");
    }

    #[test]
    fn kill_9_leaves_the_old_or_the_new_snapshot() {
        let dir = TempDir::new("crash");
        let path = dir.join("p.cache");
        cache::write(&path, &generation_snapshot(0), &KEY).unwrap();
        let exe = std::env::current_exe().unwrap();
        let mut rng = rand::rng();
        let mut last = 0;
        let mut torn_writes = 0;
        for round in 0..200 {
            let mut child = Command::new(&exe)
                .args([
                    "cache::crash::writer_child",
                    "--exact",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(WRITER, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // The random point is measured from when the writer starts writing, not from
            // the spawn: a loaded machine can take longer than the window to start it.
            // Every tenth round also waits for one finished write first, so the file moves
            // on however slow the machine is.
            let mut lines =
                std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
            wait_for(&mut lines, READY);
            if round % 10 == 9 {
                wait_for(&mut lines, WROTE);
            }
            std::thread::sleep(Duration::from_micros(rng.random_range(0..150_000)));
            child.kill().unwrap();
            child.wait().unwrap();
            let Opened::Fresh(found) = cache::open(&path, &KEY) else {
                panic!("round {round}: after kill -9 the file must still open");
            };
            let found_generation = generation(&found);
            assert!(
                found_generation >= last,
                "round {round}: never older than before"
            );
            assert_eq!(
                *found,
                generation_snapshot(found_generation),
                "round {round}: exactly one whole snapshot, never a mix"
            );
            last = found_generation;
            torn_writes += std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
                .count();
        }
        eprintln!(
            "200 kills: reached generation {last}; temp files seen after kills (summed): {torn_writes}"
        );
        assert!(last > 0, "the writer got to replace the file at least once");
        cache::remove(&path).unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(
            left.is_empty(),
            "remove also deletes temp files a crash left: {left:?}"
        );
    }
}

/// The index stored in the cache file answers exactly as one built from the users.
mod stored_index {
    use super::*;
    use muster_core::search::{Index, SearchQuery, SortKey};

    fn stored(users: Vec<User>) -> (Index, Index) {
        let dir = TempDir::new("stored-index");
        let path = dir.join("p.cache");
        let built = Index::build(&users);
        let data = Snapshot {
            users: users.into_iter().map(PackedUser::from).collect(),
            ..Snapshot::empty(NOW)
        };
        cache::write(&path, &data, &KEY).unwrap();
        let (read, index) = cache::read_indexed(&path, &KEY).unwrap().unwrap();
        assert_eq!(read, data);
        (built, index)
    }

    fn queries() -> Vec<SearchQuery> {
        let q = SearchQuery::default;
        let mut queries = vec![
            q(),
            SearchQuery {
                text: "lopez".into(),
                ..q()
            },
            SearchQuery {
                text: "555 00".into(),
                roles: vec!["technician".into(), "admin".into()],
                ..q()
            },
            SearchQuery {
                licences: vec!["desk".into()],
                statuses: vec!["active".into(), "invited".into()],
                ..q()
            },
            SearchQuery {
                branches: vec!["Denver".into()],
                zones: vec!["north".into()],
                security_groups: vec!["sg viewer".into(), "SG admin".into()],
                ..q()
            },
            SearchQuery {
                sign_in_methods: vec!["google".into()],
                invitation_states: vec!["accepted".into()],
                no_sign_in_for_days: Some(20),
                ..q()
            },
            SearchQuery {
                text: "user1".into(),
                offset: 3,
                limit: 7,
                ..q()
            },
        ];
        for sort in SortKey::ALL {
            for descending in [false, true] {
                queries.push(SearchQuery {
                    sort,
                    descending,
                    ..q()
                });
            }
        }
        queries
    }

    fn people() -> Vec<User> {
        let roles = ["technician", "admin", "viewer"];
        let licences = ["field", "desk", "contractor"];
        let branches = ["Denver", "Boulder", "Aurora"];
        (0..300)
            .map(|i| {
                let mut user = user(
                    i,
                    json!({"role": roles[i % 3], "licence": licences[i % 7 % 3],
                           "status": if i % 11 == 0 { "invited" } else { "active" },
                           "homeBranch": branches[i % 5 % 3], "branches": [branches[i % 3]],
                           "zones": if i % 2 == 0 { json!(["North"]) } else { json!(["South"]) },
                           "securityGroup": format!("SG {}", roles[i % 3])}),
                );
                if i % 4 == 0 {
                    user.display_name = Some(format!("Maria Lopez {}", i % 13));
                }
                if i % 3 != 0 {
                    let shop = user.shop.as_mut().unwrap();
                    shop.last_sign_in = Some(muster_scim::user::LastSignIn {
                        at: Some(NOW - time::Duration::days((i % 40) as i64)),
                        method: Some(if i % 2 == 0 { "google" } else { "password" }.into()),
                    });
                    shop.invitation = Some(muster_scim::user::Invitation {
                        state: Some("accepted".into()),
                        ..Default::default()
                    });
                }
                user
            })
            .collect()
    }

    #[test]
    fn answers_every_query_as_a_built_index() {
        let (built, stored) = stored(people());
        assert_eq!(stored.len(), built.len());
        for query in queries() {
            assert_eq!(
                stored.search(&query, NOW),
                built.search(&query, NOW),
                "{query:?}"
            );
        }
    }

    #[test]
    fn an_empty_snapshot_has_an_empty_index() {
        let (built, stored) = stored(Vec::new());
        assert!(built.is_empty() && stored.is_empty());
        assert_eq!(stored.search(&SearchQuery::default(), NOW).total, 0);
    }
}
