//! Glue between sync runs and the event log: keeps each hotel's [`HotelSnapshot`] (in memory and
//! in table `sync_snapshots(hotel TEXT PRIMARY KEY, snapshot BLOB)`), diffs every run against
//! it, appends the events, and turns run failures into `pms.unavailable` / `pms.recovered`.
//!
//! Snapshots are stored as plain JSON: by construction they hold confirmation numbers, hashes,
//! statuses and room numbers only (see [`super::diff`]), no personal data.
//!
//! Order on each run: events are appended first, then the snapshot is saved. A crash in between
//! repeats those events after restart (at-least-once) instead of losing them.
//!
//! **Several hosts.** On PostgreSQL another host may have run the hotel's other streams (or this
//! one) since this host last looked, so each run diffs against the stored snapshot, read with
//! its row locked (`FOR UPDATE`) for the whole run: two hosts running two streams of one hotel
//! at once take turns instead of each overwriting the other's part. On SQLite one host owns the
//! file and the in-memory copy is the stored one.

use super::diff::{ChangeEvent, HotelSnapshot, SyncItems};
use super::log::{EventLog, EventLogError, StoredEvent};
use crate::db::Db;
use crate::on_db;
use crate::outage::PmsOutages;
use crate::report::StreamKind;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// See the module docs.
pub struct ChangeTracker {
    log: Arc<EventLog>,
    /// One lock per hotel, so two streams of a hotel never diff against the same snapshot at
    /// once (one would overwrite the other's update), while hotels proceed in parallel.
    hotels: std::sync::Mutex<HashMap<String, Arc<Mutex<HotelSnapshot>>>>,
    /// Which hotels' outages are reported (shared with the write path, and with other hosts
    /// where the coordination is shared).
    outages: Arc<dyn PmsOutages>,
}

impl std::fmt::Debug for ChangeTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeTracker").finish_non_exhaustive()
    }
}

fn storage(context: &'static str) -> impl FnOnce(sqlx::Error) -> EventLogError {
    move |source| EventLogError::Storage { context, source }
}

impl ChangeTracker {
    /// Loads every stored snapshot; `outages` decides which run reports an outage and its end.
    pub async fn new(
        log: Arc<EventLog>,
        outages: Arc<dyn PmsOutages>,
    ) -> Result<ChangeTracker, EventLogError> {
        let rows: Vec<(String, Vec<u8>)> = on_db!(log.db(), p => sqlx::query_as(
            "SELECT hotel, snapshot FROM sync_snapshots",
        )
        .fetch_all(p)
        .await)
        .map_err(storage("cannot read the snapshots"))?;
        let mut hotels = HashMap::new();
        for (hotel, bytes) in rows {
            let snap = parse_snapshot(&hotel, &bytes);
            hotels.insert(hotel, Arc::new(Mutex::new(snap)));
        }
        Ok(ChangeTracker {
            log,
            hotels: std::sync::Mutex::new(hotels),
            outages,
        })
    }

    /// The log events go to.
    pub fn log(&self) -> &Arc<EventLog> {
        &self.log
    }

    fn hotel(&self, hotel: &str) -> Arc<Mutex<HotelSnapshot>> {
        // A poisoned map only means another thread panicked mid-insert; the map is still sound.
        let mut map = self
            .hotels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(hotel.to_owned()).or_default().clone()
    }

    /// Records a successful run: `pms.recovered` if the hotel was unavailable, then the diff's
    /// events. Returns the appended events.
    pub async fn observe(
        &self,
        hotel: &str,
        stream: StreamKind,
        items: &SyncItems,
        at: DateTime<Utc>,
    ) -> Result<Vec<Arc<StoredEvent>>, EventLogError> {
        let slot = self.hotel(hotel);
        let mut snap = slot.lock().await;
        let mut shared = match self.log.db() {
            Db::Postgres(pool) => {
                let (tx, stored) = lock_snapshot(pool, hotel).await?;
                *snap = stored;
                Some(tx)
            }
            Db::Sqlite(_) => None,
        };
        let mut events = Vec::new();
        if self.outages.set_reported(hotel, false).await {
            events.push(ChangeEvent::pms_health(hotel, at, true, None));
        }
        let mut next = snap.clone();
        events.extend(next.apply(hotel, stream, items, at));
        let stored = match &mut shared {
            // In the transaction that holds the snapshot: no second connection per run.
            Some(tx) => self.log.append_in(tx, events).await?,
            None => self.log.append(events).await?,
        };
        let bytes = serde_json::to_vec(&next)?;
        let save = "INSERT INTO sync_snapshots (hotel, snapshot) VALUES ($1, $2) \
                    ON CONFLICT (hotel) DO UPDATE SET snapshot = excluded.snapshot";
        match (&mut shared, self.log.db()) {
            (Some(tx), _) => sqlx::query(save)
                .bind(hotel)
                .bind(&bytes)
                .execute(&mut **tx)
                .await
                .map(drop),
            (None, db) => on_db!(db, p => sqlx::query(save)
                .bind(hotel)
                .bind(&bytes)
                .execute(p)
                .await
                .map(drop)),
        }
        .map_err(storage("cannot save a snapshot"))?;
        if let Some(tx) = shared {
            tx.commit()
                .await
                .map_err(storage("cannot save a snapshot"))?;
        }
        *snap = next;
        Ok(stored)
    }

    /// Reservations `stream` of `hotel` saw last time that are not in `items` and were still
    /// live then: a run looks them up one by one to learn whether they were cancelled (arrival
    /// and departure lists leave cancelled and no-show stays out). See
    /// [`HotelSnapshot::vanished`].
    pub async fn vanished(
        &self,
        hotel: &str,
        stream: StreamKind,
        items: &SyncItems,
    ) -> Vec<String> {
        let slot = self.hotel(hotel);
        let mut snap = slot.lock().await;
        if let Db::Postgres(pool) = self.log.db() {
            // Another host may have run this stream last.
            match read_snapshot(pool, hotel).await {
                Ok(stored) => *snap = stored,
                Err(e) => tracing::warn!(%hotel, error = %e, "cannot read the stored snapshot"),
            }
        }
        snap.vanished(stream, items)
    }

    /// Records a failed run; the first failure with `unavailable` set after success gives
    /// `pms.unavailable` (one per outage, not one per stream and run).
    pub async fn failed(
        &self,
        hotel: &str,
        unavailable: bool,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Arc<StoredEvent>>, EventLogError> {
        if !unavailable || !self.outages.set_reported(hotel, true).await {
            return Ok(Vec::new());
        }
        self.log
            .append(vec![ChangeEvent::pms_health(
                hotel,
                at,
                false,
                Some(detail),
            )])
            .await
    }

    /// Records that the hotel's PMS answered outside a sync run (a write went through): gives
    /// `pms.recovered` if it was unavailable.
    pub async fn recovered(
        &self,
        hotel: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Arc<StoredEvent>>, EventLogError> {
        if !self.outages.set_reported(hotel, false).await {
            return Ok(Vec::new());
        }
        self.log
            .append(vec![ChangeEvent::pms_health(hotel, at, true, None)])
            .await
    }
}

/// Opens a transaction holding the row of `hotel`'s snapshot (created empty if missing) and
/// returns it with the stored snapshot.
async fn lock_snapshot(
    pool: &sqlx::PgPool,
    hotel: &str,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, HotelSnapshot), EventLogError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(storage("cannot lock a snapshot"))?;
    let empty = serde_json::to_vec(&HotelSnapshot::default())?;
    sqlx::query(
        "INSERT INTO sync_snapshots (hotel, snapshot) VALUES ($1, $2) ON CONFLICT (hotel) DO NOTHING",
    )
    .bind(hotel)
    .bind(&empty)
    .execute(&mut *tx)
    .await
    .map_err(storage("cannot lock a snapshot"))?;
    let bytes: Vec<u8> =
        sqlx::query_scalar("SELECT snapshot FROM sync_snapshots WHERE hotel = $1 FOR UPDATE")
            .bind(hotel)
            .fetch_one(&mut *tx)
            .await
            .map_err(storage("cannot lock a snapshot"))?;
    Ok((tx, parse_snapshot(hotel, &bytes)))
}

/// The stored snapshot of `hotel` (empty if none).
async fn read_snapshot(pool: &sqlx::PgPool, hotel: &str) -> Result<HotelSnapshot, EventLogError> {
    let bytes: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT snapshot FROM sync_snapshots WHERE hotel = $1")
            .bind(hotel)
            .fetch_optional(pool)
            .await
            .map_err(storage("cannot read a snapshot"))?;
    Ok(bytes.map_or_else(HotelSnapshot::default, |b| parse_snapshot(hotel, &b)))
}

/// A stored snapshot; an unreadable one costs one baseline run, not the service.
fn parse_snapshot(hotel: &str, bytes: &[u8]) -> HotelSnapshot {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        tracing::warn!(%hotel, error = %e, "unreadable sync snapshot; starting a new baseline");
        HotelSnapshot::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::log::tests::temp_log;
    use crate::model::{Housekeeping, RoomStatus};

    fn rooms(hk: Housekeeping) -> SyncItems {
        SyncItems::Rooms(vec![RoomStatus {
            room_number: "101".into(),
            housekeeping: hk,
            occupied: None,
            updated_at: None,
        }])
    }

    #[tokio::test]
    async fn snapshots_survive_restart_and_health_events_once() {
        let (dir, log) = temp_log(1000).await;
        let outages: Arc<dyn PmsOutages> = Arc::new(crate::outage::LocalOutages::default());
        let now = Utc::now();
        let tracker = ChangeTracker::new(log.clone(), outages.clone())
            .await
            .expect("tracker");
        let base = tracker
            .observe(
                "h1",
                StreamKind::RoomStatus,
                &rooms(Housekeeping::Dirty),
                now,
            )
            .await
            .expect("observe");
        assert!(base.is_empty());
        drop(tracker);

        let tracker = ChangeTracker::new(log.clone(), outages.clone())
            .await
            .expect("tracker");
        let down1 = tracker.failed("h1", true, "timeout", now).await.expect("f");
        let down2 = tracker.failed("h1", true, "timeout", now).await.expect("f");
        assert_eq!(down1.len(), 1);
        assert_eq!(down1[0].kind, "pms.unavailable");
        assert!(down2.is_empty());
        let ev = tracker
            .observe(
                "h1",
                StreamKind::RoomStatus,
                &rooms(Housekeeping::Clean),
                now,
            )
            .await
            .expect("observe");
        let kinds: Vec<_> = ev.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["pms.recovered", "room.status_changed"]);
        drop(dir);
    }
}
