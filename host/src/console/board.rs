//! The Hotels page's figures, shared by everyone watching it: each PMS's health check is a
//! request to the PMS that counts against its rate limit, so it is asked at most once every
//! [`MAX_AGE`] whatever the number of open pages, a few hotels at a time.

use crate::service::{HotelHealth, HotelSummary, Service};
use futures_util::StreamExt as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How old a hotel's health answer may be before the page asks the PMS again.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Health checks running at once.
const IN_PARALLEL: usize = 8;

/// A health answer (or why there is none) and when it came.
type Checked = (Instant, Result<HotelHealth, String>);

/// The last health answer of each hotel.
pub struct HealthBoard {
    service: Arc<Service>,
    last: Mutex<HashMap<String, Checked>>,
    /// One refresh at a time: a second viewer waits for the first's answers.
    refreshing: tokio::sync::Mutex<()>,
}

impl HealthBoard {
    /// A board over `service`'s hotels.
    pub fn new(service: Arc<Service>) -> HealthBoard {
        HealthBoard {
            service,
            last: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Every hotel with its latest health (checked again where older than [`MAX_AGE`]).
    pub async fn hotels(&self) -> Vec<(HotelSummary, Result<HotelHealth, String>)> {
        let hotels = self.service.hotels();
        {
            let _one = self.refreshing.lock().await;
            let stale: Vec<String> = {
                let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
                hotels
                    .iter()
                    .filter(|h| last.get(&h.id).is_none_or(|(at, _)| at.elapsed() > MAX_AGE))
                    .map(|h| h.id.clone())
                    .collect()
            };
            let service = &self.service;
            let fresh: Vec<(String, Result<HotelHealth, String>)> =
                futures_util::stream::iter(stale)
                    .map(|id| async move {
                        let health = service.health(&id).await.map_err(|e| e.to_string());
                        (id, health)
                    })
                    .buffer_unordered(IN_PARALLEL)
                    .collect()
                    .await;
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            for (id, health) in fresh {
                last.insert(id, (Instant::now(), health));
            }
            // Hotels removed by a reload leave the board.
            last.retain(|id, _| hotels.iter().any(|h| &h.id == id));
        }
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        hotels
            .into_iter()
            .map(|h| {
                let health = last
                    .get(&h.id)
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| Err("not checked yet".into()));
                (h, health)
            })
            .collect()
    }
}
