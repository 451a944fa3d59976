//! `iam-host`: the iam-wasm server and its operator commands.

mod audit;
mod auth;
#[cfg(feature = "bench")]
mod bench;
mod config;
mod contract;
mod http;
mod lifecycle;
mod metrics;
mod passwords;
mod pipeline;
mod plugins;
mod scim;
mod server;
mod slots;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "iam-host",
    version,
    about = "INDIGO IAM account API with Wasm plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text or as JSON lines for log shippers (env IAM_LOG_FORMAT).
    #[arg(
        long,
        global = true,
        env = "IAM_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: server::LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// TOML configuration file (env IAM_CONFIG).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on (env IAM_LISTEN; default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Serve `/metrics` on this address alone, not on the API's (env IAM_METRICS_LISTEN).
        #[arg(long)]
        metrics_listen: Option<String>,
        /// SQLite database file or postgres:// URL (env IAM_DB; default ./iam.db).
        #[arg(long)]
        db: Option<String>,
        /// `roles` (default), `strict`, or a path to a policy component (.wasm).
        #[arg(long)]
        policy: Option<String>,
    },
    /// Run the account-lifecycle job once (label, suspend, remove expired accounts) and
    /// print what it did. The server also runs it every `[lifecycle] interval_secs`.
    Lifecycle {
        /// TOML configuration file (env IAM_CONFIG).
        #[arg(long)]
        config: Option<PathBuf>,
        /// SQLite database file or postgres:// URL (env IAM_DB; default ./iam.db).
        #[arg(long)]
        db: Option<String>,
    },
    /// Print a signed access token for an account (for operators and scripts).
    Token {
        /// SQLite database file or postgres:// URL (env IAM_DB; default ./iam.db).
        #[arg(long, env = "IAM_DB", default_value = config::DEFAULT_DB)]
        db: String,
        /// The account's username.
        #[arg(long)]
        username: String,
        /// Space-separated scopes; default: every scope the account may hold.
        #[arg(long)]
        scope: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        lifetime: u64,
    },
    /// Manage the token-signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Move a site between databases.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Inspect plugin components.
    Plugin {
        #[command(subcommand)]
        action: PluginAction,
    },
    /// Time policy decisions in process, as Wasm and natively (benchmark builds only).
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    BenchPolicy {
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
    },
}

#[derive(Subcommand)]
enum PluginAction {
    /// Print a component's imports, exports and contract version and the slots it fits;
    /// exit non-zero when it fits none (or not --slot), or is not a component.
    Check {
        /// The .wasm file.
        file: PathBuf,
        /// Check only this slot (policy, attributes, labels, ...).
        #[arg(long)]
        slot: Option<String>,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// Copy every account, group, label, attribute, client, key and token from one database
    /// to another (SQLite file or postgres:// URL, either way), then verify the copy table by
    /// table (row counts and checksums). Stop the servers on the source first.
    Copy {
        /// The database to copy (it must exist).
        #[arg(long)]
        from: String,
        /// The database to copy into (created and migrated if needed).
        #[arg(long)]
        to: String,
        /// Overwrite a target that already has accounts, groups, clients or keys.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Add a new signing key. Running servers publish it at /jwk at once and sign with it
    /// from their next token on (after --publish-for); tokens signed with older keys stay
    /// valid until they expire.
    Rotate {
        /// SQLite database file or postgres:// URL (env IAM_DB; default ./iam.db).
        #[arg(long, env = "IAM_DB", default_value = config::DEFAULT_DB)]
        db: String,
        /// Seconds the key is published before it signs: with several servers, at least a
        /// few seconds (they look for new keys every 2 s), and as long as relying parties
        /// cache /jwk.
        #[arg(long, default_value_t = 0)]
        publish_for: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            config,
            listen,
            metrics_listen,
            db,
            policy,
        } => {
            server::init_logging(cli.log_format);
            config::Config::load(config::Overrides {
                config,
                listen,
                metrics_listen,
                db,
                policy,
            })
            .and_then(server::serve)
        }
        Command::Lifecycle { config, db } => {
            server::init_logging(cli.log_format);
            config::Config::load(config::Overrides {
                config,
                db,
                ..Default::default()
            })
            .and_then(server::run_lifecycle)
        }
        Command::Token {
            db,
            username,
            scope,
            lifetime,
        } => server::print_token(
            &config::DbLocation::new(db),
            &username,
            scope.as_deref(),
            lifetime,
        ),
        Command::Db {
            action: DbAction::Copy { from, to, replace },
        } => server::copy_database(
            &config::DbLocation::new(from),
            &config::DbLocation::new(to),
            replace,
        ),
        Command::Keys {
            action: KeysAction::Rotate { db, publish_for },
        } => server::rotate_keys(
            &config::DbLocation::new(db),
            std::time::Duration::from_secs(publish_for),
        ),
        #[cfg(feature = "bench")]
        Command::BenchPolicy { iterations } => bench::time_policy(iterations),
        Command::Plugin {
            action: PluginAction::Check { file, slot },
        } => match plugins::check_file(&file, slot.as_deref()) {
            Ok(true) => Ok(()),
            Ok(false) => {
                eprintln!("iam-host: {} fits no slot asked for", file.display());
                return ExitCode::FAILURE;
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iam-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}
