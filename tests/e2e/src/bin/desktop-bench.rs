//! The desktop app's figures for BENCHMARKS.md, measured on the real app in its real
//! webview (run it the way `scripts/e2e` runs the tests: under Xvfb, with a D-Bus session
//! and gnome-keyring; `scripts/bench-desktop` does):
//!
//! - cold start to the first rows on screen from the offline copy, for 20,000 and 100,000
//!   users (the app started again by the same person, already signed in);
//! - keystroke-to-rows latency in the webview (p50/p95 over typed queries);
//! - resident memory of the whole app (the Rust process and WebKit's web and network
//!   processes) with 100,000 users loaded;
//! - the size of the .deb.

use std::time::{Duration, Instant};

use muster_e2e::{App, PASSWORD, Server, fresh_dir, profile, root};
use muster_test_support::bench::group;
use serde_json::json;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![20_000, 100_000]
    } else {
        sizes
    };
    for users in sizes {
        measure(users).await;
    }
    for dir in ["deb", "rpm"] {
        let path = root()
            .join("target")
            .join(profile())
            .join("bundle")
            .join(dir);
        if let Ok(entries) = std::fs::read_dir(&path) {
            for entry in entries.flatten() {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                println!(
                    "bundle {}: {:.1} MB",
                    entry.file_name().to_string_lossy(),
                    size as f64 / 1e6
                );
            }
        }
    }
}

async fn measure(users: usize) {
    let org = format!("bench-{users}");
    let seeding = Instant::now();
    let mut server = Server::start(&org, users).await;
    println!(
        "\n== {users} users (seeded in {:.1} s)",
        seeding.elapsed().as_secs_f64()
    );
    let home = fresh_dir(&format!("bench-{users}"));

    // First run: connect, sign in, full sync (writes the encrypted copy).
    let app = App::launch_in(&home).await;
    app.fill("profile-name", "Bench").await;
    app.fill("profile-url", &server.url).await;
    app.fill("profile-org", &org).await;
    app.click("profile-save").await;
    app.click("profile-open-Bench").await;
    app.fill("signin-email", &format!("admin@{org}.test")).await;
    app.fill("signin-password", PASSWORD).await;
    let cpu_before = cpu_seconds();
    let syncing = Instant::now();
    app.click("signin-submit").await;
    let total = users.to_string();
    let grouped = group(users as u64);
    app.wait_text_for("user-count", Duration::from_secs(600), |t| {
        t.contains(&total) || t.contains(&grouped)
    })
    .await;
    app.find("user-row").await;
    println!(
        "first sign-in and full sync to rows: {:.2} s",
        syncing.elapsed().as_secs_f64()
    );
    let cpu: Vec<String> = cpu_seconds()
        .into_iter()
        .map(|(name, after)| {
            let before = cpu_before
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0.0, |(_, s)| *s);
            format!("{name} {:.2} s", after - before)
        })
        .collect();
    println!("  CPU meanwhile: {}", cpu.join(", "));
    // The rows show while the copy is written; the cold starts below need it written.
    app.wait_gone("sync-progress").await;
    app.close().await;

    // Cold start from the copy: the server is down, so every row comes from the cache.
    server.stop().await;
    let mut starts = Vec::new();
    for _ in 0..3 {
        let launched = Instant::now();
        let launched_at = epoch_ms();
        let app = App::launch_in(&home).await;
        let session = launched.elapsed();
        app.find("user-row").await;
        // WebDriver looks for the row every 250 ms: the page's own mark says when it came.
        let (marks, first_row) = page_marks(&app, launched_at).await;
        let rows = first_row
            .and_then(|at| Duration::try_from_secs_f64(at).ok())
            .unwrap_or_else(|| launched.elapsed());
        starts.push((session, rows));
        println!("  in the page: {marks}");
        app.close().await;
    }
    for (session, rows) in &starts {
        println!(
            "cold start to first rows: {:.0} ms (of which WebDriver session + window: {:.0} ms)",
            rows.as_secs_f64() * 1e3,
            session.as_secs_f64() * 1e3
        );
    }

    // Keystroke to rows, and memory, with the copy loaded.
    let app = App::launch_in(&home).await;
    app.find("user-row").await;
    let queries = [
        "s", "sm", "smi", "smit", "j", "jo", "jon", "a", "an", "ann", "m", "ma", "mar", "r", "ro",
        "rob",
    ];
    let mut ipc = Vec::new();
    let mut dom = Vec::new();
    let mut frame = Vec::new();
    for query in queries.iter().cycle().take(48) {
        let (ms, answer) = search_ipc(&app, query).await;
        ipc.push(ms);
        let (d, f) = keystroke(&app, query, &answer).await;
        dom.push(d);
        frame.push(f);
    }
    let mut idle = idle_frames(&app).await;
    report("frame interval with nothing changing", &mut idle);
    report(
        "search command round trip (IPC + engine, 200 rows)",
        &mut ipc,
    );
    report("keystroke to rows in the DOM", &mut dom);
    report("keystroke to rows painted (next frame)", &mut frame);
    let (rss, parts) = app_rss();
    println!(
        "resident memory of the app: {:.0} MB ({parts})",
        rss as f64 / 1e6
    );
    app.close().await;
}

fn report(what: &str, samples: &mut [f64]) {
    samples.sort_by(f64::total_cmp);
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what} ({} samples): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        samples.len(),
        p(0.5),
        p(0.95),
        p(1.0)
    );
}

/// Intervals between animation frames while nothing changes: the webview's own pace (under
/// Xvfb there is no GPU, so every frame is painted in software).
async fn idle_frames(app: &App) -> Vec<f64> {
    let script = r#"
        const done = arguments[0];
        const times = [];
        const step = (t) => {
            times.push(t);
            if (times.length > 30) done(times.slice(1).map((t, i) => t - times[i]));
            else requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
    "#;
    let value = app
        .client
        .execute_async(script, vec![])
        .await
        .expect("the timing script runs");
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default()
}

/// The search command alone, called from the page as the table calls it (first window of
/// 200 rows), timed with the page's clock: IPC both ways plus the engine. Also gives the
/// answer the table must come to show: the count's number and the first row's name.
async fn search_ipc(app: &App, text: &str) -> (f64, serde_json::Value) {
    let script = r#"
        const [text, done] = arguments;
        const query = {
            text, roles: [], licences: [], statuses: [], branches: [], zones: [],
            securityGroups: [], signInMethods: [], invitationStates: [],
            noSignInForDays: null, invitationExpiresWithinHours: null,
            // As the users screen asks by default (deactivated users until shown).
            hideDeactivated: true,
            sort: "name", descending: false, offset: 0, limit: 200,
        };
        const start = performance.now();
        window.__TAURI_INTERNALS__.invoke("search_users", { query })
            .then((reply) => {
                const ms = performance.now() - start;
                const rows = reply.rows;
                done([ms, reply.total.toLocaleString("en-US"), rows.length ? rows[0].name : null]);
            }, () => done([-1, null, null]));
    "#;
    let value = app
        .client
        .execute_async(script, vec![json!(text)])
        .await
        .expect("the timing script runs");
    let ms = value.get(0).and_then(|v| v.as_f64()).unwrap_or(-1.0);
    (ms, json!([value.get(1), value.get(2)]))
}

/// Types `query` into the search box inside the page and times, with the page's own clock,
/// until the table's DOM shows `answer` (the count starts with its number and the first row
/// shows its name), and until the frame after that is painted.
async fn keystroke(app: &App, query: &str, answer: &serde_json::Value) -> (f64, f64) {
    let script = r#"
        const [query, [total, first], done] = arguments;
        const body = document.querySelector('[data-testid="users-table"]') ?? document.body;
        const input = document.querySelector('[data-testid="user-search"]');
        const count = document.querySelector('[data-testid="user-count"]');
        input.value = "";
        input.dispatchEvent(new Event("input", { bubbles: true }));
        setTimeout(() => {
            let finished = false;
            const start = performance.now();
            const finish = (dom) => {
                if (finished) return;
                finished = true;
                observer.disconnect();
                requestAnimationFrame(() => done([dom, performance.now() - start]));
            };
            const shown = () => {
                const row = document.querySelector('[data-testid="user-row"]');
                return count.textContent.startsWith(total + " ")
                    && (first === null || (row !== null && row.textContent.includes(first)));
            };
            const observer = new MutationObserver(() => {
                if (shown()) finish(performance.now() - start);
            });
            observer.observe(body, { childList: true, characterData: true, subtree: true });
            setTimeout(() => finish(-1), 5000);
            input.value = query;
            input.dispatchEvent(new Event("input", { bubbles: true }));
        }, 300);
    "#;
    let value = app
        .client
        .execute_async(script, vec![json!(query), answer.clone()])
        .await
        .expect("the timing script runs");
    let at = |i: usize| value.get(i).and_then(|v| v.as_f64()).unwrap_or(-1.0);
    (at(0), at(1))
}

/// Milliseconds since the Unix epoch, the page's `performance.timeOrigin` clock.
fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// When the page got to each step of its start, in ms after `launched_at` (the harness
/// starting the app): the navigation's timing, then the app's own marks
/// (`ui/src/lib/marks.ts`); and when the first row was shown, in seconds after
/// `launched_at`.
async fn page_marks(app: &App, launched_at: f64) -> (String, Option<f64>) {
    let script = r#"
        const nav = performance.getEntriesByType("navigation")[0];
        const steps = nav ? [["response", nav.responseEnd], ["dom", nav.domContentLoadedEventEnd]] : [];
        const marks = performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]);
        return [performance.timeOrigin, steps.concat(marks)];
    "#;
    let Ok(value) = app.client.execute(script, vec![]).await else {
        return ("no timings".to_owned(), None);
    };
    let origin = value.get(0).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let mut text = format!("page opened +{:.0} ms", origin - launched_at);
    let mut first_row = None;
    let steps = value.get(1).and_then(|v| v.as_array());
    for step in steps.into_iter().flatten() {
        let name = step.get(0).and_then(|v| v.as_str()).unwrap_or("?");
        let at = step.get(1).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let after = origin + at - launched_at;
        if name == "muster:first-row" {
            first_row = Some(after / 1e3);
        }
        text.push_str(&format!(
            ", {} +{after:.0}",
            name.trim_start_matches("muster:")
        ));
    }
    (text, first_row)
}

/// CPU time (user + system) so far of the app's processes and the server's, by name,
/// from /proc.
fn cpu_seconds() -> Vec<(String, f64)> {
    // Clock ticks per second: 100 on Linux for every architecture it runs this on.
    const TICKS: f64 = 100.0;
    let mut seconds: Vec<(String, f64)> = Vec::new();
    for (name, dir) in processes(true) {
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        // After the name: state is field 3, utime 14 and stime 15.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok());
        let (Some(user), Some(system)) = (ticks(14), ticks(15)) else {
            continue;
        };
        match seconds.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += (user + system) / TICKS,
            None => seconds.push((name, (user + system) / TICKS)),
        }
    }
    seconds.sort_by(|a, b| a.0.cmp(&b.0));
    seconds
}

/// The app's processes (muster-desktop and WebKit's helpers), and the server's when
/// `server` is set: each one's name and /proc directory.
fn processes(server: bool) -> impl Iterator<Item = (String, std::path::PathBuf)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(move |entry| {
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            let name = comm.trim();
            let ours = name.starts_with("muster-desktop")
                || name == "WebKitWebProces"
                || name == "WebKitNetworkPr"
                || (server && name == "muster-server");
            ours.then(|| (name.to_owned(), entry.path()))
        })
}

/// The resident memory of muster-desktop and WebKit's helper processes, from /proc.
fn app_rss() -> (u64, String) {
    let mut total = 0;
    let mut parts = Vec::new();
    for (comm, dir) in processes(false) {
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        total += kb * 1024;
        parts.push(format!("{comm} {} MB", kb / 1024));
    }
    (total, parts.join(", "))
}
