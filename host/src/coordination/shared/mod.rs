//! Coordination shared by several hosts through Redis (`coordination.redis`): the same traits
//! as the in-process default, each implemented over one [`link::Link`] that knows whether Redis
//! answers, with the in-process implementation as each part's fallback while it does not.
//!
//! What a request costs in round trips to Redis, when nothing is waiting or failing:
//! - a read answered from this host's cache: none;
//! - a read that misses here: one lookup in the shared level, and, when that misses too, one
//!   rate-limit admission per request to the PMS and one store of the result (the OAuth token
//!   is read only when this host's copy is due);
//! - a write: one check that writes are not held, one admission per request, and one
//!   invalidation (which also tells the other hosts).

pub mod breakers;
pub mod bus;
pub mod cache;
pub mod limits;
pub mod link;
pub mod outages;
pub mod scratch;
pub mod tokens;

#[cfg(test)]
mod tests;
