//! Vendor webhooks in (`POST /v1/webhooks/{hotel}/{vendor}`): Mews' general webhooks say which
//! entities changed (ids only). They are hints: the host forgets the affected cached reads and
//! runs the matching sync streams now, so Jack hears of the change in seconds instead of at the
//! next 5-minute poll, which stays as the reconciliation.

use super::{Service, ServiceError};
use crate::cache::Kind;
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

/// What the host did with a vendor webhook.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookReceipt {
    /// Events in the message.
    pub events: usize,
    /// Events of kinds the host does not act on.
    pub ignored: usize,
    /// Sync streams refreshed now.
    pub refreshing: Vec<StreamKind>,
}

impl Service {
    /// Checks and acts on a vendor webhook for `hotel` (see the module docs). The token is the
    /// shared secret of the hotel's `inboundWebhook` config.
    pub fn vendor_webhook(
        self: &Arc<Self>,
        hotel: &str,
        vendor: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<WebhookReceipt, ServiceError> {
        let binding = self.binding(hotel)?;
        let expected_vendor = &binding.adapter.manifest.vendor;
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
        let settings = &self.hotels[hotel].settings;
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
        let mut ignored = 0;
        for event in &payload.events {
            let (kind, refresh): (Kind, &[StreamKind]) = match event.discriminator.as_str() {
                "ServiceOrderUpdated" => (
                    Kind::Reservation,
                    &[
                        StreamKind::Arrivals,
                        StreamKind::Departures,
                        StreamKind::InHouse,
                    ],
                ),
                "PaymentUpdated" => (Kind::Reservation, &[]),
                "ResourceUpdated" | "ResourceBlockUpdated" => {
                    (Kind::Room, &[StreamKind::RoomStatus])
                }
                "CustomerAdded" | "CustomerUpdated" => (Kind::Guest, &[]),
                _ => {
                    ignored += 1;
                    continue;
                }
            };
            self.cache.invalidate_kind(hotel, kind);
            streams.extend(refresh.iter().copied());
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
            refreshing,
        })
    }
}
