//! The staff console end to end: accounts made with the CLI, sessions, CSRF, the authorization
//! matrix of every role and action, and pages that never show a secret; then the same in a real
//! headless Chromium (log in, retry a failed write, approve and reject held charges, read the
//! audit trail), with a screenshot of each page.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::console::{ConsoleClient, add_staff, hidden, password, staff_cli};
use support::{Stack, StackOptions, TOKEN};

/// Replays within a second or so, and few attempts so that a write fails quickly.
const OUTBOX: &str = "outbox:\n  maxAttempts: 2\n  initialDelayMs: 200\n  maxDelayMs: 500\n";
/// Charges over 200.00 EUR wait for a person.
const HELD: &str =
    "writes:\n  maxChargeAmount: \"5000.00\"\n  currency: EUR\n  approvalThreshold: \"200.00\"\n";
/// The mock PMS's charge route, as its stats name it.
const CHARGES_ROUTE: &str = "POST /api/v1/hotels/{hotel}/reservations/{confirmation}/charges";
/// Every role and the password each test account gets.
const ROLES: [&str; 4] = ["viewer", "operator", "approver", "admin"];
/// Every action.
const ACTIONS: [&str; 5] = ["retry", "resend", "cancel", "approve", "reject"];

async fn console_stack() -> Stack {
    Stack::start_with(StackOptions {
        top: format!("{OUTBOX}{HELD}"),
        ..StackOptions::default()
    })
    .await
}

/// Posts a charge through Jack's API; answers its operation id.
async fn charge(s: &Stack, number: &str, amount: &str, description: &str) -> String {
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            &format!("/v1/hotels/DEMO1/reservations/{number}/charges"),
            json!({"amount": amount, "currency": "EUR", "description": description}),
        )
        .await;
    assert!(status == 200 || status == 202, "charge: {status} {body}");
    body["operationId"]
        .as_str()
        .expect("operationId")
        .to_owned()
}

async fn state_of(s: &Stack, id: &str) -> String {
    let (status, body) = s.get(&format!("/v1/operations/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body["state"].as_str().unwrap_or_default().to_owned()
}

async fn wait_state(s: &Stack, id: &str, want: &str) {
    let started = Instant::now();
    loop {
        let now = state_of(s, id).await;
        if now == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "operation {id} is {now}, not {want}:\n{}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn charges_posted(stats: &Value) -> u64 {
    stats["byRoute"][CHARGES_ROUTE].as_u64().unwrap_or(0)
}

/// Each role may do exactly what it is for, whatever the page showed: a refused action is a
/// 403 and changes nothing; an allowed one reaches the write (applied, or refused by the
/// write's state with a 409).
#[tokio::test]
async fn every_role_may_do_exactly_its_actions() {
    let s = console_stack().await;
    let mut clients = Vec::new();
    for role in ROLES {
        let name = format!("{role}-1");
        let pw = password(&name);
        add_staff(&s, &name, role, &pw);
        let mut c = ConsoleClient::new(&s);
        let r = c.login(&name, &pw).await;
        assert_eq!(r.status, 303, "{role} logs in: {}", r.body);
        assert_eq!(r.location.as_deref(), Some("/console/writes"));
        clients.push((role, name, c));
    }
    for (i, (role, name, c)) in clients.iter().enumerate() {
        let csrf = c.csrf().await;
        // One reservation per role: the hotel allows ten charges per reservation per hour.
        let reservation = format!("CONF100{}", i + 1);
        for action in ACTIONS {
            let id = charge(&s, &reservation, "350.00", "Spa treatment").await;
            let r = c
                .post(
                    &format!("/console/writes/{id}/{action}"),
                    &[
                        ("csrf", &csrf),
                        ("reason", "guest asked at the desk"),
                        ("confirm", "yes"),
                    ],
                )
                .await;
            let allowed = match *role {
                "viewer" => false,
                "operator" => matches!(action, "retry" | "resend" | "cancel"),
                "approver" => matches!(action, "approve" | "reject"),
                _ => true,
            };
            let after = state_of(&s, &id).await;
            if allowed {
                // Retry and resend need a failed write: this one is held, so the write's state
                // refuses them, after the role was let through.
                let expected = if matches!(action, "retry" | "resend") {
                    409
                } else {
                    303
                };
                assert_eq!(r.status, expected, "{role} {action}: {}", r.body);
                if expected == 303 {
                    assert_ne!(
                        after, "awaiting_approval",
                        "{role} {action} changed the write"
                    );
                    let (_, audit, _) = cli(&s, &["audit", "list", "--operation", &id]);
                    assert!(
                        audit.contains(&format!("staff:{name}")),
                        "{role} {action}: {audit}"
                    );
                }
            } else {
                assert_eq!(r.status, 403, "{role} may not {action}: {}", r.body);
                assert_eq!(
                    after, "awaiting_approval",
                    "{role} {action} changed nothing"
                );
            }
        }
    }
    // The rejected and cancelled charges never reached the PMS; the approved ones did, once.
    let approved = 2; // the approver's and the admin's
    let started = Instant::now();
    while charges_posted(&s.mock_stats().await) < approved {
        assert!(started.elapsed() < Duration::from_secs(60), "{}", s.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(charges_posted(&s.mock_stats().await), approved);
}

/// Runs the CLI against the stack; (exit code, stdout, stderr).
fn cli(s: &Stack, args: &[&str]) -> (i32, String, String) {
    let out = staff_cli(s, args, None);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sessions: CSRF and origin checks on every state change, logout, password changes ending
/// sessions, login throttling; Jack's bearer token does not open the console and a console
/// cookie does not open `/v1`; the reason and the person reach the audit log.
#[tokio::test]
async fn sessions_csrf_and_the_line_between_console_and_api() {
    let s = console_stack().await;
    let pw = password("ana");
    add_staff(&s, "ana", "admin", &pw);
    let mut ana = ConsoleClient::new(&s);

    // Not logged in: pages lead to the login form, actions are refused.
    let r = ana.get("/console/writes").await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some("/console/login?next=%2Fconsole%2Fwrites")
    );
    // Jack's token opens no page.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(s.url("/console/writes"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 303, "a bearer token is not a session");

    // Wrong passwords: the answer does not say which part was wrong; after five, a wait.
    for _ in 0..5 {
        let r = ana.login("ana", "not the password at all").await;
        assert_eq!(r.status, 401);
        assert!(r.body.contains("Wrong name or password"), "{}", r.body);
    }
    let r = ana.login("ana", &pw).await;
    assert_eq!(
        r.status, 429,
        "throttled even with the right password: {}",
        r.body
    );
    assert!(r.headers.contains_key("retry-after"));
    assert!(ana.session.is_none());
    // Another account from elsewhere is not held up by ana's mistakes... but this client shares
    // the address; the wait is short at first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = ana.login("ana", &pw).await;
    assert_eq!(r.status, 303, "after the wait: {}", r.body);
    let session = ana.session.clone().expect("session cookie");
    assert!(
        r.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("jack_console=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict")
                && c.contains("Path=/console")),
        "{:?}",
        r.headers
    );

    // The console cookie opens no API route.
    let r = s
        .http
        .get(s.url("/v1/hotels"))
        .header("cookie", format!("jack_console={session}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 401, "a session is not a bearer token");

    let csrf = ana.csrf().await;
    let held = charge(&s, "CONF1002", "260.00", "Dinner for two").await;
    // No CSRF token, a wrong one, another site's origin: refused, nothing changes.
    for (form, origin) in [
        (vec![("reason", "x")], None),
        (vec![("csrf", "0000"), ("reason", "x")], None),
        (
            vec![("csrf", csrf.as_str()), ("reason", "x")],
            Some("http://evil.example"),
        ),
    ] {
        let r = ana
            .post_with(&format!("/console/writes/{held}/reject"), &form, origin)
            .await;
        assert_eq!(r.status, 403, "{form:?} {origin:?}: {}", r.body);
        assert_eq!(state_of(&s, &held).await, "awaiting_approval");
    }
    // Rejecting needs a reason; with one, it is audited with the person and the reason.
    let r = ana
        .post(
            &format!("/console/writes/{held}/reject"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = ana
        .post(
            &format!("/console/writes/{held}/reject"),
            &[("csrf", &csrf), ("reason", "guest disputes the dinner")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(state_of(&s, &held).await, "cancelled");
    let page = ana.get(r.location.as_deref().expect("location")).await;
    assert!(
        page.body.contains(&format!("Operation {held} is rejected")),
        "{}",
        page.body
    );
    let (_, audit, _) = cli(&s, &["audit", "list", "--json", "--operation", &held]);
    assert!(
        audit.contains("staff:ana") && audit.contains("reason: guest disputes the dinner"),
        "{audit}"
    );
    let trail = ana.get(&format!("/console/audit/{held}")).await;
    assert_eq!(trail.status, 200);
    assert!(
        trail.body.contains("staff:ana") && trail.body.contains("rejected"),
        "{}",
        trail.body
    );

    // Logged out: the old cookie neither reads nor acts, and the live stream it opened ends.
    let mut stream = s
        .http
        .get(s.url("/console/hotels/stream"))
        .header("cookie", format!("jack_console={session}"))
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status().as_u16(), 200);
    let r = ana.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let other = charge(&s, "CONF1003", "300.00", "Late checkout fee").await;
    let r = ana
        .post(
            &format!("/console/writes/{other}/approve"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(state_of(&s, &other).await, "awaiting_approval");
    assert_eq!(ana.get("/console/writes").await.status, 303);
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream of a logged-out session ends");

    // A password change ends every session of the account.
    let mut again = ConsoleClient::new(&s);
    assert_eq!(again.login("ana", &pw).await.status, 303);
    assert_eq!(again.get("/console/writes").await.status, 200);
    let new_pw = password("ana-2");
    let out = staff_cli(&s, &["staff", "passwd", "ana"], Some(&new_pw));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(again.get("/console/writes").await.status, 303);
    // Weak passwords and unknown roles are refused by the CLI, with the reason.
    let out = staff_cli(
        &s,
        &["staff", "add", "bob", "--role", "viewer"],
        Some("short"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    let out = staff_cli(
        &s,
        &["staff", "add", "bob", "--role", "root"],
        Some(&new_pw),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a role"));
    let (code, list, _) = cli(&s, &["staff", "list"]);
    assert_eq!(code, 0);
    assert!(
        list.contains("ana") && list.contains("admin") && !list.contains("bob"),
        "{list}"
    );
    assert!(
        !list.contains(&new_pw) && !list.contains("argon2"),
        "{list}"
    );
}

/// No page shows a secret, for any role; what a write holds (personal data) is shown to roles
/// that act on writes, not to viewers.
#[tokio::test]
async fn no_page_shows_a_secret_and_viewers_see_no_personal_data() {
    let s = console_stack().await;
    let mut passwords = Vec::new();
    let held = charge(&s, "CONF1004", "420.00", "Massage for Ms Example").await;
    let mut pages_seen = 0;
    for role in ROLES {
        let pw = password(role);
        add_staff(&s, role, role, &pw);
        passwords.push(pw.clone());
        let mut c = ConsoleClient::new(&s);
        assert_eq!(c.login(role, &pw).await.status, 303);
        let session = c.session.clone().expect("session");
        let mut secrets = vec![
            s.key.clone(),
            s.master_key.clone(),
            TOKEN.to_owned(),
            session,
        ];
        secrets.extend(s.extra_secrets.iter().cloned());
        secrets.extend(passwords.iter().cloned());
        for page in [
            "/console/hotels",
            "/console/writes",
            "/console/audit",
            &format!("/console/audit/{held}"),
            "/console/events",
            "/console/alerts",
            "/console/adapters",
        ] {
            let r = c.get(page).await;
            assert_eq!(r.status, 200, "{role} {page}: {}", r.body);
            pages_seen += 1;
            for secret in &secrets {
                assert!(
                    !r.body.contains(secret.as_str()),
                    "{role} {page} shows a secret"
                );
            }
            assert_eq!(
                r.headers
                    .get("content-security-policy")
                    .map(|v| v.to_str().unwrap_or_default().contains("script-src 'self'")),
                Some(true)
            );
            assert_eq!(
                r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
                Some("no-store")
            );
        }
        // The hotel filter of each page submits to that page.
        for page in ["writes", "alerts", "events"] {
            let html = c.get(&format!("/console/{page}")).await.body;
            assert!(
                html.contains(&format!("action=\"/console/{page}\" class=\"filters\"")),
                "{page}"
            );
        }
        let writes = c.get("/console/writes").await.body;
        assert!(writes.contains(&held), "{role} sees the held write");
        assert_eq!(
            writes.contains("Massage for Ms Example"),
            role != "viewer",
            "{role}: what the write holds"
        );
        assert!(hidden(&writes, "csrf").is_some());
        // The buttons match the role.
        assert_eq!(
            writes.contains("data-action=\"approve\""),
            matches!(role, "approver" | "admin"),
            "{role}"
        );
        assert_eq!(
            writes.contains("data-action=\"cancel\""),
            matches!(role, "operator" | "admin"),
            "{role}"
        );
    }
    assert_eq!(pages_seen, 28);
    let adapters = ConsoleClient::new(&s);
    let r = adapters.get("/console/adapters").await;
    assert_eq!(r.status, 303, "not without a session");
}

/// In a real headless Chromium: log in; see a write that failed while the PMS was down; retry
/// it and see it applied at the PMS exactly once; approve a held charge (posted once) and reject
/// another (never posted), both in the audit trail under the staff member's name; a viewer has
/// no action buttons; a form without its CSRF token is refused. A screenshot of each page is
/// saved under the test's output directory (`target/tmp/console-screenshots/`).
#[tokio::test]
async fn the_console_in_a_real_browser() {
    use fantoccini::Locator;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let s = console_stack().await;
    let pw = password("ana");
    add_staff(&s, "ana", "admin", &pw);
    let viewer_pw = password("vic");
    add_staff(&s, "vic", "viewer", &viewer_pw);

    // A note that fails: the PMS is down for both attempts.
    s.faults(json!({ "down": true })).await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/DEMO1/reservations/CONF1005/notes",
            json!({"note": "Guest asks for a quiet room"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let failed = body["operationId"].as_str().expect("id").to_owned();
    wait_state(&s, &failed, "failed").await;
    s.faults(json!({})).await;
    let approve = charge(&s, "CONF1006", "350.00", "Spa day").await;
    let reject = charge(&s, "CONF1007", "450.00", "Suite upgrade").await;
    let posted_before = charges_posted(&s.mock_stats().await);

    let browser = support::browser::Browser::start().await;
    let c = &browser.client;
    c.goto(&s.url("/console/writes")).await.expect("goto");
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/console/login", "sent to log in first");
    c.find(Locator::Css("#name"))
        .await
        .expect("name")
        .send_keys("ana")
        .await
        .expect("type");
    c.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys(&pw)
        .await
        .expect("type");
    browser.screenshot(&shots, "login").await;
    c.find(Locator::Css("#login"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    if c.wait().for_element(Locator::Css("#writes")).await.is_err() {
        panic!(
            "not the writes page: {}",
            c.source().await.unwrap_or_default()
        );
    }
    assert_eq!(
        c.current_url().await.expect("url").path(),
        "/console/writes"
    );
    browser.screenshot(&shots, "writes").await;

    // Retry the failed note: applied once at the PMS.
    c.find(Locator::Css(&format!("#write-{failed} button.retry")))
        .await
        .expect("a retry button")
        .click()
        .await
        .expect("retry");
    notice_about(c, &failed).await;
    wait_state(&s, &failed, "applied").await;
    let notes = support::pms::comments(&s.http, &s.mock_url(""), &s.key, "DEMO1", "CONF1005").await;
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("Guest asks for a quiet room"))
            .count(),
        1,
        "{notes:?}"
    );

    // Approve one held charge, reject the other with a reason.
    c.goto(&s.url("/console/writes")).await.expect("goto");
    c.find(Locator::Css(&format!("#write-{approve} button.approve")))
        .await
        .expect("approve button")
        .click()
        .await
        .expect("approve");
    notice_about(c, &approve).await;
    c.find(Locator::Css(&format!("#reason-reject-{reject}")))
        .await
        .expect("reason field")
        .send_keys("Guest declined the upgrade")
        .await
        .expect("type");
    c.find(Locator::Css(&format!("#write-{reject} button.reject")))
        .await
        .expect("reject button")
        .click()
        .await
        .expect("reject");
    notice_about(c, &reject).await;
    wait_state(&s, &approve, "applied").await;
    assert_eq!(state_of(&s, &reject).await, "cancelled");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        charges_posted(&s.mock_stats().await),
        posted_before + 1,
        "the approved charge once, the rejected never"
    );

    // The audit trail of both, under ana's name.
    for (id, event) in [(&approve, "approved"), (&reject, "rejected")] {
        c.goto(&s.url(&format!("/console/audit/{id}")))
            .await
            .expect("goto");
        let table = c
            .wait()
            .for_element(Locator::Css("#audit"))
            .await
            .expect("audit table");
        let text = table.text().await.expect("text");
        assert!(
            text.contains("staff:ana") && text.contains(event),
            "{id}: {text}"
        );
    }
    assert!(
        c.source()
            .await
            .expect("source")
            .contains("Guest declined the upgrade"),
        "the reason is in the trail"
    );
    browser.screenshot(&shots, "audit-operation").await;
    c.goto(&s.url("/console/audit")).await.expect("goto");
    let chain = c
        .wait()
        .for_element(Locator::Css("#chain-status"))
        .await
        .expect("chain");
    assert_eq!(chain.text().await.expect("text"), "intact");
    browser.screenshot(&shots, "audit").await;
    for page in ["hotels", "alerts", "events", "adapters"] {
        c.goto(&s.url(&format!("/console/{page}")))
            .await
            .expect("goto");
        c.wait()
            .for_element(Locator::Css("main h1"))
            .await
            .expect("heading");
        browser.screenshot(&shots, page).await;
    }
    // The Hotels page refreshes itself: its rows are replaced by the stream.
    c.goto(&s.url("/console/hotels")).await.expect("goto");
    c.execute(
        "document.getElementById('hotel-rows').setAttribute('data-mark', 'old')",
        vec![],
    )
    .await
    .expect("mark");
    let started = Instant::now();
    loop {
        let rows = c.find(Locator::Css("#hotel-DEMO1")).await;
        let marked = c
            .execute(
                "return document.getElementById('hotel-rows').innerHTML.includes('hotel-DEMO1')",
                vec![],
            )
            .await
            .expect("script");
        if rows.is_ok() && marked == json!(true) && started.elapsed() > Duration::from_secs(6) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no live rows");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A form whose CSRF token was removed is refused.
    let held = charge(&s, "CONF1008", "380.00", "Minibar").await;
    c.goto(&s.url("/console/writes")).await.expect("goto");
    c.execute(
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())",
        vec![],
    )
    .await
    .expect("remove csrf");
    c.find(Locator::Css(&format!("#write-{held} button.approve")))
        .await
        .expect("approve button")
        .click()
        .await
        .expect("click");
    // The Writes page's own heading may still be there while the answer loads: wait for the
    // answer's page, not any heading.
    heading_becomes(c, "Refused").await;
    assert_eq!(state_of(&s, &held).await, "awaiting_approval");

    // Log out; a viewer sees the held write but no button.
    c.goto(&s.url("/console/writes")).await.expect("goto");
    c.find(Locator::Css(".who button"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("#login"))
        .await
        .expect("login form");
    c.find(Locator::Css("#name"))
        .await
        .expect("name")
        .send_keys("vic")
        .await
        .expect("type");
    c.find(Locator::Css("#password"))
        .await
        .expect("pw")
        .send_keys(&viewer_pw)
        .await
        .expect("type");
    c.find(Locator::Css("#login"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    // Login leads to the Hotels page.
    heading_becomes(c, "Hotels").await;
    c.goto(&s.url("/console/writes")).await.expect("goto");
    c.wait()
        .for_element(Locator::Css(&format!("#write-{held}")))
        .await
        .expect("held write");
    let buttons = c
        .find_all(Locator::Css(&format!("#write-{held} button")))
        .await
        .expect("buttons");
    assert!(buttons.is_empty(), "a viewer has no action buttons");
    browser.screenshot(&shots, "writes-viewer").await;
    browser.quit().await;
}

/// Waits until the page's notice names operation `id` (the answer to the form just sent).
async fn notice_about(c: &fantoccini::Client, id: &str) {
    let started = Instant::now();
    loop {
        if let Ok(notice) = c.find(fantoccini::Locator::Css("#notice")).await
            && notice.text().await.is_ok_and(|t| t.contains(id))
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no notice about {id}: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Alerts reach a person: a write awaiting approval and a PMS down for longer than the
/// threshold become `staff.alert` events, delivered signed to a Slack-format webhook and listed
/// on the console's Alerts page (the write's message only for roles that act on writes).
#[tokio::test]
async fn alerts_reach_the_console_and_a_chat_webhook() {
    let secret = support::random_key();
    let receiver = support::events::start_receiver(&secret).await;
    let s = Stack::start_with(StackOptions {
        top: format!(
            "{OUTBOX}{HELD}events:\n  pmsDownAlertAfterSecs: 2\n  webhooks:\n    - url: {}\n      \
             secret: {{ env: ALERT_HOOK_SECRET }}\n      events: [staff.alert]\n      format: slack\n",
            receiver.url
        ),
        env: vec![("ALERT_HOOK_SECRET".into(), secret.clone())],
        ..StackOptions::default()
    })
    .await;
    let held = charge(&s, "CONF1001", "999.00", "Champagne <b>tower</b>").await;
    s.faults(json!({ "down": true })).await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/DEMO2/reservations/PDX2001/notes",
            json!({"note": "Extra towels"}),
        )
        .await;
    assert!(status == 202 || status == 503, "{status} {body}");

    let started = Instant::now();
    let texts = loop {
        let texts: Vec<String> = receiver
            .got
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|d| d.kind == "staff.alert")
            .filter_map(|d| d.body["text"].as_str().map(str::to_owned))
            .collect();
        if texts.iter().any(|t| t.contains("awaits approval"))
            && texts
                .iter()
                .any(|t| t.contains("DEMO2") && t.contains("unavailable since"))
        {
            break texts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "alerts delivered so far: {texts:?}\n{}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    receiver.assert_no_bad_deliveries();
    assert!(
        texts
            .iter()
            .all(|t| t.starts_with("[jack-pms] ") && !t.contains('<')),
        "one escaped line each: {texts:?}"
    );
    let pms_down = texts
        .iter()
        .filter(|t| t.contains("unavailable since"))
        .count();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        receiver
            .got
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|d| d.body["text"]
                .as_str()
                .is_some_and(|t| t.contains("unavailable since")))
            .count(),
        pms_down,
        "one pms_down alert per outage"
    );
    s.faults(json!({})).await;

    for (role, sees) in [("operator", true), ("viewer", false)] {
        let pw = password(role);
        add_staff(&s, role, role, &pw);
        let mut c = ConsoleClient::new(&s);
        assert_eq!(c.login(role, &pw).await.status, 303);
        let page = c.get("/console/alerts").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&held), "{role}: the held write's alert");
        assert!(page.body.contains("pms_down"), "{role}: {}", page.body);
        assert_eq!(page.body.contains("awaits approval"), sees, "{role}");
        assert!(!page.body.contains("<b>tower"), "escaped");
        let one_hotel = c.get("/console/alerts?hotel=DEMO2").await;
        assert!(!one_hotel.body.contains(&held) && one_hotel.body.contains("pms_down"));
    }
}

/// Waits until the page's `main h1` reads `text` (an element of the page being left may go
/// stale meanwhile: that is retried, not a failure).
async fn heading_becomes(c: &fantoccini::Client, text: &str) {
    let started = Instant::now();
    loop {
        if let Ok(h1) = c.find(fantoccini::Locator::Css("main h1")).await
            && h1.text().await.is_ok_and(|t| t == text)
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no page headed {text}: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
