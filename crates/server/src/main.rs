//! `muster-server`: serve the reference API, or administer its data directory.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use muster_server::db::Db;
use muster_server::demo::{self, DEMO_ORGS, DEMO_PASSWORD, DEMO_SYSTEM_ADMIN, OrgSpec};
use muster_server::policy::PolicyStyle;
use muster_server::ratelimit::{ApiRate, LimitSettings, Limits};
use muster_server::{AppState, Config, app};
use tracing_subscriber::EnvFilter;

/// Muster's reference user-management API (SCIM 2.0).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8650")]
    listen: SocketAddr,
    /// Directory holding the database. Created if missing.
    #[arg(long, default_value = "muster-data")]
    data: PathBuf,
    /// Seed demo organisations (once), print how to sign in, and log emails with their
    /// links so a newcomer can follow them.
    #[arg(long)]
    demo: bool,
    /// The URL clients use to reach this server, for resource locations and email links;
    /// defaults to the Host each request was sent to.
    #[arg(long)]
    public_url: Option<String>,
    /// Deliver email through this SMTP relay (`smtp://host:port`); without it, emails
    /// stay in the outbox (`GET /admin/outbox`).
    #[arg(long)]
    smtp_url: Option<String>,
    /// Requests a second each account (user session or API token) may make to the SCIM
    /// API, sustained; 0 turns the limit off. Over it, requests answer 429 with
    /// Retry-After.
    #[arg(long, default_value_t = LimitSettings::default().api.per_second)]
    api_rate: u32,
    /// Requests an account may make to the SCIM API at once after a quiet spell.
    #[arg(long, default_value_t = LimitSettings::default().api.burst)]
    api_burst: u32,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an organisation.
    CreateOrg {
        /// Its id, as in /o/{id}/.
        id: String,
        /// Its display name.
        #[arg(long)]
        name: Option<String>,
        /// Password policy: `shop` (12+ characters with upper, lower, digit and special)
        /// or `nist` (SP 800-63B: 8+ characters, no composition rules). Both refuse
        /// common passwords.
        #[arg(long, default_value = "shop")]
        password_policy: String,
    },
    /// Create an API-licence user in an organisation and print a new API token for it.
    CreateApiToken {
        /// Organisation id.
        #[arg(long)]
        org: String,
        /// userName of the integration user (created if missing).
        #[arg(long, default_value = "integration")]
        user: String,
    },
    /// Create a system admin; the password is read from standard input.
    CreateSystemAdmin {
        /// Sign-in email.
        email: String,
        /// Display name.
        #[arg(long, default_value = "System Admin")]
        name: String,
    },
    /// Create an organisation filled with generated users (for benchmarks).
    SeedOrg {
        /// Organisation id.
        id: String,
        /// Number of users.
        #[arg(long, default_value_t = 1000)]
        users: usize,
    },
}

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("muster-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Failure> {
    if args.command.is_none() {
        muster_server::check_exposure(args.listen, args.public_url.as_deref(), args.demo)?;
    }
    let db = Db::open(&args.data)?;
    match args.command {
        Some(command) => administer(&db, command),
        None => {
            let config = Config {
                public_url: args.public_url,
                smtp_url: args.smtp_url,
                demo: args.demo,
                ..Config::default()
            };
            let limits = LimitSettings {
                api: ApiRate::new(args.api_rate, args.api_burst),
                ..LimitSettings::default()
            };
            serve(db, args.listen, config, limits)
        }
    }
}

fn administer(db: &Db, command: Command) -> Result<(), Failure> {
    let now = time::OffsetDateTime::now_utc();
    match command {
        Command::CreateOrg {
            id,
            name,
            password_policy,
        } => {
            let style = match password_policy.as_str() {
                "shop" => PolicyStyle::Shop,
                "nist" => PolicyStyle::Nist,
                other => {
                    return Err(
                        format!("unknown password policy '{other}': use shop or nist").into(),
                    );
                }
            };
            let name = name.unwrap_or_else(|| id.clone());
            db.write_blocking(|tx| {
                muster_server::orgs::create_org_blocking(tx, &id, &name, now)?;
                muster_server::policy::set_password_policy(tx, &id, style)
            })?;
            println!("created organisation {id}");
        }
        Command::CreateApiToken { org, user } => {
            let token = db.write_blocking(|tx| {
                muster_server::admin::integration_token(tx, &org, &user, now)
            })?;
            println!("{token}");
        }
        Command::CreateSystemAdmin { email, name } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let hash = muster_server::auth::hash_password(password.trim_end_matches(['\r', '\n']))?;
            db.write_blocking(|tx| {
                muster_server::auth::create_system_admin(tx, &email, &name, &hash, now)
            })?;
            println!("created system admin {email}");
        }
        Command::SeedOrg { id, users } => {
            let hash = muster_server::auth::hash_password(DEMO_PASSWORD)?;
            let domain = format!("{id}.test");
            let spec = OrgSpec {
                id: &id,
                name: &id,
                domain: &domain,
                users,
            };
            let created = db.write_blocking(|tx| demo::seed_org(tx, &spec, &hash, now))?;
            println!(
                "{}",
                if created {
                    "seeded"
                } else {
                    "organisation exists; left as it is"
                }
            );
        }
    }
    Ok(())
}

fn serve(db: Db, listen: SocketAddr, config: Config, limits: LimitSettings) -> Result<(), Failure> {
    let demo_mode = config.demo;
    if demo_mode {
        demo::seed_demo(&db)?;
    }
    let state = AppState {
        config: Arc::new(config),
        limits: Arc::new(Limits::with_settings(limits)),
        ..AppState::new(db)
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let address = listener.local_addr()?;
        println!("Muster server listening on http://{address}");
        if demo_mode {
            print_demo_help(address);
        }
        muster_server::outbox::spawn_delivery(state.clone());
        muster_server::denials::spawn_flush(state.clone());
        let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown())
            .await?;
        Ok::<_, Failure>(())
    })
}

fn print_demo_help(address: SocketAddr) {
    println!();
    println!("Demo organisations (SCIM base URLs):");
    for spec in DEMO_ORGS {
        println!(
            "  {:<28} http://{address}/o/{}/scim/v2   ({} users)",
            spec.name, spec.id, spec.users
        );
    }
    let first = &DEMO_ORGS[0];
    println!();
    println!("Sign in (POST http://{address}/auth/token) as an org admin:");
    println!(
        "  {{\"org\": \"{}\", \"email\": \"admin@{}\", \"password\": \"{DEMO_PASSWORD}\"}}",
        first.id, first.domain
    );
    println!("or as the system admin: {DEMO_SYSTEM_ADMIN} / {DEMO_PASSWORD}");
    println!("Emails the server sends are logged here and listed at GET /admin/outbox.");
}

/// Ctrl-C or SIGTERM (how CI and service managers stop a server).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
