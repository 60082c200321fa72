//! Vendor webhooks in (`POST /v1/webhooks/{hotel}/{vendor}`): Mews' general webhooks say which
//! entities changed (ids only). They are hints: the host forgets the affected cached reads and
//! runs the matching sync streams now, so Jack hears of the change in seconds instead of at the
//! next 5-minute poll, which stays as the reconciliation.

use super::{Service, ServiceError};
use crate::cache::{Invalidation, Kind};
use crate::config::SecretRef;
use crate::sync::StreamKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Mews' general webhook payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MewsPayload {
    #[serde(default)]
    events: Vec<MewsEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MewsEvent {
    discriminator: String,
    #[allow(dead_code)]
    value: serde_json::Value,
}

/// Which cached reads a vendor event makes stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Forget {
    /// Guest profiles and searches.
    Guests,
    /// Reservations, their lists and balances.
    Reservations,
    /// Balances only.
    Balances,
    /// Room statuses.
    Rooms,
}

/// What the host does for one kind of Mews general-webhook event (NOTES §2.7: the payload
/// carries ids only, and they are Mews' internal ids, not the confirmation numbers and room
/// numbers the cache is keyed by, so a whole kind is forgotten).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventAction {
    /// Cached reads to forget.
    pub forget: &'static [Forget],
    /// Sync streams to run now, so that change events reach Jack in seconds.
    pub refresh: &'static [StreamKind],
}

/// The action for Mews event `discriminator`, or `None` for kinds the host does not act on
/// (`MessageAdded`: Jack reads no Mews messages).
pub fn mews_event_action(discriminator: &str) -> Option<EventAction> {
    use StreamKind::*;
    Some(match discriminator {
        // A reservation (service order) changed: state, dates, room, persons.
        "ServiceOrderUpdated" => EventAction {
            forget: &[Forget::Reservations],
            refresh: &[Arrivals, Departures, InHouse],
        },
        // A room's housekeeping state or its blocks (out of order) changed.
        "ResourceUpdated" | "ResourceBlockUpdated" => EventAction {
            forget: &[Forget::Rooms],
            refresh: &[RoomStatus],
        },
        // A new customer can match searches and e-mail lookups that found nothing before.
        "CustomerAdded" => EventAction {
            forget: &[Forget::Guests],
            refresh: &[],
        },
        // Profiles, and the guest names reservation reads carry; names surface in the
        // reservation streams at their next poll (customer edits are too frequent to re-run
        // three streams for each).
        "CustomerUpdated" => EventAction {
            forget: &[Forget::Guests, Forget::Reservations],
            refresh: &[],
        },
        // A payment moves balances only.
        "PaymentUpdated" => EventAction {
            forget: &[Forget::Balances],
            refresh: &[],
        },
        _ => return None,
    })
}

/// What the host did with a vendor webhook.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookReceipt {
    /// Events in the message.
    pub events: usize,
    /// Events of kinds the host does not act on.
    pub ignored: usize,
    /// Cached reads forgotten.
    pub invalidated: Vec<Forget>,
    /// Sync streams refreshed now.
    pub refreshing: Vec<StreamKind>,
}

impl Service {
    /// Checks and acts on a vendor webhook for `hotel` (see the module docs). The token is the
    /// shared secret of the hotel's `inboundWebhook` config.
    pub async fn vendor_webhook(
        self: &Arc<Self>,
        hotel: &str,
        vendor: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<WebhookReceipt, ServiceError> {
        let bound = self.hotels.resolve(hotel)?;
        let expected_vendor = &bound.binding().adapter.manifest.vendor;
        // Mews' general webhook format is the only one parsed so far; the mock PMS's simulated
        // webhooks use it too, so this path is exercised end to end without a Mews account.
        if !matches!(vendor, "mews" | "mock") {
            return Err(ServiceError::NotFound(format!(
                "no inbound webhooks for vendor `{vendor}` (supported: mews)"
            )));
        }
        if vendor != expected_vendor {
            return Err(ServiceError::NotFound(format!(
                "hotel `{hotel}` uses vendor `{expected_vendor}`, not `{vendor}`"
            )));
        }
        let settings = bound.settings();
        let Some(reference) = &settings.inbound_webhook_token else {
            return Err(ServiceError::NotFound(format!(
                "hotel `{hotel}` has no inbound webhook configured (hotels[].inboundWebhook)"
            )));
        };
        let expected = match reference {
            SecretRef::Env(var) => crate::vault::read_env(hotel, "inboundWebhook.token", var)
                .map_err(|e| ServiceError::Unauthorized(e.to_string()))?,
            SecretRef::Vault(name) => self
                .secrets
                .get(hotel, name)
                .map_err(|e| ServiceError::Unauthorized(e.to_string()))?,
        };
        // Compare digests, so the time taken says nothing about how much of the token matched.
        let given = Sha256::digest(token.unwrap_or("").as_bytes());
        if token.is_none() || given != Sha256::digest(expected.expose().as_bytes()) {
            tracing::warn!(%hotel, %vendor, "vendor webhook with a wrong or missing token refused");
            return Err(ServiceError::Unauthorized(
                "the webhook's token is missing or wrong".into(),
            ));
        }
        let payload: MewsPayload = serde_json::from_slice(body).map_err(|e| {
            ServiceError::BadInput(format!("not a Mews general webhook payload: {e}"))
        })?;
        let mut streams = BTreeSet::new();
        let mut forget = BTreeSet::new();
        let mut ignored = 0;
        for event in &payload.events {
            match mews_event_action(&event.discriminator) {
                Some(action) => {
                    forget.extend(action.forget.iter().copied());
                    streams.extend(action.refresh.iter().copied());
                }
                None => ignored += 1,
            }
        }
        // Once per kind, however many events the message carries (Mews sends hundreds).
        for what in &forget {
            let what = match what {
                Forget::Guests => Invalidation::Of { of: Kind::Guest },
                Forget::Reservations => Invalidation::Of {
                    of: Kind::Reservation,
                },
                Forget::Balances => Invalidation::Balances,
                Forget::Rooms => Invalidation::Of { of: Kind::Room },
            };
            self.reads.cache().invalidate(hotel, &what).await;
        }
        let refreshing: Vec<StreamKind> = streams.into_iter().collect();
        if let Some(scheduler) = self.scheduler.get() {
            for stream in refreshing.iter().copied() {
                let (scheduler, hotel) = (scheduler.clone(), hotel.to_owned());
                tokio::spawn(async move {
                    // A run already in progress will see the change; "busy" is fine.
                    if let Err(e) = scheduler.run_now(&hotel, stream).await {
                        tracing::debug!(%hotel, %stream, error = %e, "webhook refresh skipped");
                    }
                });
            }
        }
        tracing::info!(%hotel, %vendor, events = payload.events.len(), ignored, "vendor webhook accepted");
        Ok(WebhookReceipt {
            events: payload.events.len(),
            ignored,
            invalidated: forget.into_iter().collect(),
            refreshing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mews_events_map_to_invalidation_and_refresh() {
        let so = mews_event_action("ServiceOrderUpdated").unwrap();
        assert_eq!(so.forget, &[Forget::Reservations]);
        assert_eq!(
            so.refresh,
            &[
                StreamKind::Arrivals,
                StreamKind::Departures,
                StreamKind::InHouse
            ]
        );
        for room in ["ResourceUpdated", "ResourceBlockUpdated"] {
            let a = mews_event_action(room).unwrap();
            assert_eq!(
                (a.forget, a.refresh),
                (&[Forget::Rooms][..], &[StreamKind::RoomStatus][..])
            );
        }
        assert_eq!(
            mews_event_action("PaymentUpdated").unwrap().forget,
            &[Forget::Balances]
        );
        assert!(
            mews_event_action("CustomerUpdated")
                .unwrap()
                .forget
                .contains(&Forget::Reservations)
        );
        assert!(
            mews_event_action("CustomerAdded")
                .unwrap()
                .refresh
                .is_empty()
        );
        assert_eq!(mews_event_action("MessageAdded"), None);
        assert_eq!(mews_event_action("SomethingNew"), None);
    }
}
