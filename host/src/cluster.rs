//! The hosts sharing one state database: who is alive, which host prefers which hotel, and who
//! runs each scheduled sync fire.
//!
//! **Liveness.** Every host upserts its row in `nodes` at start and writes a heartbeat every
//! [`HEARTBEAT`]; a host whose heartbeat is older than [`LIVE_FOR`] counts as gone. A host that
//! stops cleanly removes its row, so the others take its hotels over at once.
//!
//! **One id, one host.** The row keeps the start time of the host that registered it last.
//! A host whose heartbeat finds another start time there shares its `state.nodeId` with another
//! live host (a copied config): both would take the same writes for their own, so it raises a
//! staff alert (`alert=duplicate_node_id`) at every heartbeat until one of them is renamed. A
//! host starting over a fresh heartbeat of its id warns too (unless that was its own previous
//! life, restarted within [`LIVE_FOR`]).
//!
//! **Spreading hotels.** Each host ranks the live hosts for a hotel by rendezvous hashing
//! (SHA-256 of node id and hotel id; the highest wins), so every host agrees on the preferred
//! host without talking to the others, hotels spread evenly, and when a host joins or leaves
//! only its share moves.
//!
//! **Once per fire.** Every host keeps every stream's timer. At a fire, the preferred host claims
//! at once; the others wait [`FAILOVER_GRACE`] and then claim only what is still unclaimed, so a
//! dead preferred host (not yet seen as gone) costs its hotels a few seconds, not a run. The
//! claim is one compare-and-set on `sync_runs(hotel, stream)`: the row's `fire_at` moves forward
//! to this fire only if it is behind it, and exactly one host's statement does that. This holds
//! on a transaction-pooling proxy too (no session state: no advisory locks held between
//! statements).

use crate::db::{Db, DbError};
use crate::on_db;
use crate::report::StreamKind;
use crate::state::outbox::millis;
use crate::sync::schedule::{BoxFuture, stable_hash};
use crate::sync::scheduler::{Claim, FireClaims, RunOutcome};
use chrono::{DateTime, TimeZone as _, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// How often a host writes its heartbeat (and re-reads who is alive).
pub const HEARTBEAT: Duration = Duration::from_secs(3);
/// A host whose heartbeat is older than this is gone.
pub const LIVE_FOR: Duration = Duration::from_secs(10);
/// How long a host that is not a hotel's preferred one waits at a fire before claiming it.
pub const FAILOVER_GRACE: Duration = Duration::from_secs(3);
/// Rows of hosts gone longer than this are removed.
const FORGET_AFTER: Duration = Duration::from_secs(86_400);

/// Why the cluster record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The database failed.
    #[error("cluster: {context}: {source}")]
    Storage {
        /// What was being done.
        context: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// The database could not be opened.
    #[error(transparent)]
    Open(#[from] DbError),
}

fn storage(context: &'static str) -> impl FnOnce(sqlx::Error) -> ClusterError {
    move |source| ClusterError::Storage { context, source }
}

/// What the record says of a stream's last claimed fire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastRun {
    /// The stream.
    pub stream: String,
    /// The host that ran it.
    pub node: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished (None while running, or if that host died during it).
    pub finished_at: Option<DateTime<Utc>>,
    /// How it went, as that host recorded it.
    pub outcome: Option<RunOutcome>,
}

/// A `sync_runs` row: stream, node, started, finished, outcome (JSON).
type RunRow = (String, String, i64, Option<i64>, Option<String>);

/// This host's membership. See the module docs.
pub struct Cluster {
    db: Db,
    node: String,
    /// When this host registered (ms): its mark in the `nodes` row.
    started_at: i64,
    /// Another live host registered with this host's node id.
    duplicate: AtomicBool,
    /// The live hosts as last read (sorted), always including this one.
    live: RwLock<Arc<Vec<String>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node)
            .field("live", &self.live())
            .finish()
    }
}

fn now_ms() -> i64 {
    millis(Utc::now())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Cluster {
    /// Registers host `node` in `db` and reads who else is alive.
    pub async fn join(db: Db, node: &str) -> Result<Arc<Cluster>, ClusterError> {
        let now = now_ms();
        let before: Option<i64> = on_db!(&db, p => sqlx::query_scalar(
            "SELECT heartbeat_at FROM nodes WHERE id = $1",
        )
        .bind(node)
        .fetch_optional(p)
        .await)
        .map_err(storage("cannot read the cluster record"))?;
        if let Some(beat) = before
            && now.saturating_sub(beat) < ms(LIVE_FOR)
        {
            tracing::warn!(
                node,
                seconds_ago = now.saturating_sub(beat) / 1000,
                "a host with this node id wrote a heartbeat moments ago: unless that was this host before a restart, two hosts share state.nodeId"
            );
        }
        on_db!(&db, p => sqlx::query(
            "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, \
             heartbeat_at = excluded.heartbeat_at",
        )
        .bind(node)
        .bind(now)
        .execute(p)
        .await
        .map(drop))
        .map_err(storage("cannot register this host"))?;
        let cluster = Arc::new(Cluster {
            db,
            node: node.to_owned(),
            started_at: now,
            duplicate: AtomicBool::new(false),
            live: RwLock::new(Arc::new(vec![node.to_owned()])),
        });
        cluster.refresh_live().await?;
        Ok(cluster)
    }

    /// This host's node id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The live hosts as last read, sorted.
    pub fn live(&self) -> Arc<Vec<String>> {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// True once a heartbeat found another live host registered with this host's node id.
    pub fn duplicate_id(&self) -> bool {
        self.duplicate.load(Ordering::Relaxed)
    }

    /// Writes this host's heartbeat, forgets long-gone hosts, and re-reads the live ones.
    pub async fn heartbeat(&self) -> Result<(), ClusterError> {
        let now = now_ms();
        // An upsert, not an update: if another host forgot this one (it looked gone), it
        // registers again, with its own start time.
        let registered: i64 = on_db!(&self.db, p => sqlx::query_scalar(
            "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at \
             RETURNING started_at",
        )
        .bind(&self.node)
        .bind(self.started_at)
        .bind(now)
        .fetch_one(p)
        .await)
        .map_err(storage("cannot write the heartbeat"))?;
        if registered != self.started_at {
            self.duplicate.store(true, Ordering::Relaxed);
            tracing::error!(
                alert = "duplicate_node_id",
                node = %self.node,
                "another live host registered with this host's state.nodeId: both take the same writes for their own; give each host its own nodeId"
            );
            crate::metrics::metrics()
                .alerts
                .get_or_create(&crate::metrics::AlertLabels {
                    hotel: String::new(),
                    kind: "duplicate_node_id",
                })
                .inc();
        }
        on_db!(&self.db, p => sqlx::query("DELETE FROM nodes WHERE heartbeat_at < $1")
            .bind(now.saturating_sub(ms(FORGET_AFTER)))
            .execute(p)
            .await
            .map(drop))
        .map_err(storage("cannot forget old hosts"))?;
        self.refresh_live().await
    }

    async fn refresh_live(&self) -> Result<(), ClusterError> {
        let since = now_ms().saturating_sub(ms(LIVE_FOR));
        let mut live: Vec<String> = on_db!(&self.db, p => sqlx::query_scalar(
            "SELECT id FROM nodes WHERE heartbeat_at >= $1 ORDER BY id",
        )
        .bind(since)
        .fetch_all(p)
        .await)
        .map_err(storage("cannot read the live hosts"))?;
        if !live.contains(&self.node) {
            live.push(self.node.clone());
            live.sort();
        }
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(live);
        Ok(())
    }

    /// Beats every [`HEARTBEAT`] until the cluster is dropped; failures are logged and this host
    /// keeps its last view of the others.
    pub fn spawn_heartbeat(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(cluster) = weak.upgrade() else {
                    break;
                };
                if let Err(e) = cluster.heartbeat().await {
                    tracing::warn!(error = %e, "cannot write this host's heartbeat");
                }
            }
        })
    }

    /// Removes this host's record (a clean stop), so the others take its hotels over at once.
    pub async fn leave(&self) {
        let removed = on_db!(&self.db, p => sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(&self.node)
            .execute(p)
            .await
            .map(drop));
        if let Err(e) = removed {
            tracing::warn!(error = %e, "cannot remove this host's cluster record");
        }
    }

    /// The live host that `key` (a hotel id) prefers: the highest rendezvous hash.
    pub fn preferred(&self, key: &str) -> String {
        let live = self.live();
        live.iter()
            .max_by_key(|node| rank(node, key))
            .cloned()
            .unwrap_or_else(|| self.node.clone())
    }

    /// What the record says of each stream of `hotel` (its last claimed fire).
    pub async fn last_runs(&self, hotel: &str) -> Result<Vec<LastRun>, ClusterError> {
        let rows: Vec<RunRow> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT stream, node, started_at, finished_at, outcome FROM sync_runs \
             WHERE hotel = $1 ORDER BY stream",
        )
        .bind(hotel)
        .fetch_all(p)
        .await)
        .map_err(storage("cannot read the sync record"))?;
        Ok(rows
            .into_iter()
            .map(|(stream, node, started, finished, outcome)| LastRun {
                stream,
                node,
                started_at: from_ms(started),
                finished_at: finished.map(from_ms),
                // An outcome this version cannot read is shown as none, not as an error.
                outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
            })
            .collect())
    }

    async fn try_claim(
        &self,
        hotel: &str,
        stream: StreamKind,
        fire: DateTime<Utc>,
    ) -> Result<Claim, ClusterError> {
        let won = on_db!(&self.db, p => sqlx::query(
            "INSERT INTO sync_runs (hotel, stream, fire_at, node, started_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (hotel, stream) DO UPDATE SET fire_at = excluded.fire_at, \
             node = excluded.node, started_at = excluded.started_at, finished_at = NULL, \
             outcome = NULL WHERE sync_runs.fire_at < excluded.fire_at",
        )
        .bind(hotel)
        .bind(stream.as_str())
        .bind(millis(fire))
        .bind(&self.node)
        .bind(now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .map_err(storage("cannot claim a sync fire"))?;
        if won == 1 {
            return Ok(Claim::Run);
        }
        let by: Option<String> = on_db!(&self.db, p => sqlx::query_scalar(
            "SELECT node FROM sync_runs WHERE hotel = $1 AND stream = $2",
        )
        .bind(hotel)
        .bind(stream.as_str())
        .fetch_optional(p)
        .await)
        .map_err(storage("cannot read a sync claim"))?;
        Ok(Claim::TakenBy(by.unwrap_or_default()))
    }
}

/// The rendezvous rank of `node` for `key`.
fn rank(node: &str, key: &str) -> u64 {
    stable_hash(node, key)
}

impl FireClaims for Cluster {
    fn node(&self) -> &str {
        &self.node
    }

    fn claim<'a>(
        &'a self,
        hotel: &'a str,
        stream: StreamKind,
        fire: DateTime<Utc>,
    ) -> BoxFuture<'a, Claim> {
        Box::pin(async move {
            if self.preferred(hotel) != self.node {
                tokio::time::sleep(FAILOVER_GRACE).await;
            }
            match self.try_claim(hotel, stream, fire).await {
                Ok(claim) => claim,
                Err(e) => {
                    // Running twice costs PMS reads; not running loses news.
                    tracing::warn!(%hotel, %stream, error = %e, "cannot claim a sync fire; running it here");
                    Claim::Run
                }
            }
        })
    }

    fn record<'a>(
        &'a self,
        hotel: &'a str,
        stream: StreamKind,
        fire: DateTime<Utc>,
        finished: DateTime<Utc>,
        outcome: &'a RunOutcome,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let text = serde_json::to_string(outcome).unwrap_or_default();
            let done = on_db!(&self.db, p => sqlx::query(
                "UPDATE sync_runs SET finished_at = $1, outcome = $2 \
                 WHERE hotel = $3 AND stream = $4 AND fire_at = $5 AND node = $6",
            )
            .bind(millis(finished))
            .bind(&text)
            .bind(hotel)
            .bind(stream.as_str())
            .bind(millis(fire))
            .bind(&self.node)
            .execute(p)
            .await
            .map(drop));
            if let Err(e) = done {
                tracing::warn!(%hotel, %stream, error = %e, "cannot record a sync run's outcome");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_spreads_hotels_and_moves_only_the_leavers_share() {
        let nodes = ["a", "b", "c"];
        let pick = |live: &[&str], hotel: &str| -> String {
            live.iter()
                .max_by_key(|n| rank(n, hotel))
                .map(|n| (*n).to_owned())
                .unwrap_or_default()
        };
        let hotels: Vec<String> = (0..300).map(|i| format!("H{i}")).collect();
        let mut counts = std::collections::BTreeMap::new();
        for h in &hotels {
            *counts.entry(pick(&nodes, h)).or_insert(0) += 1;
        }
        for n in nodes {
            let c = counts.get(n).copied().unwrap_or(0);
            assert!(
                (60..=140).contains(&c),
                "{n} prefers {c} of 300: {counts:?}"
            );
        }
        // Without `c`, hotels that preferred a or b still do.
        for h in &hotels {
            let before = pick(&nodes, h);
            if before != "c" {
                assert_eq!(pick(&["a", "b"], h), before);
            }
        }
    }

    #[tokio::test]
    async fn each_fire_is_claimed_once() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_sqlite(&dir.path().join("s.db")).await.expect("db");
        let a = Cluster::join(db.clone(), "a").await.expect("a");
        let b = Cluster::join(db.clone(), "b").await.expect("b");
        let fire = Utc::now();
        let first = a
            .try_claim("H1", StreamKind::Arrivals, fire)
            .await
            .expect("claim");
        let second = b
            .try_claim("H1", StreamKind::Arrivals, fire)
            .await
            .expect("claim");
        assert_eq!(first, Claim::Run);
        assert_eq!(second, Claim::TakenBy("a".into()));
        // The next fire is b's if b claims first; an old fire is nobody's.
        let next = fire + chrono::Duration::minutes(5);
        assert_eq!(
            b.try_claim("H1", StreamKind::Arrivals, next)
                .await
                .expect("claim"),
            Claim::Run
        );
        assert_eq!(
            a.try_claim("H1", StreamKind::Arrivals, fire)
                .await
                .expect("claim"),
            Claim::TakenBy("b".into())
        );
        b.record(
            "H1",
            StreamKind::Arrivals,
            next,
            Utc::now(),
            &RunOutcome::Ok {
                items: 3,
                events: 1,
            },
        )
        .await;
        let runs = a.last_runs("H1").await.expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].node, "b");
        assert_eq!(
            runs[0].outcome,
            Some(RunOutcome::Ok {
                items: 3,
                events: 1
            })
        );
        a.heartbeat().await.expect("beat");
        assert_eq!(*a.live(), ["a", "b"]);
        b.leave().await;
        a.heartbeat().await.expect("beat");
        assert_eq!(*a.live(), ["a"]);
    }

    #[tokio::test]
    async fn a_second_host_with_the_same_node_id_is_noticed() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_sqlite(&dir.path().join("s.db")).await.expect("db");
        let first = Cluster::join(db.clone(), "jack-a").await.expect("first");
        first.heartbeat().await.expect("beat");
        assert!(!first.duplicate_id(), "alone with its id");
        // Start times are milliseconds: make sure the second one's differs.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let copy = Cluster::join(db.clone(), "jack-a").await.expect("copy");
        first.heartbeat().await.expect("beat");
        assert!(
            first.duplicate_id(),
            "the first host sees another start time"
        );
        // A host that was forgotten while it looked gone registers again as itself.
        let other = Cluster::join(db.clone(), "jack-b").await.expect("other");
        on_db!(&db, p => sqlx::query("DELETE FROM nodes WHERE id = 'jack-b'").execute(p).await.map(drop))
            .expect("forget");
        other.heartbeat().await.expect("beat");
        assert!(!other.duplicate_id());
        drop(copy);
    }
}
