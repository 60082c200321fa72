//! Messages between hosts over Redis pub/sub (one channel per deployment): cache invalidations
//! and breaker changes, which every host must apply to what it keeps in its own memory.
//!
//! Pub/sub delivers only to hosts connected at the time: a host whose subscription broke may
//! have missed messages, so on every (re)subscription its `resync` handlers run (the cache
//! forgets its in-process entries, breaker mirrors are dropped) before it trusts its memory
//! again. Messages are small JSON objects; anything longer than [`MAX_MESSAGE`] or that does
//! not parse is dropped with a warning.

use super::link::Link;
use futures_util::StreamExt as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest message read from the channel.
pub const MAX_MESSAGE: usize = 4096;

/// What one host tells the others.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum Message {
    /// Forget cached reads of `hotel` that `what` changed.
    #[serde(rename_all = "camelCase")]
    Invalidate {
        /// The hotel.
        hotel: String,
        /// What changed.
        what: crate::cache::Invalidation,
        /// The host that wrote (it already forgot them).
        from: String,
    },
    /// The breaker of `hotel` on `adapter` changed.
    #[serde(rename_all = "camelCase")]
    Breaker {
        /// The hotel.
        hotel: String,
        /// The adapter.
        adapter: String,
        /// Sandbox failures in a row, cluster-wide.
        failures: u32,
        /// Milliseconds it stays open (0: closed).
        open_ms: u64,
    },
}

type Handler = Arc<dyn Fn(&Message) + Send + Sync>;
type Resync = Arc<dyn Fn() + Send + Sync>;

/// The channel (see the module docs).
pub struct Bus {
    link: Arc<Link>,
    channel: String,
    handlers: Mutex<Vec<Handler>>,
    resyncs: Mutex<Vec<Resync>>,
}

impl Bus {
    /// The channel of `link`'s deployment; call [`Bus::spawn`] once the handlers are in.
    pub fn new(link: Arc<Link>) -> Arc<Bus> {
        let channel = link.key("bus");
        Arc::new(Bus {
            link,
            channel,
            handlers: Mutex::default(),
            resyncs: Mutex::default(),
        })
    }

    /// Calls `handler` with every message from another host.
    pub fn on_message(&self, handler: impl Fn(&Message) + Send + Sync + 'static) {
        self.handlers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::new(handler));
    }

    /// Calls `resync` on every (re)subscription: messages may have been missed before it.
    pub fn on_resync(&self, resync: impl Fn() + Send + Sync + 'static) {
        self.resyncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::new(resync));
    }

    /// Publishes `message` to every host (this one ignores its own invalidations). False when
    /// Redis did not take it.
    pub async fn publish(&self, message: &Message) -> bool {
        let Ok(text) = serde_json::to_string(message) else {
            return false;
        };
        let channel = &self.channel;
        let sent: Option<i64> = self
            .link
            .run("cache", |mut conn| async move {
                ::redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(&text)
                    .query_async(&mut conn)
                    .await
            })
            .await;
        sent.is_some()
    }

    /// The channel's name (scripts publish to it too).
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Subscribes and dispatches until the bus is dropped, resubscribing after every break.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(bus) = weak.upgrade() else { return };
                let subscribed = match bus.link.client().get_async_pubsub().await {
                    Ok(mut pubsub) => match pubsub.subscribe(&bus.channel).await {
                        Ok(()) => Some(pubsub),
                        Err(_) => None,
                    },
                    Err(_) => None,
                };
                let Some(mut pubsub) = subscribed else {
                    drop(bus);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                bus.resync();
                let mut messages = pubsub.on_message();
                // The bus is not held while waiting, so that dropping the host ends this task.
                drop(bus);
                while let Some(msg) = messages.next().await {
                    let Some(bus) = weak.upgrade() else { return };
                    let payload: &[u8] = msg.get_payload_bytes();
                    bus.dispatch(payload);
                }
                tracing::warn!("the Redis subscription broke; resubscribing");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    }

    fn resync(&self) {
        let resyncs: Vec<Resync> = self
            .resyncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for r in resyncs {
            r();
        }
    }

    fn dispatch(&self, payload: &[u8]) {
        if payload.len() > MAX_MESSAGE {
            tracing::warn!(
                bytes = payload.len(),
                "an oversized message on the coordination channel was dropped"
            );
            return;
        }
        let message: Message = match serde_json::from_slice(payload) {
            Ok(m) => m,
            Err(_) => {
                tracing::warn!("an unreadable message on the coordination channel was dropped");
                return;
            }
        };
        if let Message::Invalidate { from, .. } = &message
            && from == self.link.node()
        {
            return;
        }
        let handlers: Vec<Handler> = self
            .handlers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for h in handlers {
            h(&message);
        }
    }
}
