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
const HELD: &str = "writes:\n  maxChargeAmount: \"5000.00\"\n  currency: EUR\n  approvalThreshold: \"200.00\"\n";
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
    body["operationId"].as_str().expect("operationId").to_owned()
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
                    &[("csrf", &csrf), ("reason", "guest asked at the desk"), ("confirm", "yes")],
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
                let expected = if matches!(action, "retry" | "resend") { 409 } else { 303 };
                assert_eq!(r.status, expected, "{role} {action}: {}", r.body);
                if expected == 303 {
                    assert_ne!(after, "awaiting_approval", "{role} {action} changed the write");
                    let (_, audit, _) = cli(&s, &["audit", "list", "--operation", &id]);
                    assert!(audit.contains(&format!("staff:{name}")), "{role} {action}: {audit}");
                }
            } else {
                assert_eq!(r.status, 403, "{role} may not {action}: {}", r.body);
                assert_eq!(after, "awaiting_approval", "{role} {action} changed nothing");
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
    assert_eq!(r.status, 429, "throttled even with the right password: {}", r.body);
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
        (vec![("csrf", csrf.as_str()), ("reason", "x")], Some("http://evil.example")),
    ] {
        let r = ana
            .post_with(&format!("/console/writes/{held}/reject"), &form, origin)
            .await;
        assert_eq!(r.status, 403, "{form:?} {origin:?}: {}", r.body);
        assert_eq!(state_of(&s, &held).await, "awaiting_approval");
    }
    // Rejecting needs a reason; with one, it is audited with the person and the reason.
    let r = ana
        .post(&format!("/console/writes/{held}/reject"), &[("csrf", &csrf)])
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
    assert!(page.body.contains(&format!("Operation {held} is rejected")), "{}", page.body);
    let (_, audit, _) = cli(&s, &["audit", "list", "--json", "--operation", &held]);
    assert!(
        audit.contains("staff:ana") && audit.contains("reason: guest disputes the dinner"),
        "{audit}"
    );
    let trail = ana.get(&format!("/console/audit/{held}")).await;
    assert_eq!(trail.status, 200);
    assert!(trail.body.contains("staff:ana") && trail.body.contains("rejected"), "{}", trail.body);

    // Logged out: the old cookie neither reads nor acts.
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

    // A password change ends every session of the account.
    let mut again = ConsoleClient::new(&s);
    assert_eq!(again.login("ana", &pw).await.status, 303);
    assert_eq!(again.get("/console/writes").await.status, 200);
    let new_pw = password("ana-2");
    let out = staff_cli(&s, &["staff", "passwd", "ana"], Some(&new_pw));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(again.get("/console/writes").await.status, 303);
    // Weak passwords and unknown roles are refused by the CLI, with the reason.
    let out = staff_cli(&s, &["staff", "add", "bob", "--role", "viewer"], Some("short"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    let out = staff_cli(&s, &["staff", "add", "bob", "--role", "root"], Some(&new_pw));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a role"));
    let (code, list, _) = cli(&s, &["staff", "list"]);
    assert_eq!(code, 0);
    assert!(list.contains("ana") && list.contains("admin") && !list.contains("bob"), "{list}");
    assert!(!list.contains(&new_pw) && !list.contains("argon2"), "{list}");
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
        let mut secrets = vec![s.key.clone(), s.master_key.clone(), TOKEN.to_owned(), session];
        secrets.extend(s.extra_secrets.iter().cloned());
        secrets.extend(passwords.iter().cloned());
        for page in [
            "/console/hotels",
            "/console/writes",
            "/console/audit",
            &format!("/console/audit/{held}"),
            "/console/events",
            "/console/adapters",
        ] {
            let r = c.get(page).await;
            assert_eq!(r.status, 200, "{role} {page}: {}", r.body);
            pages_seen += 1;
            for secret in &secrets {
                assert!(!r.body.contains(secret.as_str()), "{role} {page} shows a secret");
            }
            assert_eq!(
                r.headers.get("content-security-policy").map(|v| v.to_str().unwrap_or_default().contains("script-src 'self'")),
                Some(true)
            );
            assert_eq!(r.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        }
        let writes = c.get("/console/writes").await.body;
        assert!(writes.contains(&held), "{role} sees the held write");
        assert_eq!(
            writes.contains("Massage for Ms Example"),
            role != "viewer",
            "{role}: what the write holds"
        );
        assert_eq!(hidden(&writes, "csrf").is_some(), true);
        // The buttons match the role.
        assert_eq!(writes.contains("data-action=\"approve\""), matches!(role, "approver" | "admin"), "{role}");
        assert_eq!(writes.contains("data-action=\"cancel\""), matches!(role, "operator" | "admin"), "{role}");
    }
    assert_eq!(pages_seen, 24);
    let adapters = ConsoleClient::new(&s);
    let r = adapters.get("/console/adapters").await;
    assert_eq!(r.status, 303, "not without a session");
}
