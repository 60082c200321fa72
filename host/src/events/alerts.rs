//! The `pms_down` staff alert: a hotel's PMS unavailable for longer than the configured time.
//!
//! The change tracker records when a PMS stops answering (`pms.unavailable`) and when it
//! answers again (`pms.recovered`), once for the cluster. This watcher follows the event log
//! (every host's events reach it on PostgreSQL), keeps when each outage began, and raises one
//! `staff.alert` (`pms_down`) per outage once it has lasted long enough. Before raising it, it
//! looks in the log after the outage's start for the same alert, so that hosts watching
//! together raise it once (two hosts checking in the same instant may both raise it: an extra
//! alert, never a missed one).

use super::diff::ChangeEvent;
use super::log::{EventLog, StoredEvent};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often outages are checked against the threshold.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How far back the log is read at start (and after falling behind) for open outages.
const LOOK_BACK: i64 = 5_000;

/// An outage not yet over.
#[derive(Debug, Clone)]
struct Outage {
    /// When the PMS stopped answering.
    since: DateTime<Utc>,
    /// The `pms.unavailable` event's id: alerts for this outage come after it.
    event_id: i64,
    /// The alert was raised (by this host or another).
    alerted: bool,
}

/// Raises `pms_down` alerts from the event log.
pub struct PmsDownWatch {
    log: Arc<EventLog>,
    after: Duration,
    open: HashMap<String, Outage>,
}

impl PmsDownWatch {
    /// A watcher raising an alert for outages longer than `after`.
    pub fn new(log: Arc<EventLog>, after: Duration) -> PmsDownWatch {
        PmsDownWatch {
            log,
            after,
            open: HashMap::new(),
        }
    }

    /// Runs until `shutdown` resolves.
    pub fn spawn(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            tokio::select! {
                () = self.run() => {}
                () = shutdown => {}
            }
        })
    }

    async fn run(&mut self) {
        let mut rx = self.log.subscribe();
        self.catch_up().await;
        let mut tick = tokio::time::interval(CHECK_EVERY);
        loop {
            tokio::select! {
                received = rx.recv() => match received {
                    Ok(ev) => self.see(&ev),
                    Err(RecvError::Lagged(_)) => self.catch_up().await,
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => self.check().await,
            }
        }
    }

    /// Rebuilds the open outages from the log's recent events.
    async fn catch_up(&mut self) {
        let last = match self.log.last_id().await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "pms_down alerts: cannot read the event log");
                return;
            }
        };
        let mut after = last.saturating_sub(LOOK_BACK).max(0);
        self.open.clear();
        while after < last {
            let page = match self.log.since(after, 1_000).await {
                Ok(page) if !page.is_empty() => page,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "pms_down alerts: cannot read the event log");
                    return;
                }
            };
            let before = after;
            for ev in &page {
                self.see(ev);
                after = after.max(ev.seq());
            }
            if after == before {
                break;
            }
        }
    }

    /// Follows one event.
    fn see(&mut self, ev: &StoredEvent) {
        match ev.kind.as_str() {
            "pms.unavailable" => {
                let since = DateTime::parse_from_rfc3339(&ev.occurred_at)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|_| Utc::now());
                self.open.entry(ev.hotel.clone()).or_insert(Outage {
                    since,
                    event_id: ev.seq(),
                    alerted: false,
                });
            }
            "pms.recovered" => {
                self.open.remove(&ev.hotel);
            }
            "staff.alert" if ev.data.get("alert").and_then(|a| a.as_str()) == Some("pms_down") => {
                if let Some(o) = self.open.get_mut(&ev.hotel) {
                    o.alerted = true;
                }
            }
            _ => {}
        }
    }

    /// Raises the alert of every outage that has lasted long enough.
    async fn check(&mut self) {
        let now = Utc::now();
        let after = chrono::Duration::from_std(self.after).unwrap_or(chrono::Duration::MAX);
        let due: Vec<(String, Outage)> = self
            .open
            .iter()
            .filter(|(_, o)| !o.alerted && now.signed_duration_since(o.since) >= after)
            .map(|(h, o)| (h.clone(), o.clone()))
            .collect();
        for (hotel, outage) in due {
            if self.raised_since(&hotel, outage.event_id).await {
                if let Some(o) = self.open.get_mut(&hotel) {
                    o.alerted = true;
                }
                continue;
            }
            let minutes = now.signed_duration_since(outage.since).num_minutes();
            let message = format!(
                "the PMS has been unavailable since {} ({minutes} min)",
                outage.since.format("%Y-%m-%d %H:%M UTC")
            );
            let event = ChangeEvent::staff_alert(&hotel, now, "pms_down", &message, None);
            match self.log.append(vec![event]).await {
                Ok(_) => {
                    tracing::error!(alert = "pms_down", %hotel, minutes, "staff alert");
                    crate::metrics::metrics()
                        .alerts
                        .get_or_create(&crate::metrics::AlertLabels {
                            hotel: hotel.clone(),
                            kind: "pms_down",
                        })
                        .inc();
                    if let Some(o) = self.open.get_mut(&hotel) {
                        o.alerted = true;
                    }
                }
                Err(e) => tracing::warn!(error = %e, %hotel, "cannot record a pms_down alert"),
            }
        }
    }

    /// True when another host already raised this outage's alert.
    async fn raised_since(&self, hotel: &str, event_id: i64) -> bool {
        let mut after = event_id;
        loop {
            let page = match self.log.since(after, 1_000).await {
                Ok(page) => page,
                Err(_) => return false,
            };
            if page.is_empty() {
                return false;
            }
            let before = after;
            for ev in &page {
                if ev.hotel == hotel
                    && ev.kind == "staff.alert"
                    && ev.data.get("alert").and_then(|a| a.as_str()) == Some("pms_down")
                {
                    return true;
                }
                after = after.max(ev.seq());
            }
            if after == before {
                return false;
            }
        }
    }
}
