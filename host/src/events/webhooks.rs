//! Signed webhook deliveries of the event log to configured URLs.
//!
//! Each event is POSTed as its JSON ([`StoredEvent`], the same object as the SSE `data:`) with
//! headers `x-jack-event-id`, `x-jack-event-type`, `x-jack-timestamp` (Unix seconds) and
//! `x-jack-signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The timestamp is
//! inside the signed text so a receiver can refuse replays of old deliveries.
//!
//! One task per target delivers in log order, one event at a time (so a receiver sees events in
//! order), retrying with exponential backoff and full jitter until `max_attempts`; then it logs a
//! warning, counts the event as given up and moves on, so one poisoned event cannot block the
//! target forever. 2xx is delivered; anything else, and timeouts, are retried.
//!
//! Progress is kept in `webhook_cursors(target TEXT PRIMARY KEY, last_event_id INTEGER)`, keyed
//! by URL, so a restart resumes after the last delivered (or given-up) event. A target seen for
//! the first time starts at the log's current end rather than replaying the whole retention.
//! Delivery is at-least-once: a crash between a 2xx and the cursor write repeats that event, so
//! receivers should dedupe on `x-jack-event-id`.

use super::log::{EventLog, EventLogError, StoredEvent};
use crate::on_db;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::task::JoinSet;

type HmacSha256 = Hmac<Sha256>;

/// How many events one log read fetches.
const PAGE: u32 = 100;

/// One configured webhook receiver.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    /// Where to POST (also the cursor's key).
    pub url: String,
    /// The HMAC key shared with the receiver.
    pub secret: SecretString,
    /// Event types to send (`reservation.created`, …); `None` sends all.
    pub events: Option<Vec<String>>,
    /// The body's shape: the event's JSON, or a Slack-compatible `{"text": …}`.
    pub format: crate::config::WebhookFormat,
}

impl WebhookTarget {
    fn wants(&self, kind: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|list| list.iter().any(|k| k == kind))
    }
}

/// Delivery tuning.
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    /// Attempts per event, including the first. Default 8.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each retry. Default 1 s.
    pub initial_backoff: Duration,
    /// Longest delay between attempts. Default 5 min.
    pub max_backoff: Duration,
    /// Per-request timeout. Default 10 s.
    pub timeout: Duration,
    /// This host's node id: with several hosts on one state database, the holder of a
    /// receiver's cursor lease is the one host that delivers to it. Default `local`.
    pub node: String,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            max_attempts: 8,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
            node: "local".to_owned(),
        }
    }
}

/// How long a host holds a receiver's cursor without renewing it; the holder renews with every
/// cursor it saves and every third of this while idle.
const CURSOR_LEASE: Duration = Duration::from_secs(15);

/// Why the webhook dispatcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The log or the cursor table failed.
    #[error(transparent)]
    Log(#[from] EventLogError),
    /// The HTTP client could not be built (TLS setup).
    #[error("webhooks: cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Counters, shared by all targets.
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Events delivered (2xx).
    pub delivered: AtomicU64,
    /// Attempts that failed and were retried.
    pub retries: AtomicU64,
    /// Events given up after `max_attempts`.
    pub given_up: AtomicU64,
}

/// The running delivery tasks.
#[derive(Debug)]
pub struct WebhookDispatcher {
    stats: Arc<WebhookStats>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// One line for a chat channel: `[jack-pms] <hotel> <type>: <what>`, every value from the event
/// escaped and bounded (a PMS supplied some of them). Chat tools read `<`, `>` and `&` as markup:
/// they are replaced.
pub fn slack_text(ev: &StoredEvent) -> String {
    let data = &ev.data;
    let field = |k: &str| data.get(k).and_then(|v| v.as_str());
    let what = match ev.kind.as_str() {
        "staff.alert" => field("message").unwrap_or("staff alert").to_owned(),
        "write.failed" => format!(
            "{} {} failed: {}",
            field("operation").unwrap_or("write"),
            field("operationId").unwrap_or_default(),
            field("error").unwrap_or_default()
        ),
        "pms.unavailable" => format!(
            "the PMS is unavailable: {}",
            field("detail").unwrap_or_default()
        ),
        "pms.recovered" => "the PMS answers again".to_owned(),
        _ => ["confirmationNumber", "roomNumber", "status"]
            .iter()
            .filter_map(|k| field(k).map(|v| format!("{k} {v}")))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let text = format!("[jack-pms] {} {}: {what}", ev.hotel, ev.kind);
    crate::untrusted::escape(&text, 600)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The signature header value for `body` sent at `timestamp`: `sha256=<hex>`.
pub fn sign(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("sha256={}", hex::encode(tag))
}

fn mac(secret: &SecretString, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail; the empty-key fallback only keeps
    // the function total.
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks an `x-jack-signature` header for `body` sent at `timestamp`, in constant time. For
/// receivers (and tests); the host itself only signs.
pub fn verify_signature(secret: &SecretString, timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&sig).is_ok()
}

impl WebhookDispatcher {
    /// Starts one delivery task per target. Must be called inside a tokio runtime.
    pub async fn start(
        log: Arc<EventLog>,
        targets: Vec<WebhookTarget>,
        options: WebhookOptions,
    ) -> Result<WebhookDispatcher, WebhookError> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            // Receivers are configured URLs; following redirects would send signed bodies to
            // places nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(WebhookError::Client)?;
        let stats = Arc::new(WebhookStats::default());
        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for target in targets {
            let cursor = load_cursor(&log, &target.url).await?;
            let worker = Worker {
                log: log.clone(),
                client: client.clone(),
                target,
                options: options.clone(),
                stats: stats.clone(),
                cursor,
            };
            tasks.spawn(worker.run(shutdown.subscribe()));
        }
        Ok(WebhookDispatcher {
            stats,
            shutdown,
            tasks,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &WebhookStats {
        &self.stats
    }

    /// Stops the tasks (an event being retried is delivered again after restart).
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The cursor of `url`, created at the log's current end if it is new (a new receiver gets
/// events from now on). Two hosts creating it at once keep the first one's.
async fn load_cursor(log: &EventLog, url: &str) -> Result<i64, EventLogError> {
    let stored: Option<i64> = on_db!(log.db(), p => sqlx::query_scalar(
        "SELECT last_event_id FROM webhook_cursors WHERE target = $1",
    )
    .bind(url)
    .fetch_optional(p)
    .await)
    .map_err(|source| EventLogError::Storage {
        context: "cannot read a webhook cursor",
        source,
    })?;
    match stored {
        Some(id) => Ok(id),
        None => {
            let id = log.last_id().await?;
            on_db!(log.db(), p => sqlx::query(
                "INSERT INTO webhook_cursors (target, last_event_id) VALUES ($1, $2) \
                 ON CONFLICT (target) DO NOTHING",
            )
            .bind(url)
            .bind(id)
            .execute(p)
            .await
            .map(drop))
            .map_err(|source| EventLogError::Storage {
                context: "cannot save a webhook cursor",
                source,
            })?;
            Box::pin(load_cursor(log, url)).await
        }
    }
}

fn lease_end() -> i64 {
    let lease = chrono::Duration::from_std(CURSOR_LEASE).unwrap_or(chrono::Duration::MAX);
    (chrono::Utc::now() + lease).timestamp_millis()
}

/// Takes (or renews) `node`'s lease on the cursor of `url`: the cursor as stored, when this host
/// holds it now; `None` while another live host does.
async fn hold_cursor(log: &EventLog, url: &str, node: &str) -> Result<Option<i64>, EventLogError> {
    on_db!(log.db(), p => sqlx::query_scalar(
        "UPDATE webhook_cursors SET owner = $2, lease_until = $3 WHERE target = $1 \
         AND (owner IS NULL OR owner = $2 OR lease_until IS NULL OR lease_until < $4) \
         RETURNING last_event_id",
    )
    .bind(url)
    .bind(node)
    .bind(lease_end())
    .bind(chrono::Utc::now().timestamp_millis())
    .fetch_optional(p)
    .await)
    .map_err(|source| EventLogError::Storage {
        context: "cannot take a webhook cursor's lease",
        source,
    })
}

/// Moves the cursor of `url` to `id` if `node` still holds its lease (renewing it); false when
/// another host has taken the receiver over.
async fn save_cursor(
    log: &EventLog,
    url: &str,
    node: &str,
    id: i64,
) -> Result<bool, EventLogError> {
    on_db!(log.db(), p => sqlx::query(
        "UPDATE webhook_cursors SET last_event_id = $3, lease_until = $4 \
         WHERE target = $1 AND owner = $2",
    )
    .bind(url)
    .bind(node)
    .bind(id)
    .bind(lease_end())
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
    .map_err(|source| EventLogError::Storage {
        context: "cannot save a webhook cursor",
        source,
    })
}

/// Gives the lease up (a clean stop), so another host takes the receiver over at once.
async fn release_cursor(log: &EventLog, url: &str, node: &str) {
    let released = on_db!(log.db(), p => sqlx::query(
        "UPDATE webhook_cursors SET owner = NULL, lease_until = NULL WHERE target = $1 AND owner = $2",
    )
    .bind(url)
    .bind(node)
    .execute(p)
    .await
    .map(drop));
    if let Err(e) = released {
        tracing::warn!(%url, error = %e, "webhooks: cannot release a cursor's lease");
    }
}

struct Worker {
    log: Arc<EventLog>,
    client: reqwest::Client,
    target: WebhookTarget,
    options: WebhookOptions,
    stats: Arc<WebhookStats>,
    cursor: i64,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let (log, url, node) = (
            self.log.clone(),
            self.target.url.clone(),
            self.options.node.clone(),
        );
        self.deliver_while_held(&mut shutdown).await;
        release_cursor(&log, &url, &node).await;
    }

    /// Delivers while this host holds the receiver's cursor lease; waits for it otherwise.
    /// Returns at shutdown.
    async fn deliver_while_held(mut self, shutdown: &mut watch::Receiver<bool>) {
        // Subscribe before the first read so an append between "log is empty" and waiting
        // is not missed; the broadcast is only a wake-up, the log is what gets delivered.
        let mut wake = self.log.subscribe();
        loop {
            match hold_cursor(&self.log, &self.target.url, &self.options.node).await {
                // The stored cursor is the truth: another host may have moved it.
                Ok(Some(cursor)) => self.cursor = cursor,
                Ok(None) => {
                    // Another live host delivers to this receiver; try again within a lease.
                    tokio::select! {
                        () = tokio::time::sleep(CURSOR_LEASE / 3) => continue,
                        _ = shutdown.changed() => return,
                    }
                }
                Err(e) => {
                    tracing::warn!(url = %self.target.url, error = %e, "webhooks: cannot take the cursor");
                    tokio::select! {
                        () = tokio::time::sleep(self.options.initial_backoff) => continue,
                        _ = shutdown.changed() => return,
                    }
                }
            }
            let page = match self.log.since(self.cursor, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(url = %self.target.url, error = %e, "webhooks: cannot read the event log");
                    tokio::select! {
                        () = tokio::time::sleep(self.options.initial_backoff) => continue,
                        _ = shutdown.changed() => return,
                    }
                }
            };
            if page.is_empty() {
                // Idle: wake for new events, and renew the lease a few times per its length.
                tokio::select! {
                    r = wake.recv() => {
                        if matches!(r, Err(RecvError::Closed)) {
                            return;
                        }
                    }
                    () = tokio::time::sleep(CURSOR_LEASE / 3) => {}
                    _ = shutdown.changed() => return,
                }
                continue;
            }
            for ev in page {
                // An attempt under way is let finish (its timeout bounds it), so that a clean
                // stop never leaves an event delivered but its cursor unsaved.
                if self.target.wants(&ev.kind) && !self.deliver(&ev, shutdown).await {
                    return;
                }
                self.cursor = ev.seq();
                match save_cursor(&self.log, &self.target.url, &self.options.node, self.cursor)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        // Another host took the receiver over (this one's lease ran out): it
                        // goes on from the cursor as stored; at most this event is sent twice.
                        tracing::warn!(url = %self.target.url, "webhooks: lost the receiver's lease to another host");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(url = %self.target.url, error = %e, "webhooks: cannot save the cursor");
                    }
                }
            }
        }
    }

    /// Delivers one event, retrying; true when delivered or given up, false when the host
    /// stops between two attempts (the event stays for whichever host delivers next).
    async fn deliver(&self, ev: &StoredEvent, shutdown: &mut watch::Receiver<bool>) -> bool {
        let body = match self.target.format {
            crate::config::WebhookFormat::Jack => serde_json::to_vec(ev),
            crate::config::WebhookFormat::Slack => {
                serde_json::to_vec(&serde_json::json!({ "text": slack_text(ev) }))
            }
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(id = %ev.id, error = %e, "webhooks: cannot encode an event");
                self.stats.given_up.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        };
        let attempts = self.options.max_attempts.max(1);
        for attempt in 1..=attempts {
            // A fresh timestamp (and signature) per attempt, so a retry hours later is not
            // refused as a replay by a receiver checking the timestamp's age.
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let signature = sign(&self.target.secret, &timestamp, &body);
            let result = self
                .client
                .post(&self.target.url)
                .header("content-type", "application/json")
                .header("x-jack-event-id", &ev.id)
                .header("x-jack-event-type", &ev.kind)
                .header("x-jack-timestamp", &timestamp)
                .header("x-jack-signature", signature)
                .body(body.clone())
                .send()
                .await;
            let failure = match result {
                Ok(resp) if resp.status().is_success() => {
                    self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                Ok(resp) => format!("HTTP {}", resp.status()),
                Err(e) => e.to_string(),
            };
            if attempt == attempts {
                tracing::warn!(
                    url = %self.target.url, id = %ev.id, attempts, error = %failure,
                    "webhooks: giving up on an event"
                );
                self.stats.given_up.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url = %self.target.url, id = %ev.id, attempt, error = %failure, "webhooks: retrying");
            tokio::select! {
                () = tokio::time::sleep(self.backoff(attempt)) => {}
                _ = shutdown.changed() => return false,
            }
        }
        true
    }

    /// Exponential backoff with full jitter: uniform in [0, min(max, initial·2^(attempt−1))],
    /// so many targets failing together do not retry in lockstep.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.options.initial_backoff.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let cap = exp.min(self.options.max_backoff);
        cap.mul_f64(rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::log::tests::{event, temp_log};
    use axum::Router;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Receiver {
        /// (event id, body) of deliveries with a valid signature that got 2xx.
        accepted: Mutex<Vec<(String, serde_json::Value)>>,
        attempts: AtomicU64,
        bad_signatures: AtomicU64,
    }

    async fn receiver(secret: SecretString) -> (String, Arc<Receiver>) {
        let state = Arc::new(Receiver::default());
        let st = state.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let st = st.clone();
                let secret = secret.clone();
                async move {
                    let n = st.attempts.fetch_add(1, Ordering::SeqCst);
                    let h = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    if !verify_signature(
                        &secret,
                        &h("x-jack-timestamp"),
                        &body,
                        &h("x-jack-signature"),
                    ) {
                        st.bad_signatures.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::UNAUTHORIZED;
                    }
                    if n == 0 {
                        // The first delivery fails: it must come again.
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let json = serde_json::from_slice(&body).unwrap_or_default();
                    st.accepted
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((h("x-jack-event-id"), json));
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}/hook"), state)
    }

    fn fast() -> WebhookOptions {
        WebhookOptions {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            timeout: Duration::from_secs(30),
            ..WebhookOptions::default()
        }
    }

    async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
        // Generous: a busy machine may be slow, but the condition is exact.
        for _ in 0..600 {
            if ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[test]
    fn signature_round_trip() {
        let secret = SecretString::from("s3cret");
        let sig = sign(&secret, "1700000000", b"{}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify_signature(&secret, "1700000000", b"{}", &sig));
        assert!(!verify_signature(&secret, "1700000001", b"{}", &sig));
        assert!(!verify_signature(&secret, "1700000000", b"{ }", &sig));
        assert!(!verify_signature(
            &SecretString::from("other"),
            "1700000000",
            b"{}",
            &sig
        ));
        assert!(!verify_signature(&secret, "1700000000", b"{}", "sha256=zz"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retried_once_delivered_once_and_resumes_after_restart() {
        let (_dir, log) = temp_log(1000).await;
        let secret = SecretString::from("hook-secret");
        let (url, rx) = receiver(secret.clone()).await;
        let target = WebhookTarget {
            format: crate::config::WebhookFormat::Jack,
            url: url.clone(),
            secret: secret.clone(),
            events: Some(vec!["reservation.created".into()]),
        };
        let d = WebhookDispatcher::start(log.clone(), vec![target.clone()], fast())
            .await
            .expect("start");
        log.append(vec![event("h1", 1)]).await.expect("append");
        let accepted = || rx.accepted.lock().map(|v| v.len()).unwrap_or(0);
        wait_for("the retried delivery", || accepted() == 1).await;
        assert_eq!(rx.attempts.load(Ordering::SeqCst), 2, "one 500, one retry");
        assert_eq!(rx.bad_signatures.load(Ordering::SeqCst), 0);
        assert_eq!(d.stats().delivered.load(Ordering::SeqCst), 1);
        assert_eq!(d.stats().retries.load(Ordering::SeqCst), 1);
        d.shutdown().await;

        // While stopped: one filtered out, one wanted. After restart only the wanted one comes.
        let mut other = event("h1", 2);
        other.kind = crate::events::EventKind::RoomStatusChanged;
        log.append(vec![other, event("h1", 3)])
            .await
            .expect("append");
        let d = WebhookDispatcher::start(log.clone(), vec![target], fast())
            .await
            .expect("restart");
        wait_for("the delivery after restart", || accepted() == 2).await;
        // Nothing else trickles in.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let got = rx.accepted.lock().map(|v| v.clone()).unwrap_or_default();
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["1", "3"]);
        assert_eq!(got[1].1["data"]["n"], 3);
        assert_eq!(got[1].1["type"], "reservation.created");
        d.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gives_up_after_max_attempts_and_moves_on() {
        let (_dir, log) = temp_log(1000).await;
        let secret = SecretString::from("right");
        let (url, rx) = receiver(secret).await;
        // Wrong secret: every attempt is refused (401).
        let target = WebhookTarget {
            format: crate::config::WebhookFormat::Jack,
            url,
            secret: SecretString::from("wrong"),
            events: None,
        };
        let opts = WebhookOptions {
            max_attempts: 3,
            ..fast()
        };
        let d = WebhookDispatcher::start(log.clone(), vec![target], opts)
            .await
            .expect("start");
        log.append(vec![event("h1", 1), event("h1", 2)])
            .await
            .expect("append");
        wait_for("both given up", || {
            d.stats().given_up.load(Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(rx.bad_signatures.load(Ordering::SeqCst), 6);
        d.shutdown().await;
    }
}
