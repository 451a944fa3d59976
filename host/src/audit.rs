//! The audit trail (docs/api.md §14): what a request changed, noted as the handler's store
//! writes happen and logged (target `audit`) only once the request's transaction commits,
//! so the trail never shows a change that was rolled back. The host derives the events
//! from the writes themselves, so a site's handler cannot leave a change out.

/// Who made a request's changes: the token's account and client, and where the request
/// came from (or the background job that made them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actor {
    /// The caller's account (UUID), for a user token.
    pub account: Option<String>,
    /// The OAuth client the token was issued to.
    pub client: Option<String>,
    /// The peer address of the request.
    pub source: Option<std::net::IpAddr>,
    /// A background job acting on its own (`lifecycle`).
    pub job: Option<&'static str>,
}

impl Actor {
    /// The caller of a request: the token's account and client, from `source`.
    pub fn caller(
        principal: &crate::contract::types::Principal,
        source: Option<std::net::IpAddr>,
    ) -> Actor {
        Actor {
            account: principal.account_id.clone(),
            client: principal.client_id.clone(),
            source,
            job: None,
        }
    }

    /// A background job of this server.
    pub fn job(name: &'static str) -> Actor {
        Actor {
            job: Some(name),
            ..Actor::default()
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happened, in INDIGO IAM's words (`label set`, `membership added`, ...).
    pub kind: &'static str,
    /// The account concerned (UUID).
    pub account: Option<String>,
    /// The group concerned (UUID).
    pub group: Option<String>,
    /// The name of the thing changed (attribute, label, authority, client...).
    pub detail: String,
}

/// The most of a caller's own text (a username tried at the token endpoint) an event
/// keeps: a caller must not be able to store a megabyte per failed login.
pub const MAX_CALLER_TEXT: usize = 256;

/// `text` as an event keeps it when the caller chose it: cut to [`MAX_CALLER_TEXT`]
/// characters.
pub fn caller_text(text: &str) -> String {
    text.chars().take(MAX_CALLER_TEXT).collect()
}

impl Event {
    /// An event that comes with no change of its own (a login, a token, a denial, a
    /// reload), about `account` when there is one.
    pub fn apart(kind: &'static str, account: Option<String>, detail: String) -> Event {
        Event {
            kind,
            account,
            group: None,
            detail,
        }
    }

    /// What the event is about: `token` (issued, revoked), `login` (failed, throttled),
    /// `authorization` (a denied request), `plugins` (reloaded); for a change,
    /// `membership` (an account and a group), `account`, `group`, or `client` (neither).
    pub fn category(&self) -> &'static str {
        match self.kind.split(' ').next() {
            Some("token") => return "token",
            Some("login") => return "login",
            Some("access") => return "authorization",
            Some("plugins") => return "plugins",
            _ => {}
        }
        match (&self.account, &self.group) {
            (Some(_), Some(_)) => "membership",
            (Some(_), None) => "account",
            (None, Some(_)) => "group",
            (None, None) => "client",
        }
    }
}

/// The events of one guest call, in the order the writes happened.
#[derive(Debug, Default)]
pub struct Trail(Vec<Event>);

impl Trail {
    /// The events so far.
    pub fn events(&self) -> &[Event] {
        &self.0
    }

    /// A change to an account.
    pub fn account(&mut self, kind: &'static str, account: &str, detail: impl Into<String>) {
        self.0.push(Event {
            kind,
            account: Some(account.to_string()),
            group: None,
            detail: detail.into(),
        });
    }

    /// A change to a group.
    pub fn group(&mut self, kind: &'static str, group: &str, detail: impl Into<String>) {
        self.0.push(Event {
            kind,
            account: None,
            group: Some(group.to_string()),
            detail: detail.into(),
        });
    }

    /// A change linking an account and a group (membership).
    pub fn both(&mut self, kind: &'static str, account: &str, group: &str) {
        self.0.push(Event {
            kind,
            account: Some(account.to_string()),
            group: Some(group.to_string()),
            detail: String::new(),
        });
    }

    /// A change to something that is neither (a client).
    pub fn other(&mut self, kind: &'static str, detail: impl Into<String>) {
        self.0.push(Event {
            kind,
            account: None,
            group: None,
            detail: detail.into(),
        });
    }

    /// Writes the events to the log, each with who acted. Call only after the transaction
    /// committed.
    pub fn log_committed(self, request: &str, actor: &Actor) {
        let source = actor.source.map(|s| s.to_string());
        for e in self.0 {
            crate::metrics::get().audit_event(e.kind);
            tracing::info!(
                target: "audit",
                request,
                actor_account = actor.account.as_deref().unwrap_or("-"),
                actor_client = actor.client.as_deref().unwrap_or("-"),
                actor_job = actor.job.unwrap_or("-"),
                source = source.as_deref().unwrap_or("-"),
                event = e.kind,
                account = e.account.as_deref().unwrap_or("-"),
                group = e.group.as_deref().unwrap_or("-"),
                detail = e.detail,
                "audit"
            );
        }
    }
}

/// How a label is named in the trail: `prefix/name` or just `name`.
pub fn label_name(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        Some(p) => format!("{p}/{name}"),
        None => name.to_string(),
    }
}
