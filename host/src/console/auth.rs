//! Logging in and out, the session extractor, and the checks every state-changing request
//! passes: the session's CSRF token, and an origin that is the console's own.

use super::ConsoleState;
use super::views::{self, Page};
use crate::staff::Role;
use crate::staff::sessions::SessionToken;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use rand::RngCore as _;
use serde::Deserialize;
use std::net::SocketAddr;

/// The session cookie.
const SESSION_COOKIE: &str = "jack_console";
/// The login form's own token (double-submitted: cookie and form field), so that a page
/// elsewhere cannot log a browser into an account of its choosing.
const LOGIN_COOKIE: &str = "jack_console_login";

/// A logged-in staff member.
pub struct Staff {
    /// Account name.
    pub name: String,
    /// Their role, as the account has it now.
    pub role: Role,
    token: SessionToken,
}

impl Staff {
    /// How the audit log names them.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.name)
    }

    /// True while the session is live (a stream re-checks it: a logout, a password change or
    /// the idle timeout ends a page's live updates too).
    pub async fn still_valid(&self, state: &ConsoleState) -> bool {
        matches!(state.sessions.check(&self.token).await, Ok(Some(_)))
    }

    /// The CSRF token the session's forms carry.
    pub fn csrf(&self) -> String {
        self.token.csrf()
    }

    /// Refuses a state-changing request that does not carry this session's CSRF token or
    /// comes from another origin.
    pub fn check_form(&self, headers: &HeaderMap, csrf: &str) -> Result<(), Refused> {
        same_origin(headers)?;
        if self.token.csrf_matches(csrf) {
            Ok(())
        } else {
            Err(Refused(
                "The form's security token is missing or belongs to another session. Reload the \
                 page and try again.",
            ))
        }
    }
}

/// A state-changing request refused for where it came from or what it lacked: a 403 page
/// saying why.
#[derive(Debug)]
pub struct Refused(&'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        views::error_page(StatusCode::FORBIDDEN, "Refused", self.0)
    }
}

impl FromRequestParts<ConsoleState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Staff, Response> {
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login(parts));
        };
        let token = SessionToken::from_cookie(value);
        match state.sessions.check(&token).await {
            Ok(Some(session)) => Ok(Staff {
                name: session.account,
                role: session.role,
                token,
            }),
            Ok(None) => Err(to_login(parts)),
            Err(e) => {
                tracing::error!(error = %e, "console: cannot read the session");
                Err(views::error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    "The state database did not answer. Try again in a moment.",
                ))
            }
        }
    }
}

/// Where a request without a live session goes: a page to the login form (and back after it),
/// anything else a 401.
fn to_login(parts: &Parts) -> Response {
    if parts.method == Method::GET {
        let path = parts.uri.path();
        let next = if safe_next(path) {
            path
        } else {
            "/console/hotels"
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        Redirect::to(&format!("/console/login?{query}")).into_response()
    } else {
        views::error_page(
            StatusCode::UNAUTHORIZED,
            "Logged out",
            "Your session has ended. Log in again.",
        )
    }
}

/// A path to return to after login: one of the console's own pages, nothing else (no open
/// redirect to another site, `//host` or `/\host`).
fn safe_next(next: &str) -> bool {
    next.starts_with("/console/")
        && !next.starts_with("/console/login")
        && !next.contains("//")
        && !next.contains('\\')
        && next.len() <= 200
        && next.bytes().all(|b| b.is_ascii_graphic())
}

/// Refuses a request another site made the browser send: `Sec-Fetch-Site` other than
/// same-origin (or none, typed by the person), or an `Origin` whose host is not this one.
fn same_origin(headers: &HeaderMap) -> Result<(), Refused> {
    let refused = || Refused("This request came from another site.");
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return Err(refused());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| url::Url::parse(o).ok())
            .map(|u| match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_owned(),
            });
        if origin_host.as_deref().map(str::as_bytes) != host {
            return Err(refused());
        }
    }
    Ok(())
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, on `/console` only, `Secure` when the
/// console is served through TLS. `max_age` 0 removes the cookie.
fn set_cookie(
    state: &ConsoleState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: u64,
) -> HeaderValue {
    let forwarded_tls = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let secure = if state.settings.secure_cookies || forwarded_tls {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("jack_console_invalid=; Max-Age=0"))
}

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /console/login`
pub async fn login_page(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = query
        .ok()
        .and_then(|q| q.0.next)
        .filter(|n| safe_next(n))
        .unwrap_or_else(|| "/console/hotels".into());
    login_form(&state, &headers, &next, None, StatusCode::OK)
}

/// The login form with a fresh login token (cookie and hidden field).
fn login_form(
    state: &ConsoleState,
    headers: &HeaderMap,
    next: &str,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let page = views::Login {
        next: next.to_owned(),
        login_token: token.clone(),
        problem,
    };
    let mut response = (status, page.html()).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, headers, LOGIN_COOKIE, &token, 3600),
    );
    response
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    login_token: String,
    #[serde(default)]
    next: String,
}

/// `POST /console/login`
pub async fn login(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Option<axum::extract::Extension<ConnectInfo<SocketAddr>>>,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Err(refused) = same_origin(&headers) {
        return refused.into_response();
    }
    let Ok(Form(form)) = form else {
        return views::error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The login form was incomplete.",
        );
    };
    let next = if safe_next(&form.next) {
        form.next.clone()
    } else {
        "/console/hotels".into()
    };
    let expected = cookie(&headers, LOGIN_COOKIE);
    if expected.is_none_or(|t| !crate::staff::sessions::constant_time_eq(t, &form.login_token)) {
        return login_form(
            &state,
            &headers,
            &next,
            Some("The login form expired. Try again.".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let addr = peer.map(|p| p.0.0.ip());
    let name = form.name.trim();
    if let Some(wait) = state.throttle.wait(name, addr) {
        let secs = wait.as_secs().max(1);
        let mut r = login_form(
            &state,
            &headers,
            &next,
            Some(format!(
                "Too many failed logins. Try again in {secs} seconds."
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    match state.accounts.verify(name, &form.password).await {
        Ok(account) => {
            state.throttle.succeeded(name);
            match state.sessions.start(&account).await {
                Ok(token) => {
                    tracing::info!(staff = %account.name, role = account.role.as_str(), "console login");
                    let lifetime = state.sessions.limits().lifetime.as_secs();
                    let mut r = Redirect::to(&next).into_response();
                    let h = r.headers_mut();
                    h.append(
                        header::SET_COOKIE,
                        set_cookie(&state, &headers, SESSION_COOKIE, token.expose(), lifetime),
                    );
                    h.append(
                        header::SET_COOKIE,
                        set_cookie(&state, &headers, LOGIN_COOKIE, "", 0),
                    );
                    r
                }
                Err(e) => {
                    tracing::error!(error = %e, "console: cannot start a session");
                    views::error_page(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Unavailable",
                        "The state database did not answer. Try again in a moment.",
                    )
                }
            }
        }
        Err(crate::staff::StaffError::WrongPassword) => {
            state.throttle.failed(name, addr);
            tracing::warn!(
                name = %crate::untrusted::escape(name, 64),
                addr = ?addr,
                "console login failed"
            );
            login_form(
                &state,
                &headers,
                &next,
                Some("Wrong name or password.".into()),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "console: cannot check a login");
            views::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The state database did not answer. Try again in a moment.",
            )
        }
    }
}

/// The CSRF field of a form.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/logout`
pub async fn logout(
    State(state): State<ConsoleState>,
    staff: Staff,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let csrf = form.map(|f| f.0.csrf).unwrap_or_default();
    if let Err(refused) = staff.check_form(&headers, &csrf) {
        return refused.into_response();
    }
    if let Err(e) = state.sessions.end(&staff.token).await {
        tracing::error!(error = %e, "console: cannot end a session");
    }
    tracing::info!(staff = %staff.name, "console logout");
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, &headers, SESSION_COOKIE, "", 0),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_returned_to() {
        assert!(safe_next("/console/writes"));
        assert!(safe_next("/console/audit?hotel=DEMO1"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("//evil.example/console/"));
        assert!(!safe_next("/console//evil"));
        assert!(!safe_next("/console/\\evil"));
        assert!(!safe_next("/v1/hotels"));
        assert!(!safe_next("/console/login"));
    }

    #[test]
    fn cross_site_requests_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(same_origin(&h).is_err());
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(same_origin(&h).is_err());
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h).is_ok());
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; jack_console=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }
}
