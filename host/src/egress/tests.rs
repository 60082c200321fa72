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
        token_headers: vec![],
        request_headers: vec![],
        no_retry_statuses: vec![],
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
async fn hotel_headers_are_set_by_the_host_and_refused_from_the_guest() {
    let transport = Scripted::new(vec![response(200, &[], "{}")]);
    let egress = Egress::with_transport(Policy::default(), transport.clone());
    let mut d = destination(&["api.pms.example"]);
    d.request_headers = vec![("x-hotelid".into(), "HOTEL1".into())];
    egress
        .send(
            &d,
            get("https://api.pms.example/x", SchemeKind::None),
            opts(),
        )
        .await
        .unwrap();
    {
        let seen = transport.seen.lock().unwrap();
        assert!(
            seen[0]
                .headers
                .iter()
                .any(|(k, v)| k == "x-hotelid" && v == "HOTEL1"),
            "{:?}",
            seen[0].headers
        );
    }
    let mut request = get("https://api.pms.example/x", SchemeKind::None);
    request.headers.push(("X-HotelId".into(), "OTHER".into()));
    let e = egress.send(&d, request, opts()).await.unwrap_err();
    assert!(
        matches!(&e, EgressError::ForbiddenHeader(m) if m.contains("hotel's settings")),
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
    let usage = egress.limits().usage("hotel:H1").await;
    assert_eq!(usage.len(), 1);
    assert_eq!(
        usage[0].used, 2,
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

/// A fake OHIP: a token endpoint issuing numbered tokens, and an API that accepts only the
/// tokens still valid, echoing the request headers back.
struct FakeOhip {
    issued: Mutex<Vec<String>>,
    revoked: Mutex<Vec<String>>,
    token_requests: std::sync::atomic::AtomicUsize,
    lifetime_s: u64,
}

impl FakeOhip {
    fn new(lifetime_s: u64) -> Arc<FakeOhip> {
        Arc::new(FakeOhip {
            issued: Mutex::new(vec![]),
            revoked: Mutex::new(vec![]),
            token_requests: Default::default(),
            lifetime_s,
        })
    }
}

impl Transport for FakeOhip {
    fn send(
        &self,
        request: PreparedRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<RawResponse, EgressError>> + Send + '_>,
    > {
        Box::pin(async move {
            let header = |name: &str| {
                request
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            };
            if request.url.path() == "/oauth/v1/tokens" {
                self.token_requests
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Slow enough that concurrent callers overlap.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let basic = format!(
                    "Basic {}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        "TOPSECRET-clientId:TOPSECRET-clientSecret"
                    )
                );
                let body = String::from_utf8(request.body.clone().unwrap_or_default()).unwrap();
                if header("authorization") != Some(basic)
                    || header("x-app-key").as_deref() != Some("TOPSECRET-appKey")
                    || !body.contains("grant_type=client_credentials")
                {
                    return Ok(response(401, &[], ""));
                }
                let mut issued = self.issued.lock().unwrap();
                let token = format!("tok-{}-0123456789", issued.len() + 1);
                issued.push(token.clone());
                return Ok(response(
                    200,
                    &[],
                    &format!(
                        r#"{{"access_token":"{token}","expires_in":{},"token_type":"Bearer"}}"#,
                        self.lifetime_s
                    ),
                ));
            }
            let auth = header("authorization").unwrap_or_default();
            let token = auth.strip_prefix("Bearer ").unwrap_or_default().to_string();
            let valid = self.issued.lock().unwrap().contains(&token)
                && !self.revoked.lock().unwrap().contains(&token);
            if !valid || header("x-app-key").as_deref() != Some("TOPSECRET-appKey") {
                return Ok(response(401, &[], r#"{"title":"invalid token"}"#));
            }
            Ok(response(200, &[], &format!(r#"{{"echo":"{auth}"}}"#)))
        })
    }
}

fn oauth_destination() -> Destination {
    let mut d = destination(&["api.ohip.example"]);
    d.auth = Auth::OAuth2ClientCredentials(credentials::OAuth2 {
        token_path: "/oauth/v1/tokens".into(),
        token_origin: None,
        client_id: "clientId".into(),
        client_secret: "clientSecret".into(),
        app_key_header: Some("x-app-key".into()),
        app_key: Some("appKey".into()),
        user: None,
        scope: Some("urn:opc:hgbu:ws:__myscopes__".into()),
        token_headers_from_config: vec![],
    });
    d
}

fn oauth_get() -> OutboundRequest {
    get(
        "https://api.ohip.example/rsv/v1/hotels/H1/reservations",
        SchemeKind::OAuth2ClientCredentials,
    )
}

#[tokio::test]
async fn one_token_serves_many_concurrent_calls_and_never_reaches_the_guest() {
    let ohip = FakeOhip::new(3600);
    let egress = Arc::new(Egress::with_transport(Policy::default(), ohip.clone()));
    let d = Arc::new(oauth_destination());
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let (egress, d) = (egress.clone(), d.clone());
            tokio::spawn(async move { egress.send(&d, oauth_get(), opts()).await })
        })
        .collect();
    for c in calls {
        let r = c.await.unwrap().unwrap();
        assert_eq!(r.status, 200);
        let body = String::from_utf8(r.body).unwrap();
        assert!(
            !body.contains("tok-"),
            "the guest received the token: {body}"
        );
        assert!(body.contains("Bearer [REDACTED]"), "{body}");
    }
    assert_eq!(
        ohip.token_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(egress.tokens().valid_until("H1").await.is_some());
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_once() {
    let ohip = FakeOhip::new(3600);
    let egress = Egress::with_transport(Policy::default(), ohip.clone());
    let d = oauth_destination();
    assert_eq!(
        egress.send(&d, oauth_get(), opts()).await.unwrap().status,
        200
    );
    // The PMS forgets the token before its time.
    let first = ohip.issued.lock().unwrap()[0].clone();
    ohip.revoked.lock().unwrap().push(first);
    assert_eq!(
        egress.send(&d, oauth_get(), opts()).await.unwrap().status,
        200
    );
    assert_eq!(
        ohip.token_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    // A PMS that refuses every token: one refresh, then the 401 is the answer (no loop).
    let all = ohip.issued.lock().unwrap().clone();
    ohip.revoked.lock().unwrap().extend(all);
    let before = ohip
        .token_requests
        .load(std::sync::atomic::Ordering::SeqCst);
    let r = egress.send(&d, oauth_get(), opts()).await.unwrap();
    assert!(r.status == 200 || r.status == 401);
    assert!(
        ohip.token_requests
            .load(std::sync::atomic::Ordering::SeqCst)
            <= before + 1
    );
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    // 1.2 s lifetime: refreshed after 1 s (5/6), before the PMS would refuse it.
    let ohip = FakeOhip::new(1);
    let egress = Egress::with_transport(Policy::default(), ohip.clone());
    let d = oauth_destination();
    assert_eq!(
        egress.send(&d, oauth_get(), opts()).await.unwrap().status,
        200
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        egress.send(&d, oauth_get(), opts()).await.unwrap().status,
        200
    );
    assert_eq!(
        ohip.token_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        2,
        "refreshed at 5/6 of the lifetime"
    );
}

#[tokio::test]
async fn refused_client_credentials_are_a_clear_error_without_secrets() {
    let ohip = FakeOhip::new(3600);
    let egress = Egress::with_transport(Policy::default(), ohip.clone());
    let mut d = oauth_destination();
    if let Auth::OAuth2ClientCredentials(o) = &mut d.auth {
        o.client_secret = "wrong".into();
    }
    let e = egress.send(&d, oauth_get(), opts()).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("token endpoint /oauth/v1/tokens answered 401"),
        "{text}"
    );
    assert!(!text.contains("TOPSECRET"), "{text}");
}

/// Property, over random destinations and headers (a fixed seed; bounded): the pipeline never
/// puts on the wire a request to an IP literal whose address, or the IPv4 address it embeds, is
/// loopback, private, link-local or reserved, nor one carrying a credential header the guest set
/// (in any letter case, with `_` for `-`); and it refuses them before the transport sees them.
#[tokio::test]
async fn property_refused_destinations_and_headers_never_reach_the_wire() {
    use rand::{Rng, SeedableRng};
    use std::net::{Ipv4Addr, Ipv6Addr};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xe9_7e55);
    let refused_v4 = |rng: &mut rand::rngs::StdRng| -> Ipv4Addr {
        let tail: [u8; 3] = [rng.random(), rng.random(), rng.random()];
        match rng.random_range(0..7) {
            0 => Ipv4Addr::new(127, tail[0], tail[1], tail[2]),
            1 => Ipv4Addr::new(10, tail[0], tail[1], tail[2]),
            2 => Ipv4Addr::new(172, 16 + tail[0] % 16, tail[1], tail[2]),
            3 => Ipv4Addr::new(192, 168, tail[1], tail[2]),
            4 => Ipv4Addr::new(169, 254, tail[1], tail[2]),
            5 => Ipv4Addr::new(100, 64 + tail[0] % 64, tail[1], tail[2]),
            _ => Ipv4Addr::new(0, tail[0], tail[1], tail[2]),
        }
    };
    let forms = |v4: Ipv4Addr, rng: &mut rand::rngs::StdRng| -> String {
        let [a, b, c, d] = v4.octets();
        let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
        let v6 = match rng.random_range(0..6) {
            0 => return v4.to_string(),
            1 => v4.to_ipv6_mapped(),
            2 => Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),
            3 => Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo),
            4 => Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
            _ => Ipv6Addr::new(0x2002, hi, lo, rng.random(), 0, 0, 0, 1),
        };
        format!("[{v6}]")
    };
    let egress = Egress::with_transport(Policy::default(), Scripted::new(vec![]));
    for round in 0..2000 {
        let v4 = refused_v4(&mut rng);
        let host = forms(v4, &mut rng);
        let url = format!("https://{host}/x");
        // The allowlist names the address itself: only the address policy stands in the way.
        let d = destination(&[&format!("https://{host}")]);
        let r = egress
            .send(&d, get(&url, SchemeKind::ApiKeyHeader), opts())
            .await;
        assert!(
            matches!(r, Err(EgressError::ForbiddenDestination(_))),
            "round {round}: {url} ({v4}) was not refused: {r:?}"
        );
    }
    let names = [
        "authorization",
        "cookie",
        "x-api-key",
        "x-app-key",
        "proxy-authorization",
        "x-auth-token",
        "accept-encoding",
        "range",
    ];
    for round in 0..2000 {
        let name: String = names[rng.random_range(0..names.len())]
            .chars()
            .map(|c| match c {
                '-' if rng.random_bool(0.5) => '_',
                c if rng.random_bool(0.5) => c.to_ascii_uppercase(),
                c => c,
            })
            .collect();
        let mut request = get("https://api.pms.example/x", SchemeKind::ApiKeyHeader);
        request.headers.push((name.clone(), "guess".into()));
        let r = egress
            .send(&destination(&["api.pms.example"]), request, opts())
            .await;
        assert!(
            matches!(r, Err(EgressError::ForbiddenHeader(_))),
            "round {round}: header `{name}` was not refused: {r:?}"
        );
    }
}

/// Sends one GET to `d` through a transport answering `answers` in turn; the final answer and
/// how many requests the transport saw.
async fn scripted_get(
    d: &Destination,
    answers: Vec<RawResponse>,
    options: SendOptions,
) -> (u16, usize) {
    let t = Scripted::new(answers);
    let egress = Egress::with_transport(Policy::default(), t.clone());
    let r = egress
        .send(
            d,
            get("https://api.pms.example/x", SchemeKind::None),
            options,
        )
        .await
        .unwrap();
    let seen = t.seen.lock().unwrap().len();
    (r.status, seen)
}

/// A run of 429s longer than `maxAttempts` is waited out (the vendor said "not now", not "no"),
/// bounded by the call's deadline alone; a 5xx still counts against `maxAttempts`.
#[tokio::test]
async fn a_run_of_429s_is_a_pause_bounded_by_the_deadline_not_by_max_attempts() {
    let d = destination(&["api.pms.example"]);
    let mut answers: Vec<RawResponse> = (0..5)
        .map(|_| response(429, &[("retry-after", "0")], ""))
        .collect();
    answers.push(response(200, &[], "ok"));
    let (status, sent) = scripted_get(&d, answers, read_opts(true)).await;
    assert_eq!(status, 200, "five 429s then an answer, with maxAttempts 3");
    assert_eq!(sent, 6);

    // 429 forever: the last one goes back to the adapter at the deadline, and `Retry-After: 0`
    // still waits a little between tries, so the vendor is not hammered.
    let forever = (0..100)
        .map(|_| response(429, &[("retry-after", "0")], ""))
        .collect();
    let started = Instant::now();
    let (status, sent) = scripted_get(
        &d,
        forever,
        SendOptions {
            deadline: Instant::now() + Duration::from_millis(800),
            ..read_opts(true)
        },
    )
    .await;
    assert_eq!(status, 429);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!((2..=9).contains(&sent), "{sent} requests in 800 ms");
    // Five 503s with maxAttempts 3: three requests, then the 503 goes back.
    let busy = (0..5).map(|_| response(503, &[], "busy")).collect();
    assert_eq!(scripted_get(&d, busy, read_opts(true)).await, (503, 3));
}

/// A status the manifest lists in `no_retry_statuses` reaches the adapter on its first answer.
#[tokio::test]
async fn no_retry_statuses_go_straight_to_the_adapter() {
    let mut d = destination(&["api.pms.example"]);
    d.no_retry_statuses = vec![408];
    let heavy = vec![response(408, &[], "too heavy"), response(200, &[], "ok")];
    assert_eq!(scripted_get(&d, heavy, read_opts(true)).await, (408, 1));
    // A 503 on the same destination is still retried.
    let busy = vec![response(503, &[], "busy"), response(200, &[], "ok")];
    assert_eq!(scripted_get(&d, busy, read_opts(true)).await, (200, 2));
}
