//! Server configuration: built-in defaults, then the TOML file, then environment variables,
//! then command-line flags (each later source wins).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::slots;

/// Everything `iam-host serve` needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// Address of a listener serving `/metrics` alone; `/metrics` is then not on `listen`.
    pub metrics_listen: Option<String>,
    /// The database: a SQLite file or a PostgreSQL URL.
    pub db: DbLocation,
    /// Public base URL: token issuer, `meta.location` and `$ref` links.
    pub base_url: String,
    /// Plugin selection and limits.
    pub plugins: PluginsConfig,
    /// Largest request body accepted (bytes).
    pub max_body_bytes: usize,
    /// Account end times and the expiry job.
    pub lifecycle: LifecycleConfig,
    /// What SCIM user representations show.
    pub scim: ScimConfig,
    /// What happens to new accounts.
    pub registration: RegistrationConfig,
    /// The token endpoint.
    pub oauth: OAuthConfig,
    /// The stored audit trail.
    pub audit: AuditConfig,
    /// The flags this configuration was loaded with (a reload loads it again with them).
    pub overrides: Overrides,
}

/// The `[audit]` section.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Days a stored audit event is kept; older ones are deleted by the lifecycle job
    /// (which must be enabled). 0: kept for ever.
    pub retention_days: u32,
}

/// The `[oauth]` section: defaults for clients that set no token lifetimes of their own.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// Lifetime of access tokens, in seconds.
    pub access_token_lifetime_secs: u64,
    /// Lifetime of refresh tokens, in seconds (0: they never expire; only allowed when
    /// `max_refresh_token_lifetime_secs` is 0).
    pub refresh_token_lifetime_secs: u64,
    /// The longest access token lifetime a client may register (and get). A day by default:
    /// an access token cannot be recalled once handed out except by a revocation that is kept
    /// until its expiry, and a day covers the longest jobs that do not refresh.
    pub max_access_token_lifetime_secs: u64,
    /// The longest refresh token lifetime a client may register; 0: no maximum, and clients
    /// may have refresh tokens that never expire (INDIGO IAM's behaviour). A year by default:
    /// refresh tokens are stored, rotated on use and can be revoked, so the bound only ends
    /// grants that go unused for that long.
    pub max_refresh_token_lifetime_secs: u64,
    /// Other OpenID providers whose tokens are accepted for the accounts linked to them.
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
}

/// One `[[oauth.trusted_issuers]]`: the issuer, the audience its tokens must name to be
/// accepted here, and where its keys are, a JWKS file (relative to the config file) or URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerConfig {
    pub issuer: String,
    /// `audience = "..."` or a list: a token's `aud` must name one (required, so a token
    /// minted for another relying party is never accepted).
    #[serde(default)]
    pub audience: Audiences,
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    #[serde(default)]
    pub jwks_url: Option<String>,
}

/// One audience or a list of them.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(untagged)]
pub enum Audiences {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audiences {
    pub fn list(&self) -> Vec<String> {
        match self {
            Audiences::None => Vec::new(),
            Audiences::One(a) => vec![a.clone()],
            Audiences::Many(l) => l.clone(),
        }
    }
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            access_token_lifetime_secs: 3600,
            refresh_token_lifetime_secs: 30 * 24 * 3600,
            max_access_token_lifetime_secs: 24 * 3600,
            max_refresh_token_lifetime_secs: 365 * 24 * 3600,
            trusted_issuers: Vec::new(),
        }
    }
}

/// No token lifetime may exceed this (100 years), whatever the configuration: expiry
/// times in milliseconds then stay far from overflowing.
pub const MAX_LIFETIME_SECS: u64 = 100 * 365 * 24 * 3600;

impl OAuthConfig {
    /// The lifetimes must fit their maximums, and the maximums the hard ceiling.
    fn check_lifetimes(&self) -> Result<()> {
        let max_access = self.max_access_token_lifetime_secs;
        let max_refresh = self.max_refresh_token_lifetime_secs;
        if !(1..=MAX_LIFETIME_SECS).contains(&max_access) {
            bail!(
                "[oauth] max_access_token_lifetime_secs must be between 1 and {MAX_LIFETIME_SECS}"
            );
        }
        if max_refresh > MAX_LIFETIME_SECS {
            bail!(
                "[oauth] max_refresh_token_lifetime_secs must be at most {MAX_LIFETIME_SECS} (0: no maximum)"
            );
        }
        if self.access_token_lifetime_secs > max_access {
            bail!(
                "[oauth] access_token_lifetime_secs ({}) is over max_access_token_lifetime_secs ({max_access})",
                self.access_token_lifetime_secs
            );
        }
        let refresh = self.refresh_token_lifetime_secs;
        if max_refresh > 0 && !(1..=max_refresh).contains(&refresh) {
            bail!(
                "[oauth] refresh_token_lifetime_secs ({refresh}) must be between 1 and \
                 max_refresh_token_lifetime_secs ({max_refresh}); set that to 0 for refresh \
                 tokens that never expire"
            );
        }
        if refresh > MAX_LIFETIME_SECS {
            bail!("[oauth] refresh_token_lifetime_secs must be at most {MAX_LIFETIME_SECS}");
        }
        Ok(())
    }
}

/// The `[registration]` section: INDIGO IAM's `registration.*` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Groups every account created through SCIM joins: a full group name, or
    /// `{name = "...", enrollment = "insert"}` as in IAM's `default-groups`.
    pub default_groups: Vec<DefaultGroup>,
}

/// One of `registration.default_groups`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum DefaultGroup {
    Name(String),
    Entry {
        name: String,
        #[serde(default)]
        enrollment: Option<String>,
    },
}

impl RegistrationConfig {
    /// The full names of the groups new accounts join. IAM's other enrollment,
    /// `SUBMIT_REQUEST`, needs group requests, which this server does not have: refused.
    pub fn default_group_names(&self) -> Result<Vec<String>> {
        self.default_groups
            .iter()
            .map(|g| match g {
                DefaultGroup::Name(name) => Ok(name.clone()),
                DefaultGroup::Entry { name, enrollment } => match enrollment.as_deref() {
                    None => Ok(name.clone()),
                    Some(e) if e.eq_ignore_ascii_case("insert") => Ok(name.clone()),
                    Some(other) => bail!(
                        "[registration] default group '{name}': enrollment '{other}' is not \
                         supported (only 'insert': this server has no group requests)"
                    ),
                },
            })
            .collect()
    }
}

/// The `[scim]` section: INDIGO IAM's `scim.include_*` switches (off by default) and the
/// largest page of the user and group lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    /// The largest `count` of `/scim/Users` and `/scim/Groups` (and their `.search`),
    /// published as `filter.maxResults`: 100 as in INDIGO IAM, at most 1000.
    pub max_results: u32,
    /// Labels shown in the IndigoUser extension: `{prefix = "...", name = "..."}` (no
    /// prefix: the unprefixed label).
    pub include_labels: Vec<IncludedLabel>,
    /// Attributes shown in the IndigoUser extension: `{name = "..."}`.
    pub include_attributes: Vec<IncludedAttribute>,
    /// Show the account's authorities.
    pub include_authorities: bool,
    /// Show the groups the account manages.
    pub include_managed_groups: bool,
    /// Take SCIM request bodies sent as `application/json` too (INDIGO IAM answers 415;
    /// some generic SCIM clients send it).
    pub accept_application_json: bool,
}

impl Default for ScimConfig {
    fn default() -> ScimConfig {
        ScimConfig {
            max_results: 100,
            include_labels: Vec::new(),
            include_attributes: Vec::new(),
            include_authorities: false,
            include_managed_groups: false,
            accept_application_json: false,
        }
    }
}

/// The largest `[scim] max_results`: a page of a thousand full users is already a large
/// answer.
const MAX_SCIM_RESULTS: u32 = 1000;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IncludedLabel {
    #[serde(default)]
    pub prefix: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IncludedAttribute {
    pub name: String,
}

/// The `[lifecycle]` section: INDIGO IAM's `lifecycle.account.*` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Whether the expiry job runs in the server.
    pub enabled: bool,
    /// Seconds between two runs of the job.
    pub interval_secs: u64,
    /// Refuse `PUT /iam/account/{id}/endTime`.
    pub read_only_end_time: bool,
    /// Delete expired accounts once past the removal grace period.
    pub removal_enabled: bool,
    /// Days after the end time before suspension (0: at once).
    pub suspension_grace_period_days: u32,
    /// Days after the end time before removal (0: at once).
    pub removal_grace_period_days: u32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            enabled: true,
            interval_secs: 300,
            read_only_end_time: false,
            removal_enabled: true,
            suspension_grace_period_days: 7,
            removal_grace_period_days: 30,
        }
    }
}

/// Which component fills each slot, and what it runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginsConfig {
    /// The enforcing policy: `roles`, `strict` or a `.wasm` path.
    pub policy: PluginSpec,
    /// A candidate policy evaluated beside the enforcing one and never enforced.
    pub policy_shadow: Option<PluginSpec>,
    /// Handler group → its component; a group not listed runs the built-in handlers with
    /// the default limits.
    pub handlers: BTreeMap<String, PluginSpec>,
    /// Limits of the slots that set none.
    pub default_deadline: Duration,
    pub default_memory_bytes: usize,
    /// Where compiled components are cached (absent: no cache).
    pub cache_dir: Option<PathBuf>,
}

/// The built-in handlers' name in a handler slot.
pub const BUILTIN_HANDLERS: &str = "builtin";

/// One slot's component and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// A built-in name (`roles`, `strict`; `builtin` for handlers) or a `.wasm` path.
    pub component: String,
    /// The component's SHA-256 (hex) the operator pinned: any other content is refused.
    pub sha256: Option<String>,
    /// Wall-time limit of one call.
    pub deadline: Duration,
    /// Linear-memory limit of one instance, in bytes.
    pub memory_bytes: usize,
    /// Settings the component reads through the `config` import.
    pub settings: BTreeMap<String, String>,
}

impl PluginSpec {
    pub fn is_file(&self) -> bool {
        self.component.ends_with(".wasm")
    }
}

/// A slot in the file: a component name or path, or a table with the options.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum FileSpec {
    Component(String),
    Table(FileSpecTable),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpecTable {
    component: Option<String>,
    sha256: Option<String>,
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
    #[serde(default)]
    settings: BTreeMap<String, String>,
}

impl FileSpec {
    /// The spec, with paths made relative to the config file and the section's defaults.
    fn resolve(
        self,
        default_component: &str,
        base_dir: &Path,
        deadline: Duration,
        memory_bytes: usize,
    ) -> Result<PluginSpec> {
        let t = match self {
            FileSpec::Component(c) => FileSpecTable {
                component: Some(c),
                ..FileSpecTable::default()
            },
            FileSpec::Table(t) => t,
        };
        let component = t.component.unwrap_or_else(|| default_component.into());
        if let Some(pin) = &t.sha256
            && (pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            bail!("sha256 pin '{pin}' is not 64 hex digits");
        }
        Ok(PluginSpec {
            component: resolve_plugin_path(&component, base_dir),
            sha256: t.sha256.map(|s| s.to_ascii_lowercase()),
            deadline: t.deadline_ms.map(Duration::from_millis).unwrap_or(deadline),
            memory_bytes: t.memory_mib.map(|m| m << 20).unwrap_or(memory_bytes),
            settings: t.settings,
        })
    }
}

/// The TOML file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    metrics_listen: Option<String>,
    db: Option<String>,
    base_url: Option<String>,
    max_body_bytes: Option<usize>,
    #[serde(default)]
    plugins: FilePlugins,
    #[serde(default)]
    lifecycle: LifecycleConfig,
    #[serde(default)]
    scim: ScimConfig,
    #[serde(default)]
    registration: RegistrationConfig,
    #[serde(default)]
    oauth: OAuthConfig,
    #[serde(default)]
    audit: AuditConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlugins {
    policy: Option<FileSpec>,
    policy_shadow: Option<FileSpec>,
    #[serde(default)]
    handlers: BTreeMap<String, FileSpec>,
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
    cache_dir: Option<PathBuf>,
}

/// Command-line overrides of `iam-host serve`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub metrics_listen: Option<String>,
    pub db: Option<String>,
    pub policy: Option<String>,
}

/// Where the database is: a SQLite file, or a PostgreSQL database (`postgres://` URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbLocation {
    /// A `--db` value: a `postgres://` (or `postgresql://`) URL, or else a file path.
    pub fn new(target: impl Into<String>) -> DbLocation {
        let target = target.into();
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            DbLocation::Postgres(target)
        } else {
            DbLocation::Sqlite(PathBuf::from(target))
        }
    }

    /// The `db` of a config file in `dir`: a relative file path is relative to the file.
    fn in_dir(dir: &Path, target: String) -> DbLocation {
        match DbLocation::new(target) {
            DbLocation::Sqlite(p) => DbLocation::Sqlite(dir.join(p)),
            l => l,
        }
    }
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DB: &str = "iam.db";

impl Config {
    /// Loads the configuration: `--config` or `IAM_CONFIG` names the TOML file; `IAM_LISTEN`,
    /// `IAM_METRICS_LISTEN`, `IAM_DB`, `IAM_BASE_URL`, `IAM_POLICY` override it; flags
    /// override everything.
    pub fn load(o: Overrides) -> Result<Config> {
        let overrides = o.clone();
        let path = o
            .config
            .or_else(|| std::env::var_os("IAM_CONFIG").map(PathBuf::from));
        let (file, base_dir) = match &path {
            Some(p) => (
                read_file(p)?,
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            None => (FileConfig::default(), PathBuf::new()),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());

        let listen = o
            .listen
            .or_else(|| env("IAM_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let metrics_listen = o
            .metrics_listen
            .or_else(|| env("IAM_METRICS_LISTEN"))
            .or(file.metrics_listen);
        let db =
            o.db.or_else(|| env("IAM_DB"))
                .map(DbLocation::new)
                .or(file.db.map(|d| DbLocation::in_dir(&base_dir, d)))
                .unwrap_or_else(|| DbLocation::new(DEFAULT_DB));
        let base_url = env("IAM_BASE_URL")
            .or(file.base_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        let mut plugins = plugins_config(
            file.plugins,
            &base_dir,
            o.policy.or_else(|| env("IAM_POLICY")),
        )?;
        // Compiled components are cached next to a database file, or in the system's
        // temporary directory for a PostgreSQL one, unless the config says where.
        if plugins.cache_dir.is_none() {
            plugins.cache_dir = Some(match &db {
                DbLocation::Sqlite(path) => path.with_extension("plugin-cache"),
                // No file to keep it beside: a directory per database, so servers on different
                // databases (each with its own cache key) do not overwrite each other's.
                DbLocation::Postgres(url) => {
                    use sha2::Digest;
                    let digest = sha2::Sha256::digest(url.as_bytes());
                    let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
                    std::env::temp_dir().join(format!("iam-wasm-plugin-cache-{tag}"))
                }
            });
        }
        file.registration.default_group_names()?;
        let mut oauth = file.oauth;
        oauth.check_lifetimes()?;
        for t in &mut oauth.trusted_issuers {
            if t.audience.list().iter().all(|a| a.trim().is_empty()) {
                bail!(
                    "[[oauth.trusted_issuers]] '{}': give `audience`, the `aud` its tokens \
                     carry for this server (tokens for other relying parties are refused)",
                    t.issuer
                );
            }
            match (&t.jwks_file, &t.jwks_url) {
                (Some(f), None) => t.jwks_file = Some(base_dir.join(f)),
                (None, Some(_)) => {}
                _ => bail!(
                    "[[oauth.trusted_issuers]] '{}': give exactly one of jwks_file and jwks_url",
                    t.issuer
                ),
            }
        }
        if !(1..=MAX_SCIM_RESULTS).contains(&file.scim.max_results) {
            bail!("[scim] max_results must be between 1 and {MAX_SCIM_RESULTS}");
        }
        Ok(Config {
            listen,
            metrics_listen,
            db,
            base_url,
            max_body_bytes: file.max_body_bytes.unwrap_or(1 << 20),
            lifecycle: file.lifecycle,
            scim: file.scim,
            registration: file.registration,
            oauth,
            audit: file.audit,
            plugins,
            overrides,
        })
    }
}

/// The `[plugins]` section; `policy_override` (flag or environment) replaces the policy.
fn plugins_config(
    file: FilePlugins,
    base_dir: &Path,
    policy_override: Option<String>,
) -> Result<PluginsConfig> {
    let deadline = Duration::from_millis(file.deadline_ms.unwrap_or(1000));
    let memory = file.memory_mib.unwrap_or(64) << 20;
    let spec = |s: FileSpec, default: &str, what: &str| {
        s.resolve(default, base_dir, deadline, memory)
            .with_context(|| format!("[plugins] {what}"))
    };
    let policy = match (policy_override, file.policy) {
        (Some(name), _) => spec(FileSpec::Component(name), "roles", "policy")?,
        (None, Some(s)) => spec(s, "roles", "policy")?,
        (None, None) => spec(FileSpec::Component("roles".into()), "roles", "policy")?,
    };
    let policy_shadow = file
        .policy_shadow
        .map(|s| spec(s, "roles", "policy_shadow"))
        .transpose()?;
    let mut handlers = BTreeMap::new();
    for (group, s) in file.handlers {
        if !slots::handler_groups().any(|g| g == group) {
            let known: Vec<&str> = slots::handler_groups().collect();
            bail!("unknown handler group '{group}' in [plugins.handlers] (known: {known:?})");
        }
        let resolved = spec(s, BUILTIN_HANDLERS, &format!("handlers.{group}"))?;
        handlers.insert(group, resolved);
    }
    Ok(PluginsConfig {
        policy,
        policy_shadow,
        handlers,
        default_deadline: deadline,
        default_memory_bytes: memory,
        cache_dir: file.cache_dir.map(|d| base_dir.join(d)),
    })
}

/// A `.wasm` path in the config file is relative to the file; a built-in name stays a name.
fn resolve_plugin_path(value: &str, base_dir: &Path) -> String {
    if value.ends_with(".wasm") {
        base_dir.join(value).to_string_lossy().into_owned()
    } else {
        value.to_string()
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(toml: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iam.toml");
        std::fs::write(&path, toml).unwrap();
        Config::load(Overrides {
            config: Some(path),
            ..Overrides::default()
        })
    }

    #[test]
    fn plugin_paths_are_relative_to_the_file_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iam.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\n[plugins]\npolicy = \"p.wasm\"\ndeadline_ms = 250\nmemory_mib = 8\n\
             [plugins.handlers]\nattributes = \"site/a.wasm\"\n",
        )
        .unwrap();
        let cfg = Config::load(Overrides {
            config: Some(path),
            listen: Some("127.0.0.1:1234".into()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:1234");
        assert_eq!(
            cfg.plugins.policy.component,
            dir.path().join("p.wasm").to_string_lossy()
        );
        let a = &cfg.plugins.handlers["attributes"];
        assert_eq!(
            a.component,
            dir.path().join("site/a.wasm").to_string_lossy()
        );
        assert_eq!(a.deadline, Duration::from_millis(250));
        assert_eq!(a.memory_bytes, 8 << 20);
    }

    #[test]
    fn lifecycle_settings_default_like_iam() {
        let cfg = load_toml("").unwrap();
        assert!(
            cfg.lifecycle.enabled
                && cfg.lifecycle.removal_enabled
                && !cfg.lifecycle.read_only_end_time
        );
        assert_eq!(cfg.lifecycle.suspension_grace_period_days, 7);
        assert_eq!(cfg.lifecycle.removal_grace_period_days, 30);
        let cfg = load_toml("[lifecycle]\nremoval_enabled = false\ninterval_secs = 5\n").unwrap();
        assert!(!cfg.lifecycle.removal_enabled);
        assert_eq!(cfg.lifecycle.interval_secs, 5);
        assert_eq!(cfg.lifecycle.removal_grace_period_days, 30);
    }

    #[test]
    fn token_lifetimes_have_maximums() {
        let cfg = load_toml("").unwrap();
        assert_eq!(cfg.oauth.max_access_token_lifetime_secs, 86_400);
        assert_eq!(cfg.oauth.max_refresh_token_lifetime_secs, 31_536_000);
        let refused = |toml: &str| format!("{:#}", load_toml(toml).unwrap_err());
        assert!(
            refused("[oauth]\naccess_token_lifetime_secs = 86401\n")
                .contains("over max_access_token_lifetime_secs (86400)")
        );
        assert!(refused("[oauth]\nmax_access_token_lifetime_secs = 0\n").contains("between 1"));
        assert!(
            refused("[oauth]\nmax_refresh_token_lifetime_secs = 4611686018427387904\n")
                .contains("at most 3153600000")
        );
        // Refresh tokens that never expire need the maximum lifted.
        assert!(
            refused("[oauth]\nrefresh_token_lifetime_secs = 0\n")
                .contains("set that to 0 for refresh tokens that never expire")
        );
        let cfg = load_toml(
            "[oauth]\nrefresh_token_lifetime_secs = 0\nmax_refresh_token_lifetime_secs = 0\n",
        )
        .unwrap();
        assert_eq!(cfg.oauth.refresh_token_lifetime_secs, 0);
    }

    #[test]
    fn built_in_names_stay_names() {
        let cfg = load_toml("[plugins]\npolicy = \"roles\"\n").unwrap();
        assert_eq!(cfg.plugins.policy.component, "roles");
        assert_eq!(cfg.plugins.policy.deadline, Duration::from_secs(1));
        assert_eq!(cfg.plugins.default_memory_bytes, 64 << 20);
    }

    #[test]
    fn a_slot_may_be_a_table_with_pin_limits_and_settings() {
        let pin = "ab".repeat(32);
        let cfg = load_toml(&format!(
            "[plugins]\npolicy_shadow = \"strict\"\n[plugins.policy]\ncomponent = \"site.wasm\"\n\
             sha256 = \"{pin}\"\ndeadline_ms = 20\n[plugins.policy.settings]\nprefix = \"ex.org\"\n\
             [plugins.handlers.labels]\nmemory_mib = 8\n"
        ))
        .unwrap();
        let p = &cfg.plugins.policy;
        assert!(p.component.ends_with("site.wasm"));
        assert_eq!(p.sha256.as_deref(), Some(pin.as_str()));
        assert_eq!(p.deadline, Duration::from_millis(20));
        assert_eq!(p.settings["prefix"], "ex.org");
        assert_eq!(
            cfg.plugins.policy_shadow.as_ref().unwrap().component,
            "strict"
        );
        let labels = &cfg.plugins.handlers["labels"];
        assert_eq!(labels.component, BUILTIN_HANDLERS);
        assert_eq!(labels.memory_bytes, 8 << 20);
        let e = load_toml("[plugins.policy]\nsha256 = \"xyz\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("not 64 hex digits"), "{e:#}");
    }

    #[test]
    fn default_groups_take_iam_s_shape_or_plain_names() {
        let cfg = load_toml(
            "[registration]\ndefault_groups = [\"a\", { name = \"b/c\", enrollment = \"INSERT\" }, { name = \"d\" }]\n",
        )
        .unwrap();
        assert_eq!(
            cfg.registration.default_group_names().unwrap(),
            ["a", "b/c", "d"]
        );
        let e = load_toml(
            "[registration]\ndefault_groups = [{ name = \"b\", enrollment = \"SUBMIT_REQUEST\" }]\n",
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("not supported"), "{e:#}");
    }

    #[test]
    fn mistakes_are_refused() {
        let e = load_toml("[plugins.handlers]\nlables = \"x.wasm\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("unknown handler group 'lables'"));
        let e = load_toml("lisen = \"x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("unknown field"), "{e:#}");
    }
}
