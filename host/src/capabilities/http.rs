//! The `http` import: counts requests against the per-call cap and hands each to the egress
//! pipeline, which does every policy check. This module never sees a secret.

use crate::egress::{
    Destination, Egress, EgressError, InboundResponse, OutboundRequest, SendOptions,
};
use std::sync::Arc;

/// Why the host did not deliver a response (the WIT `http-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The per-call request cap was reached.
    RequestLimitExceeded(u32),
    /// The egress pipeline refused or failed.
    Egress(EgressError),
}

/// Per-call context.
pub struct Ctx {
    /// The shared pipeline.
    pub egress: Arc<Egress>,
    /// Where this adapter may go for this hotel, with which credentials.
    pub destination: Arc<Destination>,
    /// Requests sent in this call.
    pub sent: u32,
    /// Requests allowed in this call.
    pub max_requests: u32,
    /// Response cap, deadline and whether the call is a read.
    pub options: SendOptions,
}

impl Ctx {
    /// Sends one request for the guest.
    pub async fn send(&mut self, request: OutboundRequest) -> Result<InboundResponse, SendError> {
        if self.sent >= self.max_requests {
            tracing::warn!(
                adapter = %self.destination.adapter,
                hotel = %self.destination.hotel,
                "adapter exceeded its limit of {} outbound requests in one call",
                self.max_requests
            );
            return Err(SendError::RequestLimitExceeded(self.max_requests));
        }
        self.sent += 1;
        let method = request.method.as_str();
        // The query may carry guest data (a search by e-mail): log the path only.
        let url = request
            .url
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let result = self
            .egress
            .send(&self.destination, request, self.options)
            .await;
        match &result {
            Ok(r) => {
                tracing::debug!(adapter = %self.destination.adapter, hotel = %self.destination.hotel, %method, %url, status = r.status, "outbound request")
            }
            Err(e) => {
                tracing::warn!(adapter = %self.destination.adapter, hotel = %self.destination.hotel, %method, %url, error = %e, "outbound request failed")
            }
        }
        result.map_err(SendError::Egress)
    }
}
