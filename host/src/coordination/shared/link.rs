//! The connection to Redis that every shared part goes through, and the one place that decides
//! whether Redis is usable right now.
//!
//! - Every command has a deadline (`coordination.timeoutMs`): a slow or dead Redis costs a call
//!   at most that, once. A connection failure or a timeout marks Redis **down**; while it is
//!   down no command is sent at all (the parts use their local fallbacks at once), and a
//!   heartbeat every [`HEARTBEAT`] probes it and marks it up again when it answers.
//! - The heartbeat also registers this host in a sorted set of live nodes, so every host knows
//!   how many share the store: while Redis is down each host limits itself to its share of a
//!   vendor's budget, and it needs the count it last saw to know that share.
//! - Values that hold a secret or personal data are sealed (XChaCha20-Poly1305, bound to the key
//!   they are stored under) with a key derived from the vault's coordination key, which every
//!   host sharing the state reads from the same vault; key names that would contain personal
//!   data (an email in a cache key) hold a keyed hash of it instead.
//! - Nothing here logs the URL (it may hold a password) or a value.

use crate::config::RedisSettings;
use crate::metrics::metrics;
use crate::state::pii::FieldCipher;
use crate::vault::derive_key;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{FromRedisValue, RedisError, RedisResult};
use hmac::Mac as _;
use secrecy::ExposeSecret as _;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use zeroize::Zeroizing;

/// How often the heartbeat runs (and probes a Redis marked down).
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A node whose heartbeat is older than this is not counted as live.
pub const NODE_TTL: Duration = Duration::from_secs(10);
/// Longer than it takes every host to notice that Redis answers again (a heartbeat plus a
/// timeout): until they all have, some admit through their rate-limit shares alone.
pub const RECOVERY: Duration = Duration::from_secs(3);

/// Why the link could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The URL does not parse (never shown: it may hold a password).
    #[error("coordination.redis: the URL is not usable: {0}")]
    Url(String),
}

/// The connection to Redis (see the module docs).
pub struct Link {
    conn: ConnectionManager,
    client: ::redis::Client,
    prefix: String,
    node: String,
    timeout: Duration,
    up: AtomicBool,
    /// Bumped on every return of Redis after it was down: what was kept in this process
    /// meanwhile (cache entries, breaker mirrors) may have missed other hosts' changes.
    epoch: AtomicU64,
    /// When Redis last came back after being down.
    back_since: std::sync::Mutex<Option<std::time::Instant>>,
    nodes: AtomicU32,
    /// The largest live-host count seen lately, and when.
    peak: std::sync::Mutex<(u32, std::time::Instant)>,
    sealer: FieldCipher,
    namer: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("prefix", &self.prefix)
            .field("node", &self.node)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl Link {
    /// A link to the Redis of `settings` for host `node`, sealing with keys derived from `key`
    /// (the vault's coordination key). Does not wait for Redis: it is probed at once, and
    /// the host starts in local mode when it does not answer.
    pub async fn connect(
        settings: &RedisSettings,
        node: &str,
        key: &Zeroizing<[u8; 32]>,
    ) -> Result<Arc<Link>, LinkError> {
        use ::redis::IntoConnectionInfo as _;
        let info = settings
            .url
            .expose_secret()
            .into_connection_info()
            .map_err(|e| LinkError::Url(format!("{:?}", e.kind())))?;
        // Nagle's algorithm would hold back the small commands this link sends (40 ms stalls).
        let info =
            info.set_tcp_settings(::redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client =
            ::redis::Client::open(info).map_err(|e| LinkError::Url(format!("{:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| LinkError::Url(format!("{:?}", e.kind())))?;
        let link = Arc::new(Link {
            conn,
            client,
            prefix: settings.key_prefix.clone(),
            node: node.to_owned(),
            timeout: settings.timeout,
            up: AtomicBool::new(true),
            epoch: AtomicU64::new(0),
            back_since: std::sync::Mutex::new(None),
            nodes: AtomicU32::new(1),
            peak: std::sync::Mutex::new((1, std::time::Instant::now())),
            sealer: FieldCipher::new(&derive_key(key, b"jack-pms/coordination/seal/v1")),
            namer: derive_key(key, b"jack-pms/coordination/names/v1"),
        });
        link.heartbeat().await;
        if !link.is_up() {
            tracing::warn!("Redis does not answer: coordinating alone until it does");
        }
        Ok(link)
    }

    /// Starts the heartbeat (see the module docs); it stops when the link is dropped.
    pub fn spawn_heartbeat(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(link) = weak.upgrade() else { return };
                link.heartbeat().await;
            }
        })
    }

    /// Registers this node as live and reads how many are (one round trip); marks Redis up or
    /// down by the result.
    async fn heartbeat(&self) {
        static SCRIPT: std::sync::LazyLock<::redis::Script> = std::sync::LazyLock::new(|| {
            ::redis::Script::new(
                r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
",
            )
        });
        let key = self.key("nodes");
        let ttl = NODE_TTL.as_millis() as u64;
        let mut conn = self.conn.clone();
        let result: RedisResult<u32> = match tokio::time::timeout(
            self.timeout,
            SCRIPT
                .key(&key)
                .arg(&self.node)
                .arg(ttl)
                .invoke_async(&mut conn),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(timeout_error()),
        };
        match result {
            Ok(n) => {
                let n = self.count_nodes(n);
                metrics().coordination_nodes.set(i64::from(n));
                if !self.up.swap(true, Ordering::SeqCst) {
                    self.epoch.fetch_add(1, Ordering::SeqCst);
                    *self.back_since.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(std::time::Instant::now());
                    tracing::info!(
                        nodes = n,
                        "Redis answers again: coordination is shared again"
                    );
                }
                metrics().coordination_up.set(1);
            }
            Err(e) => self.mark_down("heartbeat", &e),
        }
    }

    /// The live hosts to reckon with, given `seen` now: a rise counts at once, a fall only once
    /// the larger count is [`NODE_TTL`] old. A Redis that restarted empty knows only the hosts
    /// that have beaten since; a host that believed it alone would take the whole budget as its
    /// share.
    fn count_nodes(&self, seen: u32) -> u32 {
        let seen = seen.max(1);
        let mut peak = self.peak.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        if seen >= peak.0 || now.duration_since(peak.1) > NODE_TTL {
            *peak = (seen, now);
        }
        self.nodes.store(peak.0, Ordering::Relaxed);
        peak.0
    }

    fn mark_down(&self, what: &str, e: &RedisError) {
        if self.up.swap(false, Ordering::SeqCst) {
            tracing::warn!(
                during = what,
                error = %describe(e),
                nodes = self.nodes(),
                "Redis is unreachable: each host coordinates alone (its share of every rate limit) until it answers"
            );
        }
        metrics().coordination_up.set(0);
    }

    /// True while Redis answers (as of the last command or heartbeat).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// How long ago Redis last came back after being down (`None`: it never was down).
    pub fn back_for(&self) -> Option<Duration> {
        self.back_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|t| t.elapsed())
    }

    /// Counts up each time Redis comes back after being down.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Live hosts sharing the store, as last seen (at least 1).
    pub fn nodes(&self) -> u32 {
        self.nodes.load(Ordering::Relaxed).max(1)
    }

    /// This host's node id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The full name of key `name` (under the deployment's prefix).
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// A client for connections of their own (pub/sub).
    pub fn client(&self) -> &::redis::Client {
        &self.client
    }

    /// A name for `personal` (anything that may hold personal data) that reveals nothing of
    /// it: a keyed hash, the same on every host sharing the vault.
    pub fn hide(&self, personal: &str) -> String {
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.namer.as_slice())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(personal.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// `plaintext` sealed for key `key` (it does not open under another key).
    pub fn seal(&self, key: &str, plaintext: &[u8]) -> Vec<u8> {
        self.sealer.seal("redis", key, "value", plaintext)
    }

    /// The plaintext of a value sealed for `key`, or `None` when it does not open (altered, or
    /// sealed under another key): treated as absent.
    pub fn open(&self, key: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        match self.sealer.open("redis", key, "value", sealed) {
            Ok(plain) => Some(plain),
            Err(_) => {
                tracing::warn!(key = %key, "a sealed value in Redis does not open; ignoring it");
                None
            }
        }
    }

    /// Counts a decision that part `what` took alone (Redis down or failing).
    pub fn alone(&self, what: &'static str) {
        metrics()
            .coordination_fallbacks
            .get_or_create(&crate::metrics::PartLabels { part: what })
            .inc();
    }

    /// Runs `command` on the shared connection, within the timeout. `None` when Redis is down
    /// (nothing is sent) or the command failed: the caller decides alone then. `what` names the
    /// part in logs and in the fallback counter.
    pub async fn run<T, F, Fut>(&self, what: &'static str, command: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
        T: FromRedisValue,
    {
        if !self.is_up() {
            self.alone(what);
            return None;
        }
        let result = match tokio::time::timeout(self.timeout, command(self.conn.clone())).await {
            Ok(r) => r,
            Err(_) => Err(timeout_error()),
        };
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_unrecoverable_error()
                {
                    self.mark_down(what, &e);
                } else {
                    tracing::error!(part = what, error = %describe(&e), "a Redis command failed");
                }
                self.alone(what);
                None
            }
        }
    }
}

fn timeout_error() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no answer within coordination.timeoutMs",
    ))
}

/// What went wrong, without anything the server or URL could have put in the message.
fn describe(e: &RedisError) -> String {
    format!("{:?}: {}", e.kind(), e.category())
}
