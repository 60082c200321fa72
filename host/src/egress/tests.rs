use super::*;
use crate::vault::{Secret, VaultError};
use std::collections::BTreeMap;
use std::sync::Mutex;

struct Keys;
impl SecretStore for Keys {
    fn get(&self, _hotel: &str, name: &str) -> Result<Secret, VaultError> {
        Ok(Secret::new(format!("TOPSECRET-{name}")))
    }
}

/// Answers from a script and records what it was sent.
struct Scripted {
    answers: Mutex<Vec<RawResponse>>,
    seen: Mutex<Vec<PreparedRequest>>,
}

impl Scripted {
    fn new(answers: Vec<RawResponse>) -> Arc<Scripted> {
        Arc::new(Scripted {
            answers: Mutex::new(answers),
            seen: Mutex::new(vec![]),
        })
    }
}

impl Transport for Scripted {
    fn send(
        &self,
        request: PreparedRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<RawResponse, EgressError>> + Send + '_>,
    > {
        self.seen.lock().unwrap().push(request);
        let answer = self.answers.lock().unwrap().remove(0);
        Box::pin(async move { Ok(answer) })
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> RawResponse {
    RawResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn destination(allowed: &[&str]) -> Destination {
    Destination {
        hotel: "H1".into(),
        adapter: "test".into(),
        allowlist: allowed
            .iter()
            .map(|e| allowlist::resolve(e, &BTreeMap::new()).unwrap())
            .collect(),
        auth: Auth::ApiKeyHeader {
            header: "x-api-key".into(),
            secret: "apiKey".into(),
        },
        secrets: Arc::new(Keys),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(5),
            jitter: false,
            ..RetryPolicy::default()
        },
        rate_limits: vec![],
    }
}

fn opts() -> SendOptions {
    read_opts(true)
}

fn read_opts(read_only: bool) -> SendOptions {
    SendOptions {
        max_response_bytes: 1000,
        deadline: Instant::now() + Duration::from_secs(10),
        read_only,
    }
}

fn get(url: &str, credentials: SchemeKind) -> OutboundRequest {
    OutboundRequest {
        method: Method::Get,
        url: url.into(),
        headers: vec![],
        body: None,
        credentials,
    }
}

#[tokio::test]
async fn credentials_are_applied_and_echoes_scrubbed() {
    let t = Scripted::new(vec![response(
        200,
        &[("x-echo", "TOPSECRET-apiKey")],
        r#"{"key":"TOPSECRET-apiKey"}"#,
    )]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let r = egress
        .send(
            &destination(&["api.pms.example"]),
            get("https://api.pms.example/x", SchemeKind::ApiKeyHeader),
            opts(),
        )
        .await
        .unwrap();
    let sent = &t.seen.lock().unwrap()[0];
    assert!(
        sent.headers
            .contains(&("x-api-key".into(), "TOPSECRET-apiKey".into()))
    );
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        r#"{"key":"[REDACTED]"}"#
    );
    assert_eq!(r.headers[0].1, "[REDACTED]");
}

#[tokio::test]
async fn destinations_outside_the_allowlist_and_plain_http_are_refused() {
    let egress = Egress::with_transport(Policy::default(), Scripted::new(vec![]));
    let d = destination(&["api.pms.example"]);
    let e = egress
        .send(&d, get("https://evil.example/x", SchemeKind::None), opts())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenDestination(m) if m.contains("evil.example") && m.contains("api.pms.example")),
        "{e}"
    );
    let e = egress
        .send(
            &d,
            get("http://api.pms.example/x", SchemeKind::None),
            opts(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenDestination(m) if m.contains("plain http")),
        "{e}"
    );
    let d = destination(&["http://127.0.0.1:80", "https://169.254.169.254"]);
    let e = egress
        .send(
            &d,
            get("https://169.254.169.254/latest/meta-data", SchemeKind::None),
            opts(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenDestination(m) if m.contains("link-local")),
        "{e}"
    );
}

#[tokio::test]
async fn guest_credential_headers_are_refused() {
    let egress = Egress::with_transport(Policy::default(), Scripted::new(vec![]));
    let mut request = get("https://api.pms.example/x", SchemeKind::None);
    request
        .headers
        .push(("Authorization".into(), "Bearer stolen".into()));
    let e = egress
        .send(&destination(&["api.pms.example"]), request, opts())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenHeader(m) if m.starts_with("Authorization")),
        "{e}"
    );
}

#[tokio::test]
async fn redirects_are_rechecked_and_credentials_stay_home() {
    let t = Scripted::new(vec![
        response(302, &[("location", "https://other.pms.example/y")], ""),
        response(200, &[], "ok"),
    ]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let d = destination(&["api.pms.example", "other.pms.example"]);
    let r = egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::ApiKeyHeader),
            opts(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let leaked = t.seen.lock().unwrap()[1]
        .headers
        .iter()
        .any(|(k, _)| k == "x-api-key");
    assert!(!leaked, "credentials followed a cross-origin redirect");

    let t = Scripted::new(vec![response(
        301,
        &[("location", "https://evil.example/")],
        "",
    )]);
    let egress = Egress::with_transport(Policy::default(), t);
    let e = egress
        .send(
            &destination(&["api.pms.example"]),
            get("https://api.pms.example/x", SchemeKind::None),
            opts(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenDestination(m) if m.contains("redirect")),
        "{e}"
    );
}

#[tokio::test]
async fn real_loopback_is_refused_by_the_resolver_unless_allowed() {
    let policy = Policy {
        allow_loopback_http: true,
        ..Policy::default()
    };
    let egress = Egress::new(policy).unwrap();
    let d = destination(&["http://localhost:9"]);
    let e = egress
        .send(&d, get("http://localhost:9/", SchemeKind::None), opts())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenDestination(m) if m.contains("loopback")),
        "{e}"
    );
}

#[tokio::test]
async fn reads_retry_5xx_then_succeed_but_4xx_and_writes_do_not_retry() {
    let d = destination(&["api.pms.example"]);
    // A read: 503, then 200.
    let t = Scripted::new(vec![response(503, &[], "busy"), response(200, &[], "ok")]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let r = egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::None),
            read_opts(true),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(t.seen.lock().unwrap().len(), 2);

    // A 400 is final.
    let t = Scripted::new(vec![response(400, &[], "bad"), response(200, &[], "ok")]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let r = egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::None),
            read_opts(true),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(t.seen.lock().unwrap().len(), 1);

    // A write is never retried on 5xx: it may have been applied.
    let t = Scripted::new(vec![response(503, &[], "busy"), response(200, &[], "ok")]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let r = egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::None),
            read_opts(false),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(t.seen.lock().unwrap().len(), 1);

    // A 429 means "not processed": retried after Retry-After, even for a write.
    let t = Scripted::new(vec![
        response(429, &[("retry-after", "1")], ""),
        response(200, &[], "ok"),
    ]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let mut d = destination(&["api.pms.example"]);
    d.rate_limits = vec![limits::RateLimit {
        requests: 100,
        per: Duration::from_secs(60),
        scope: limits::RateScope::Hotel,
    }];
    let started = Instant::now();
    let r = egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::None),
            read_opts(false),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the Retry-After pause was not honoured"
    );
    let usage = egress.limits().usage("hotel:H1");
    assert_eq!(usage.len(), 1);
    assert_eq!(
        usage[0].1, 2,
        "both attempts went through the hotel's bucket"
    );
}

#[tokio::test]
async fn retries_give_up_at_max_attempts_and_before_the_deadline() {
    let d = destination(&["api.pms.example"]);
    let t = Scripted::new(vec![
        response(502, &[], ""),
        response(502, &[], ""),
        response(502, &[], ""),
        response(200, &[], ""),
    ]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let r = egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::None),
            read_opts(true),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 502);
    assert_eq!(t.seen.lock().unwrap().len(), 3, "maxAttempts is 3");

    let mut slow = destination(&["api.pms.example"]);
    slow.retry.initial_delay = Duration::from_secs(5);
    let t = Scripted::new(vec![response(502, &[], ""), response(200, &[], "")]);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let mut options = read_opts(true);
    options.deadline = Instant::now() + Duration::from_secs(1);
    let r = egress
        .send(
            &slow,
            get("https://api.pms.example/x", SchemeKind::None),
            options,
        )
        .await
        .unwrap();
    assert_eq!(
        r.status, 502,
        "a retry that would end past the deadline is not started"
    );
    assert_eq!(t.seen.lock().unwrap().len(), 1);
}
