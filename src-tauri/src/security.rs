//! The app's security settings, checked as tests: what the webview may call,
//! the content security policy, release-build settings, the Tauri version, and that no
//! command's reply (or progress event) has a field that could carry a token or password.
//! Each check reads the files the build uses, so a change that loosens one fails here.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::NAMES;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}"))
        .unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn the_main_window_may_call_only_musters_own_commands() {
    let allowed: BTreeSet<String> = NAMES
        .iter()
        .map(|name| format!("allow-{}", name.replace('_', "-")))
        .collect();
    let dir = format!("{ROOT}/src-tauri/capabilities");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("the capabilities dir") {
        let path = entry.expect("an entry").path();
        let name = path.display().to_string();
        let capability: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
                .unwrap_or_else(|error| panic!("{name}: {error}"));
        files += 1;
        assert_eq!(
            capability["windows"],
            serde_json::json!(["main"]),
            "{name}: the main window only, no wildcard"
        );
        assert!(capability.get("webviews").is_none(), "{name}: no webviews");
        assert!(
            capability.get("remote").is_none(),
            "{name}: no remote URL may call commands"
        );
        let permissions = capability["permissions"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: a permissions list"));
        for permission in permissions {
            let text = permission.as_str().unwrap_or_else(|| {
                panic!("{name}: {permission} is scoped; only plain command permissions")
            });
            assert!(
                allowed.contains(text),
                "{name}: '{text}' is not one of Muster's commands (no core, shell, fs, \
                 dialog or other plugin permissions)"
            );
        }
    }
    assert_eq!(files, 1, "one capability file, for the main window");
    let conf = json("tauri.conf.json");
    assert_eq!(
        conf["app"]["security"]["capabilities"],
        serde_json::json!(["main-window"])
    );
}

#[test]
fn no_shell_file_system_or_http_plugin_is_used() {
    let lock = read("Cargo.lock");
    for plugin in [
        "tauri-plugin-shell",
        "tauri-plugin-http",
        "tauri-plugin-opener",
    ] {
        assert!(
            !lock.contains(&format!("name = \"{plugin}\"")),
            "{plugin} is in Cargo.lock"
        );
    }
    // tauri-plugin-dialog links tauri-plugin-fs as a library (for its path types); the
    // app must not depend on it itself nor register it.
    let manifest = read("src-tauri/Cargo.toml");
    let main = read("src-tauri/src/main.rs");
    for plugin in ["tauri-plugin-fs", "tauri-plugin-shell", "tauri-plugin-http"] {
        assert!(!manifest.contains(plugin), "src-tauri depends on {plugin}");
        let module = plugin.replace('-', "_");
        assert!(!main.contains(&module), "main.rs registers {module}");
    }
    assert_eq!(
        main.matches(".plugin(").count(),
        1,
        "one plugin, the dialog (opened from Rust only)"
    );
    assert!(main.contains(".plugin(tauri_plugin_dialog::init())"));
}

/// The policy's directives, each with its sources.
fn csp() -> HashMap<String, Vec<String>> {
    let conf = json("tauri.conf.json");
    let security = &conf["app"]["security"];
    assert!(
        security
            .get("dangerousDisableAssetCspModification")
            .is_none(),
        "Tauri must add its nonces and hashes to the policy"
    );
    match &security["csp"] {
        Value::Object(directives) => directives
            .iter()
            .map(|(name, sources)| {
                let sources = sources
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: a string"));
                (
                    name.clone(),
                    sources.split_whitespace().map(str::to_owned).collect(),
                )
            })
            .collect(),
        Value::String(text) => text
            .split(';')
            .filter_map(|directive| {
                let mut words = directive.split_whitespace();
                Some((words.next()?.to_owned(), words.map(str::to_owned).collect()))
            })
            .collect(),
        other => panic!("no content security policy: {other}"),
    }
}

#[test]
fn the_content_security_policy_is_strict() {
    let policy = csp();
    let only = |directive: &str, sources: &[&str]| {
        assert_eq!(
            policy.get(directive).map(Vec::as_slice),
            Some(
                sources
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .as_slice()
            ),
            "{directive}"
        );
    };
    only("default-src", &["'self'"]);
    only("script-src", &["'self'"]);
    only("object-src", &["'none'"]);
    only("base-uri", &["'none'"]);
    only("frame-ancestors", &["'none'"]);
    for (directive, sources) in &policy {
        for source in sources {
            assert!(
                ![
                    "'unsafe-eval'",
                    "'unsafe-inline'",
                    "'wasm-unsafe-eval'",
                    "*",
                    "data:"
                ]
                .contains(&source.as_str())
                    || (directive == "img-src" && source == "data:"),
                "{directive} allows {source}"
            );
            let remote = source.starts_with("http:") || source.starts_with("https:");
            assert!(
                !remote || source == "http://ipc.localhost",
                "{directive} allows the remote origin {source}"
            );
        }
    }
}

#[test]
fn release_builds_have_no_global_tauri_and_no_devtools() {
    let conf = json("tauri.conf.json");
    assert_eq!(conf["app"]["withGlobalTauri"], Value::Bool(false));
    let windows = conf["app"]["windows"].as_array().expect("windows");
    assert!(!windows.is_empty());
    for window in windows {
        assert_eq!(window["devtools"], Value::Bool(false), "{window}");
    }
    // The `devtools` feature would turn them on in release builds.
    for manifest in ["Cargo.toml", "src-tauri/Cargo.toml"] {
        let text = read(manifest);
        let tauri_lines = text.lines().filter(|line| line.starts_with("tauri ="));
        for line in tauri_lines {
            assert!(!line.contains("devtools"), "{manifest}: {line}");
        }
    }
}

/// `major.minor.patch` of the first `name` package in Cargo.lock.
fn locked_version(lock: &str, name: &str) -> (u64, u64, u64) {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"") {
            let version = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .unwrap_or_else(|| panic!("no version after {name}"));
            let mut parts = version
                .split(['.', '-'])
                .map(|part| part.parse::<u64>().unwrap_or(0));
            let mut next = || parts.next().unwrap_or(0);
            return (next(), next(), next());
        }
    }
    panic!("{name} is not in Cargo.lock")
}

#[test]
fn tauri_is_2_11_1_or_later_and_not_3() {
    let version = locked_version(&read("Cargo.lock"), "tauri");
    assert!(version >= (2, 11, 1), "tauri {version:?}");
    assert_eq!(version.0, 2, "tauri {version:?}");
}

// --- no secrets in replies ---------------------------------------------------------------

/// Words that mark a field able to carry a credential.
const SECRET_WORDS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "apikey",
    "credential",
    "cookie",
    "bearer",
    "authorization",
    "otp",
];

/// The types of every command's reply and progress events, named in the generated
/// bindings' `commands` block.
fn reply_roots(bindings: &str) -> Vec<String> {
    let start = bindings
        .find("export const commands = {")
        .expect("a commands block");
    let block = &bindings[start..];
    let block = &block[..block.find("\n};").expect("the block's end")];
    let mut roots = Vec::new();
    for line in block.lines().filter(|line| line.contains("__TAURI_INVOKE")) {
        let reply = if let Some(at) = line.find("typedError<") {
            first_argument(&line[at + "typedError<".len()..])
        } else {
            let at = line.find("__TAURI_INVOKE<").expect("a reply type");
            first_argument(&line[at + "__TAURI_INVOKE<".len()..])
        };
        roots.push(reply.to_owned());
        let mut rest = line;
        while let Some(at) = rest.find("Channel<") {
            rest = &rest[at + "Channel<".len()..];
            roots.push(first_argument(rest).to_owned());
        }
    }
    roots
}

/// The text up to the first top-level `,` or the closing `>`.
fn first_argument(text: &str) -> &str {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '<' | '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => return &text[..at],
            '>' => depth -= 1,
            ',' if depth == 0 => return &text[..at],
            _ => {}
        }
    }
    text
}

/// Each `export type NAME = BODY` of the bindings, without comments.
fn type_definitions(bindings: &str) -> HashMap<String, String> {
    let mut types = HashMap::new();
    for chunk in bindings.split("\nexport type ").skip(1) {
        let Some((name, body)) = chunk.split_once('=') else {
            continue;
        };
        let body = body
            .split("\n/**")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .map(without_comment)
            .collect::<Vec<_>>()
            .join("\n");
        types.insert(name.trim().to_owned(), body);
    }
    types
}

fn without_comment(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

fn identifiers(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.char_indices()
        .filter(move |&(at, c)| {
            (c.is_ascii_alphanumeric() || c == '_')
                && text[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|p| !(p.is_ascii_alphanumeric() || p == '_'))
        })
        .map(move |(at, _)| {
            let end = text[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(text.len(), |len| at + len);
            (at, &text[at..end])
        })
}

/// Every (type, field, field type) reachable from `roots`.
fn reply_fields(bindings: &str) -> Vec<(String, String, String)> {
    let types = type_definitions(bindings);
    let mut stack: Vec<String> = reply_roots(bindings)
        .iter()
        .flat_map(|root| {
            identifiers(root)
                .map(|(_, id)| id.to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut fields = Vec::new();
    while let Some(name) = stack.pop() {
        let Some(body) = types.get(&name) else {
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        for (at, id) in identifiers(body) {
            let after = body[at + id.len()..].trim_start();
            let after = after.strip_prefix('?').unwrap_or(after).trim_start();
            if let Some(declared) = after.strip_prefix(':') {
                let end = declared.find([';', '\n', '}']).unwrap_or(declared.len());
                fields.push((
                    name.clone(),
                    id.to_owned(),
                    declared[..end].trim().trim_end_matches(',').to_owned(),
                ));
            }
            if types.contains_key(id) {
                stack.push(id.to_owned());
            }
        }
    }
    fields
}

/// Fields whose name speaks of a credential and whose type could hold one (a flag or a
/// count cannot).
fn secret_fields(bindings: &str) -> Vec<String> {
    reply_fields(bindings)
        .into_iter()
        .filter(|(_, field, declared)| {
            let lower = field.to_ascii_lowercase();
            SECRET_WORDS.iter().any(|word| lower.contains(word))
                && !matches!(declared.as_str(), "boolean" | "number" | "boolean | null")
        })
        .map(|(owner, field, declared)| format!("{owner}.{field}: {declared}"))
        .collect()
}

#[test]
fn no_command_reply_carries_a_token_or_password() {
    let bindings = read("ui/src/lib/bindings.ts");
    let fields = reply_fields(&bindings);
    // The walk reaches the replies it must: the status, a user's detail, the bulk summary.
    for (owner, field) in [
        ("StatusView_Serialize", "mustChangePassword"),
        ("UserDetail_Serialize", "activeSessions"),
        ("BulkSummaryView_Serialize", "failed"),
    ] {
        assert!(
            fields.iter().any(|(o, f, _)| o == owner && f == field),
            "the walk missed {owner}.{field} ({} fields seen)",
            fields.len()
        );
    }
    // The credentials a reply carries on purpose, each shown once on the screen and kept
    // nowhere: the key of a two-factor enrolment, to be typed into an authenticator app
    // (its QR code is drawn from it; the person's own, new, and not yet in force); and a
    // new API token, to be copied into the integration it was issued for (the server
    // keeps only its hash, so this is the only time anyone sees it).
    let shown_once = [
        "MfaEnrolmentView.secret: string",
        "IssuedApiTokenView_Serialize.secret: string",
    ];
    let found: Vec<String> = secret_fields(&bindings)
        .into_iter()
        .filter(|field| !shown_once.contains(&field.as_str()))
        .collect();
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_walk_finds_a_token_however_deep_it_is() {
    let bindings = "\
export const commands = {
\tstatus: () => typedError<Outer_Serialize, CommandError_Serialize>(__TAURI_INVOKE(\"status\")),
\tsync: (onProgress: Channel<Progress>) => __TAURI_INVOKE<void>(\"sync\", { onProgress }),
};

/* Types */
export type Outer_Serialize = { account: Inner | null; mustChangePassword: boolean }
export type Inner = { name: string; sessions: Session[] }
export type Session = { refreshToken: string }
export type Progress = { done: number; apiKey?: string }
export type Unused = { password: string }
";
    let mut found = secret_fields(bindings);
    found.sort();
    assert_eq!(
        found,
        ["Progress.apiKey: string", "Session.refreshToken: string"],
        "both credentials on reply paths, and not the type no reply uses"
    );
}
