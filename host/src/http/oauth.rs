//! The OAuth2 endpoints: `POST /token`, `POST /introspect`, `POST /revoke` and
//! `GET|POST /userinfo`. The rules live in `auth::oauth`; this file reads the form and the
//! client's credentials and writes RFC 6749 answers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::body::media_type;
use super::{ApiError, AppState, Caller, RequestId};
use crate::auth::oauth::{self, ClientAuth, Form, Issuer, OAuthError};
use crate::store::{Credentials, Store};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/token", post(token))
        .route("/introspect", post(introspect))
        .route("/revoke", post(revoke))
        .route("/userinfo", get(userinfo).post(userinfo))
}

/// Token requests are small; anything larger is not one.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The form parameters of a request. RFC 6749 §3.2: none may appear twice.
struct FormParams(Vec<(String, String)>);

impl Form for FormParams {
    fn param(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What every endpoint here reads from the request.
struct OAuthRequest {
    form: FormParams,
    auth: ClientAuth,
    source: IpAddr,
}

/// The form body (`application/x-www-form-urlencoded`), the client's credentials and the
/// caller's address.
async fn read(req: Request) -> Result<OAuthRequest, OAuthError> {
    let (parts, body) = req.into_parts();
    let source = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if media_type(&parts.headers).as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "The request body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| OAuthError::invalid_request("The request body is too large or unreadable"))?;
    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map_err(|_| OAuthError::invalid_request("The request body is not a valid form"))?;
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(seen, _)| seen == k) {
            return Err(OAuthError::invalid_request(format!(
                "Parameter '{k}' is repeated"
            )));
        }
    }
    let form = FormParams(pairs);
    let basic = match parts.headers.get(header::AUTHORIZATION) {
        Some(v) => ClientAuth::basic_from_header(v.to_str().unwrap_or(""))?,
        None => None,
    };
    let auth = ClientAuth {
        basic,
        form_id: form.param("client_id").map(String::from),
        form_secret: form.param("client_secret").map(String::from),
    };
    Ok(OAuthRequest { form, auth, source })
}

/// Runs blocking token work with a connection of the pool.
async fn with_conn<T: Send + 'static>(
    app: &AppState,
    f: impl FnOnce(&AppState, &dyn Store) -> Result<T, OAuthError> + Send + 'static,
) -> Result<T, OAuthError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let conn = app.pipeline.db.conn().map_err(|e| {
            tracing::error!("token endpoint: no database connection: {e:#}");
            OAuthError::server_error()
        })?;
        f(&app, &*conn)
    })
    .await
    .map_err(|_| OAuthError::server_error())?
}

/// The request's id, for the audit trail.
fn request_id(req: &Request) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

async fn token(State(app): State<AppState>, req: Request) -> Response {
    let mut grant = crate::metrics::grant_label(None);
    let request = request_id(&req);
    let outcome = async {
        let r = read(req).await?;
        grant = crate::metrics::grant_label(r.form.param("grant_type"));
        with_conn(&app, move |app, conn| {
            let keyring = app.keyring.refresh(conn).map_err(|e| {
                tracing::error!("cannot load the signing keys: {e:#}");
                OAuthError::server_error()
            })?;
            let issuer = Issuer {
                db: &app.pipeline.db,
                keyring: &keyring,
                issuer: &app.issuer,
                lifetimes: app.lifetimes,
                throttle: &app.throttle,
                client_throttle: &app.client_throttle,
                request: &request,
                source: r.source,
            };
            oauth::token(conn, &issuer, &r.auth, &r.form)
        })
        .await
    }
    .await;
    let result = match &outcome {
        Ok(_) => "issued",
        Err(e) => e.error,
    };
    crate::metrics::get().token_outcome(grant, result);
    answer(outcome.map(|v| (StatusCode::OK, v)))
}

/// Authenticates the client of an introspection or revocation request and reads `token`.
fn client_and_token(
    app: &AppState,
    conn: &dyn Store,
    r: &OAuthRequest,
) -> Result<(Credentials, String), OAuthError> {
    let client = oauth::authenticate_client(conn, &app.client_throttle, &r.auth, r.source)?;
    let token = r
        .form
        .param("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: token"))?;
    Ok((client, token.to_string()))
}

async fn introspect(State(app): State<AppState>, req: Request) -> Response {
    let outcome = async {
        let r = read(req).await?;
        with_conn(&app, move |app, conn| {
            let (client, token) = client_and_token(app, conn, &r)?;
            // Only confidential clients (resource servers) may look into tokens.
            if client.secret_hash.is_none() {
                return Err(OAuthError::invalid_client(
                    "A public client cannot introspect tokens",
                ));
            }
            oauth::introspect(conn, &app.keyring.get(), &app.issuer, &token)
        })
        .await
    }
    .await;
    answer(outcome.map(|v| (StatusCode::OK, v)))
}

async fn revoke(State(app): State<AppState>, req: Request) -> Response {
    let request = request_id(&req);
    let outcome = async {
        let r = read(req).await?;
        with_conn(&app, move |app, conn| {
            let (client, token) = client_and_token(app, conn, &r)?;
            oauth::revoke(
                &app.pipeline.db,
                &app.keyring.get(),
                &app.issuer,
                &client,
                &token,
                (&request, r.source),
            )
        })
        .await
    }
    .await;
    match outcome {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => answer(Err(e)),
    }
}

/// A JSON answer that no cache may keep (RFC 6749 §5.1), or an RFC 6749 §5.2 error.
fn answer(outcome: Result<(StatusCode, Value), OAuthError>) -> Response {
    match outcome {
        Ok((status, body)) => no_store((status, axum::Json(body)).into_response()),
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            let body = json!({"error": e.error, "error_description": e.description});
            let mut resp = no_store((status, axum::Json(body)).into_response());
            let headers = resp.headers_mut();
            if status == StatusCode::UNAUTHORIZED {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"iam-wasm\""),
                );
            }
            if let Some(secs) = e.retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                headers.insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

fn no_store(mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET|POST /userinfo` (OpenID Connect Core §5.3): the claims of the token's account, by
/// scope: `profile` adds the names, `email` the address; `groups` always.
async fn userinfo(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let p = caller.principal;
    let insufficient = |why: &str| {
        let mut resp = (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": "insufficient_scope", "error_description": why})),
        )
            .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"openidconnect\", error=\"insufficient_scope\"",
            ),
        );
        resp
    };
    let Some(id) = p.account_id.clone() else {
        return Ok(insufficient("The token does not stand for a user"));
    };
    if !p.scopes.iter().any(|s| s == "openid") {
        return Ok(insufficient("The token lacks the openid scope"));
    }
    let app2 = app.clone();
    let user = tokio::task::spawn_blocking(move || {
        let conn = app2.pipeline.db.conn()?;
        Ok::<_, anyhow::Error>(conn.accounts().user(&id)?)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|_| ApiError::internal())?;
    let Some(user) = user else {
        return Err(crate::auth::AuthError::Invalid("The account no longer exists".into()).into());
    };
    let a = &user.account;
    let has = |s: &str| p.scopes.iter().any(|x| x == s);
    let mut claims = json!({
        "sub": a.id,
        "groups": user.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>(),
    });
    if has("profile") {
        claims["preferred_username"] = json!(a.username);
        claims["name"] = json!(format!("{} {}", a.given_name, a.family_name));
        claims["given_name"] = json!(a.given_name);
        claims["family_name"] = json!(a.family_name);
        claims["updated_at"] = json!(a.last_modified / 1000);
        if let Some(n) = &user.profile.nick_name {
            claims["nickname"] = json!(n);
        }
        if let Some(pic) = &user.profile.picture {
            claims["picture"] = json!(pic);
        }
    }
    if has("email") {
        claims["email"] = json!(a.email);
        claims["email_verified"] = json!(true);
    }
    Ok(no_store(axum::Json(claims).into_response()))
}
