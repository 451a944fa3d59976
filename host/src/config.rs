//! Server configuration: built-in defaults, then the TOML file, then environment variables,
//! then command-line flags (each later source wins).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Everything `iam-host serve` needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// SQLite database file.
    pub db: PathBuf,
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
}

/// The `[oauth]` section: defaults for clients that set no token lifetimes of their own.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// Lifetime of access tokens, in seconds.
    pub access_token_lifetime_secs: u64,
    /// Lifetime of refresh tokens, in seconds (0: they never expire).
    pub refresh_token_lifetime_secs: u64,
    /// Other OpenID providers whose tokens are accepted for the accounts linked to them.
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
}

/// One `[[oauth.trusted_issuers]]`: the issuer and where its keys are, a JWKS file
/// (relative to the config file) or URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerConfig {
    pub issuer: String,
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    #[serde(default)]
    pub jwks_url: Option<String>,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            access_token_lifetime_secs: 3600,
            refresh_token_lifetime_secs: 30 * 24 * 3600,
            trusted_issuers: Vec::new(),
        }
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

/// The `[scim]` section: INDIGO IAM's `scim.include_*` switches. Off by default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    /// Labels shown in the IndigoUser extension: `{prefix = "...", name = "..."}` (no
    /// prefix: the unprefixed label).
    pub include_labels: Vec<IncludedLabel>,
    /// Attributes shown in the IndigoUser extension: `{name = "..."}`.
    pub include_attributes: Vec<IncludedAttribute>,
    /// Show the account's authorities.
    pub include_authorities: bool,
    /// Show the groups the account manages.
    pub include_managed_groups: bool,
}

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

/// Which component fills each slot, and the limits every guest call runs under.
#[derive(Debug, Clone)]
pub struct PluginsConfig {
    /// `roles` or `strict` (built-in) or a path to a `.wasm` component.
    pub policy: String,
    /// Handler group name → path to a `.wasm` component replacing the built-in one.
    pub handlers: BTreeMap<String, PathBuf>,
    /// Wall-time limit of one guest call.
    pub deadline: Duration,
    /// Linear-memory limit of one guest instance, in bytes.
    pub memory_bytes: usize,
}

/// The TOML file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    db: Option<PathBuf>,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlugins {
    policy: Option<String>,
    #[serde(default)]
    handlers: BTreeMap<String, PathBuf>,
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
}

/// Command-line overrides of `iam-host serve`.
#[derive(Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub db: Option<PathBuf>,
    pub policy: Option<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DB: &str = "iam.db";
/// The handler groups a site may replace.
pub const HANDLER_GROUPS: &[&str] = &[
    "attributes",
    "authorities",
    "labels",
    "groups",
    "managers",
    "search",
    "lifecycle",
    "find",
    "clients",
    "certificates",
    "scim",
];

impl Config {
    /// Loads the configuration: `--config` or `IAM_CONFIG` names the TOML file; `IAM_LISTEN`,
    /// `IAM_DB`, `IAM_BASE_URL`, `IAM_POLICY` override it; flags override everything.
    pub fn load(o: Overrides) -> Result<Config> {
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
        let db =
            o.db.or_else(|| env("IAM_DB").map(PathBuf::from))
                .or(file.db.map(|d| base_dir.join(d)))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
        let base_url = env("IAM_BASE_URL")
            .or(file.base_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        let policy = o
            .policy
            .or_else(|| env("IAM_POLICY"))
            .or(file.plugins.policy)
            .unwrap_or_else(|| "roles".into());
        let policy = resolve_plugin_path(&policy, &base_dir);
        for group in file.plugins.handlers.keys() {
            if !HANDLER_GROUPS.contains(&group.as_str()) {
                bail!(
                    "unknown handler group '{group}' in [plugins.handlers] (known: {HANDLER_GROUPS:?})"
                );
            }
        }
        let handlers = file
            .plugins
            .handlers
            .into_iter()
            .map(|(k, v)| (k, base_dir.join(v)))
            .collect();
        file.registration.default_group_names()?;
        let mut oauth = file.oauth;
        for t in &mut oauth.trusted_issuers {
            match (&t.jwks_file, &t.jwks_url) {
                (Some(f), None) => t.jwks_file = Some(base_dir.join(f)),
                (None, Some(_)) => {}
                _ => bail!(
                    "[[oauth.trusted_issuers]] '{}': give exactly one of jwks_file and jwks_url",
                    t.issuer
                ),
            }
        }
        Ok(Config {
            listen,
            db,
            base_url,
            max_body_bytes: file.max_body_bytes.unwrap_or(1 << 20),
            lifecycle: file.lifecycle,
            scim: file.scim,
            registration: file.registration,
            oauth,
            plugins: PluginsConfig {
                policy,
                handlers,
                deadline: Duration::from_millis(file.plugins.deadline_ms.unwrap_or(1000)),
                memory_bytes: file.plugins.memory_mib.unwrap_or(64) << 20,
            },
        })
    }
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
            cfg.plugins.policy,
            dir.path().join("p.wasm").to_string_lossy()
        );
        assert_eq!(
            cfg.plugins.handlers["attributes"],
            dir.path().join("site/a.wasm")
        );
        assert_eq!(cfg.plugins.deadline, Duration::from_millis(250));
        assert_eq!(cfg.plugins.memory_bytes, 8 << 20);
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
    fn built_in_names_stay_names() {
        let cfg = load_toml("[plugins]\npolicy = \"roles\"\n").unwrap();
        assert_eq!(cfg.plugins.policy, "roles");
        assert_eq!(cfg.plugins.deadline, Duration::from_secs(1));
        assert_eq!(cfg.plugins.memory_bytes, 64 << 20);
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
