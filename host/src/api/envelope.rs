//! The `{ "data": …, "meta": … }` envelope of every read.

use crate::service::{Meta, Read};
use serde::Serialize;

/// A read answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    /// The data.
    pub data: T,
    /// Where it came from and how fresh it is.
    pub meta: Meta,
}

impl<T> From<Read<T>> for Envelope<T> {
    fn from(r: Read<T>) -> Envelope<T> {
        Envelope {
            data: r.data,
            meta: r.meta,
        }
    }
}
