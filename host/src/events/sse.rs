//! `GET /v1/events`: the event log as server-sent events.
//!
//! Each event goes out as `id: <log id>`, `event: <type>`, `data: <StoredEvent JSON>`. A client
//! that reconnects with `Last-Event-ID` first gets everything after that id still in the log,
//! then the live events, with no gap and no duplicate:
//!
//! 1. subscribe to the live broadcast *before* reading the backlog, so nothing appended while
//!    the backlog is read is missed;
//! 2. keep a cursor (the last id sent or skipped) and drop live events at or below it, which
//!    removes what the backlog already delivered;
//! 3. when the broadcast lags (the client is slow) or a live id is not the cursor's successor,
//!    go back to reading the log from the cursor, which is the source of truth.
//!
//! Without `Last-Event-ID` the stream starts at the log's current end. A `Last-Event-ID` older
//! than the retention replays what is left (the client can tell a gap from the ids).
//! `?hotel=` keeps one hotel's events; the cursor still moves over the others.
//!
//! Authentication is the host's middleware, not this module's.

use super::log::{EventLog, EventLogError, StoredEvent};
use axum::Router;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use futures_util::Stream;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// How many events one backlog read fetches.
const PAGE: u32 = 500;

/// The query of `GET /v1/events`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only this hotel's events (every hotel's when absent).
    #[param(nullable = false, pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: Option<String>,
}

/// A router with `GET /v1/events` over `log`, to merge into the host's router (under its auth
/// layer). Generic over the host's state so it merges into any `Router<S>`.
pub fn routes<S>(log: Arc<EventLog>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/v1/events",
        get(
            move |headers: HeaderMap, Query(query): Query<EventsQuery>| {
                let log = log.clone();
                async move { events_response(log, &headers, query).await }
            },
        ),
    )
}

/// The response for one request: reads `Last-Event-ID` from `headers`; 503 when the log cannot
/// be read. For a host that prefers its own handler (and its own problem+json errors, via
/// [`event_stream`]).
pub async fn events_response(
    log: Arc<EventLog>,
    headers: &HeaderMap,
    query: EventsQuery,
) -> Response {
    match event_stream(log, last_event_id(headers), query.hotel).await {
        Ok(stream) => Sse::new(stream)
            .keep_alive(KeepAlive::default())
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "SSE: cannot read the event log");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the event log cannot be read",
            )
                .into_response()
        }
    }
}

/// The `Last-Event-ID` header as a log id; absent or unparsable counts as absent (a client
/// cannot hold an id this log did not give it, so a bad value is best treated as a new client).
pub fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|id| *id >= 0)
}

/// The SSE events after `last_event_id` (or from now on when `None`), optionally for one hotel.
/// Resolves once the start position is fixed, so anything appended after it returns is
/// delivered. The stream ends when the log's broadcast closes or the log cannot be read.
pub async fn event_stream(
    log: Arc<EventLog>,
    last_event_id: Option<i64>,
    hotel: Option<String>,
) -> Result<impl Stream<Item = Result<Event, Infallible>> + use<>, EventLogError> {
    use futures_util::StreamExt as _;
    Ok(stored_stream(log, last_event_id, hotel)
        .await?
        .map(|ev| Ok(to_sse(&ev))))
}

/// [`event_stream`] before the SSE encoding: the events themselves, in id order.
pub async fn stored_stream(
    log: Arc<EventLog>,
    last_event_id: Option<i64>,
    hotel: Option<String>,
) -> Result<impl Stream<Item = StoredEvent> + use<>, EventLogError> {
    // Subscribing before anything is read from the log is what makes the hand-over from
    // backlog to live gap-free.
    let rx = log.subscribe();
    let (cursor, catching_up) = match last_event_id {
        Some(id) => (id, true),
        // New client: start at the end of the log as it is now. Live events already queued in
        // `rx` at or below it are dropped by the cursor check.
        None => (log.last_id().await?, false),
    };
    let state = State {
        log,
        rx,
        hotel,
        cursor,
        backlog: VecDeque::new(),
        catching_up,
    };
    Ok(futures_util::stream::unfold(state, |mut s| async move {
        let event = next_event(&mut s).await?;
        Some((event, s))
    }))
}

struct State {
    log: Arc<EventLog>,
    rx: broadcast::Receiver<Arc<StoredEvent>>,
    hotel: Option<String>,
    /// Last id delivered or skipped.
    cursor: i64,
    /// Events read from the log, not yet sent.
    backlog: VecDeque<StoredEvent>,
    /// True while the log (not the broadcast) is the source.
    catching_up: bool,
}

/// The next event to send, or `None` to end the stream.
async fn next_event(s: &mut State) -> Option<StoredEvent> {
    loop {
        let cursor = s.cursor;
        if let Some(ev) = s.backlog.pop_front() {
            let id = ev.seq();
            if id <= cursor {
                continue;
            }
            s.cursor = id;
            if s.wants(&ev) {
                return Some(ev);
            }
            continue;
        }
        if s.catching_up {
            match s.log.since(cursor, PAGE).await {
                Ok(page) if page.is_empty() => s.catching_up = false,
                Ok(page) => s.backlog.extend(page),
                Err(e) => {
                    tracing::warn!(error = %e, "SSE: cannot read the event log");
                    return None;
                }
            }
            continue;
        }
        match s.rx.recv().await {
            Ok(ev) => {
                let id = ev.seq();
                if id <= cursor {
                    continue;
                }
                if id != cursor + 1 {
                    // Something between the cursor and this event never reached us (appended
                    // before we subscribed but after the backlog read): the log has it.
                    s.catching_up = true;
                    continue;
                }
                s.cursor = id;
                if s.wants(&ev) {
                    return Some((*ev).clone());
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "SSE subscriber lagged; re-reading from the log");
                s.catching_up = true;
            }
            Err(RecvError::Closed) => return None,
        }
    }
}

impl State {
    fn wants(&self, ev: &StoredEvent) -> bool {
        self.hotel.as_deref().is_none_or(|h| h == ev.hotel)
    }
}

fn to_sse(ev: &StoredEvent) -> Event {
    // StoredEvent is strings and a JSON value, so it always serializes; the fallback keeps
    // the stream alive rather than panicking.
    let data = serde_json::to_string(ev).unwrap_or_else(|_| "{}".into());
    Event::default()
        .id(ev.id.clone())
        .event(ev.kind.clone())
        .data(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::log::tests::{event, temp_log};
    use std::time::Duration;

    /// Generous: the machine is shared with a compiler.
    const WAIT: Duration = Duration::from_secs(30);

    /// A tiny SSE client: reads `id:`/`event:`/`data:` lines until `n` events arrived.
    struct Client {
        resp: reqwest::Response,
        buf: String,
    }

    #[derive(Debug)]
    struct Received {
        id: String,
        kind: String,
        data: serde_json::Value,
    }

    impl Client {
        async fn connect(base: &str, query: &str, last: Option<&str>) -> Client {
            let mut req = reqwest::Client::new().get(format!("{base}/v1/events{query}"));
            if let Some(id) = last {
                req = req.header("Last-Event-ID", id);
            }
            let resp = tokio::time::timeout(WAIT, req.send())
                .await
                .expect("connect in time")
                .expect("connect");
            assert_eq!(resp.status(), 200);
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(ct.starts_with("text/event-stream"), "{ct}");
            Client {
                resp,
                buf: String::new(),
            }
        }

        async fn next(&mut self) -> Received {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let (mut id, mut kind, mut data) = (None, None, String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            id = Some(v.trim_start().to_owned());
                        } else if let Some(v) = line.strip_prefix("event:") {
                            kind = Some(v.trim_start().to_owned());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    // Keep-alive comments (": …") carry no id: skip them.
                    if let (Some(id), Some(kind)) = (id, kind) {
                        let data = serde_json::from_str(&data).expect("data is JSON");
                        return Received { id, kind, data };
                    }
                    continue;
                }
                let chunk = tokio::time::timeout(WAIT, self.resp.chunk())
                    .await
                    .expect("event in time")
                    .expect("read")
                    .expect("stream still open");
                self.buf
                    .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
            }
        }
    }

    async fn serve(log: Arc<EventLog>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app: Router = routes(log);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn live_then_resume_with_last_event_id() {
        let (_dir, log) = temp_log(1000).await;
        // Something before the client connects: a new client does not get it.
        log.append(vec![event("h1", 0)]).await.expect("append");
        let base = serve(log.clone()).await;
        let mut client = Client::connect(&base, "", None).await;
        // The response head is sent once the start position is fixed.
        log.append(vec![event("h1", 1), event("h2", 2)])
            .await
            .expect("append");
        let a = client.next().await;
        let b = client.next().await;
        assert_eq!((a.id.as_str(), b.id.as_str()), ("2", "3"));
        assert_eq!(a.kind, "reservation.created");
        assert_eq!(a.data["data"]["n"], 1);
        assert_eq!(b.data["hotel"], "h2");
        drop(client);

        // Missed while away, then resumed: exactly the later ones, then live.
        log.append(vec![event("h1", 3), event("h1", 4)])
            .await
            .expect("append");
        let mut again = Client::connect(&base, "", Some("3")).await;
        assert_eq!(again.next().await.id, "4");
        assert_eq!(again.next().await.id, "5");
        log.append(vec![event("h1", 5)]).await.expect("append");
        let live = again.next().await;
        assert_eq!(live.id, "6");
        assert_eq!(live.data["data"]["n"], 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hotel_filter() {
        let (_dir, log) = temp_log(1000).await;
        let base = serve(log.clone()).await;
        log.append(vec![event("h1", 1), event("h2", 2), event("h1", 3)])
            .await
            .expect("append");
        let mut client = Client::connect(&base, "?hotel=h1", Some("0")).await;
        assert_eq!(client.next().await.id, "1");
        assert_eq!(client.next().await.id, "3");
        log.append(vec![event("h2", 4), event("h1", 5)])
            .await
            .expect("append");
        assert_eq!(client.next().await.id, "5");
    }

    #[tokio::test]
    async fn lagged_subscriber_rereads_from_the_log() {
        use futures_util::StreamExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let log = Arc::new(
            EventLog::open(
                &dir.path().join("s.db"),
                Arc::new(crate::events::log::tests::test_cipher()),
                crate::events::LogOptions {
                    retention: 10_000,
                    broadcast_capacity: 16,
                },
            )
            .await
            .expect("open"),
        );
        let stream = stored_stream(log.clone(), Some(0), None)
            .await
            .expect("stream");
        let mut stream = std::pin::pin!(stream);
        // Far more than the broadcast holds, appended before the stream is polled.
        for n in 0..100 {
            log.append(vec![event("h1", n)]).await.expect("append");
        }
        let mut ids = Vec::new();
        while ids.len() < 100 {
            let next = tokio::time::timeout(WAIT, stream.next())
                .await
                .expect("in time")
                .expect("open");
            ids.push(next.seq());
        }
        assert_eq!(ids, (1..=100).collect::<Vec<i64>>());
        // One more live event arrives once, after the backlog.
        log.append(vec![event("h1", 100)]).await.expect("append");
        let next = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
            .expect("open");
        assert_eq!(next.seq(), 101);
    }
}
