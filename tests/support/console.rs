//! The staff console from a test: accounts made with the real CLI, and a browser-less client
//! that keeps the session cookie and reads each page's CSRF token, as a browser would.

use super::Stack;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// A staff member's password in the tests (long enough for the policy).
pub fn password(name: &str) -> String {
    format!("pw-of-{name}-{:016x}", super::rand_u128() as u64)
}

/// `jack-pms staff add NAME --role ROLE` with the password on stdin; panics on failure.
pub fn add_staff(s: &Stack, name: &str, role: &str, password: &str) {
    let out = staff_cli(s, &["staff", "add", name, "--role", role], Some(password));
    assert!(
        out.status.success(),
        "staff add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `jack-pms <args> --config <stack's config>` with `stdin` (a line) as its input.
pub fn staff_cli(s: &Stack, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jack-pms"))
        .args(args)
        .arg("--config")
        .arg(s.config_path())
        .env("JACK_PMS_MASTER_KEY", &s.master_key)
        .env("TEST_MOCK_PMS_KEY", &s.key)
        .env("TEST_HOTEL_KEY", s.hotel_key.as_deref().unwrap_or(&s.key))
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run jack-pms");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        writeln!(pipe, "{input}").expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("jack-pms output")
}

/// One browser-less session of the console.
pub struct ConsoleClient {
    http: reqwest::Client,
    base: String,
    /// The session cookie's value, once logged in.
    pub session: Option<String>,
}

/// An answer: status, `Location`, body.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

fn cookie_value(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let at = html.find(&needle)? + needle.len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

impl ConsoleClient {
    /// A client of the stack's console, logged out.
    pub fn new(s: &Stack) -> ConsoleClient {
        ConsoleClient {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: s.url(""),
            session: None,
        }
    }

    async fn answer(r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Answer {
            status,
            location,
            body: r.text().await.unwrap_or_default(),
            headers,
        }
    }

    fn cookies(&self, extra: Option<(&str, &str)>) -> String {
        let mut all = Vec::new();
        if let Some(s) = &self.session {
            all.push(format!("jack_console={s}"));
        }
        if let Some((k, v)) = extra {
            all.push(format!("{k}={v}"));
        }
        all.join("; ")
    }

    /// GET with the session cookie.
    pub async fn get(&self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookies(None))
            .send()
            .await
            .expect("GET");
        Self::answer(r).await
    }

    /// POST a form with the session cookie (and the same-origin headers a browser sends).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.post_with(path, form, None).await
    }

    /// POST a form, with an `Origin` header of choice.
    pub async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Answer {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookies(None))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(url_encode(form));
        if let Some(o) = origin {
            req = req.header(reqwest::header::ORIGIN, o);
        }
        Self::answer(req.send().await.expect("POST")).await
    }

    /// Logs in; answers the login's answer (303 on success).
    pub async fn login(&mut self, name: &str, password: &str) -> Answer {
        let page = self
            .http
            .get(format!("{}/console/login", self.base))
            .send()
            .await
            .expect("login page");
        let login_cookie =
            cookie_value(page.headers(), "jack_console_login").expect("login cookie");
        let html = page.text().await.expect("login html");
        let token = hidden(&html, "login_token").expect("login token");
        let r = self
            .http
            .post(format!("{}/console/login", self.base))
            .header(
                reqwest::header::COOKIE,
                format!("jack_console_login={login_cookie}"),
            )
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(url_encode(&[
                ("name", name),
                ("password", password),
                ("login_token", &token),
                ("next", "/console/writes"),
            ]))
            .send()
            .await
            .expect("login");
        if let Some(session) = cookie_value(r.headers(), "jack_console").filter(|v| !v.is_empty()) {
            self.session = Some(session);
        }
        Self::answer(r).await
    }

    /// The CSRF token of the session (read from a page's forms).
    pub async fn csrf(&self) -> String {
        let page = self.get("/console/hotels").await;
        assert_eq!(page.status, 200, "hotels page: {}", page.body);
        hidden(&page.body, "csrf").expect("a csrf field")
    }
}

fn url_encode(form: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}
