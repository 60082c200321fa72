//! Following a vendor's pagination to the end: by offset (OHIP `offset`/`limit`/`hasMore`), by
//! page number (Cloudbeds `pageNumber`/`pageSize`), or by cursor (Mews `Cursor`).
//!
//! Each helper calls your closure for one page at a time and concatenates the items. None of
//! them stops silently: a vendor that keeps announcing more pages past `max_pages` gets an
//! `internal` error naming the limit, never a truncated list that looks complete.
//!
//! ```
//! use jack_pms_sdk::paging::{self, Page};
//!
//! // A vendor with 5 items served 2 at a time by offset.
//! let items: Vec<u32> = (1..=5).collect();
//! let all = paging::by_offset(2, 100, |offset, limit| {
//!     let page: Vec<u32> = items.iter().copied().skip(offset).take(limit).collect();
//!     Ok(Page { more: offset + page.len() < items.len(), items: page })
//! })
//! .unwrap();
//! assert_eq!(all, items);
//! ```

use crate::PmsError;

/// One page: its items and whether the vendor says more follow.
///
/// ```
/// use jack_pms_sdk::paging::Page;
///
/// // From a vendor's `{ "data": [...], "hasMore": true }`.
/// let body = serde_json::json!({ "data": ["R1", "R2"], "hasMore": true });
/// let page = Page {
///     items: body["data"].as_array().cloned().unwrap_or_default(),
///     more: body["hasMore"].as_bool().unwrap_or(false),
/// };
/// assert_eq!((page.items.len(), page.more), (2, true));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// True when another page follows.
    pub more: bool,
}

fn endless(max_pages: usize) -> PmsError {
    PmsError::Internal(format!(
        "the PMS still announced more results after {max_pages} pages; stopping rather than returning a partial list"
    ))
}

/// Pages by offset: `fetch(offset, limit)` for offsets 0, n, 2n … where n is the size of each
/// page received, until a page says no more (or comes back empty).
///
/// ```
/// use jack_pms_sdk::prelude::*;
/// use jack_pms_sdk::paging::{self, Page};
/// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
/// use serde_json::json;
///
/// fn all_rooms() -> Result<Vec<serde_json::Value>, PmsError> {
///     paging::by_offset(50, 100, |offset, limit| {
///         let body: serde_json::Value = Request::get("https://pms.example/rooms")
///             .query("offset", offset.to_string())
///             .query("limit", limit.to_string())
///             .send()?
///             .error_for_status()?
///             .json()?;
///         let items = body["rooms"].as_array().cloned().ok_or_else(|| internal("no `rooms` in a page"))?;
///         Ok(Page { items, more: body["hasMore"] == true })
///     })
/// }
///
/// let pms = Harness::new()
///     .exchange(Exchange::json("GET", "/rooms", 200, json!({"rooms": [{"n": 101}, {"n": 102}], "hasMore": true})).with_query("offset", "0"))
///     .exchange(Exchange::json("GET", "/rooms", 200, json!({"rooms": [{"n": 103}], "hasMore": false})).with_query("offset", "2"));
/// assert_eq!(pms.run(all_rooms)?.len(), 3);
/// # Ok::<(), PmsError>(())
/// ```
pub fn by_offset<T>(
    limit: usize,
    max_pages: usize,
    mut fetch: impl FnMut(usize, usize) -> Result<Page<T>, PmsError>,
) -> Result<Vec<T>, PmsError> {
    let mut all = Vec::new();
    for _ in 0..max_pages {
        let page = fetch(all.len(), limit)?;
        let received = page.items.len();
        all.extend(page.items);
        if !page.more || received == 0 {
            return Ok(all);
        }
    }
    Err(endless(max_pages))
}

/// Pages by number: `fetch(page)` for pages 1, 2, 3 … until a page says no more.
///
/// ```
/// use jack_pms_sdk::paging::{self, Page};
///
/// let all = paging::by_page_number(10, |n| Ok(Page { items: vec![n], more: n < 3 })).unwrap();
/// assert_eq!(all, vec![1, 2, 3]);
/// ```
pub fn by_page_number<T>(
    max_pages: usize,
    mut fetch: impl FnMut(u32) -> Result<Page<T>, PmsError>,
) -> Result<Vec<T>, PmsError> {
    let mut all = Vec::new();
    for number in 1..=max_pages {
        let page = fetch(u32::try_from(number).unwrap_or(u32::MAX))?;
        let received = page.items.len();
        all.extend(page.items);
        if !page.more || received == 0 {
            return Ok(all);
        }
    }
    Err(endless(max_pages))
}

/// Pages by cursor: `fetch(None)` first, then `fetch(Some(cursor))` with the cursor each page
/// returned, until a page returns no cursor. A cursor that repeats is an error (the vendor would
/// loop forever).
///
/// ```
/// use jack_pms_sdk::paging;
///
/// let all = paging::by_cursor(10, |cursor| {
///     Ok(match cursor.as_deref() {
///         None => (vec!["a", "b"], Some("c1".to_string())),
///         Some("c1") => (vec!["c"], None),
///         Some(_) => (vec![], None),
///     })
/// })
/// .unwrap();
/// assert_eq!(all, vec!["a", "b", "c"]);
/// ```
pub fn by_cursor<T>(
    max_pages: usize,
    mut fetch: impl FnMut(Option<String>) -> Result<(Vec<T>, Option<String>), PmsError>,
) -> Result<Vec<T>, PmsError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let (items, next) = fetch(cursor.clone())?;
        let received = items.len();
        all.extend(items);
        match next {
            None => return Ok(all),
            Some(_) if received == 0 => return Ok(all),
            Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                return Err(PmsError::Internal(format!(
                    "the PMS returned the cursor `{next}` twice in a row; stopping"
                )));
            }
            Some(next) => cursor = Some(next),
        }
    }
    Err(endless(max_pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_stops_silently() {
        let e = by_page_number(3, |n| {
            Ok(Page {
                items: vec![n],
                more: true,
            })
        })
        .unwrap_err();
        assert!(matches!(e, PmsError::Internal(m) if m.contains("3 pages")));
        let e = by_cursor(5, |_| Ok((vec![1], Some("same".to_string())))).unwrap_err();
        assert!(matches!(e, PmsError::Internal(m) if m.contains("twice")));
        let e = by_offset(1, 2, |_, _| {
            Ok(Page {
                items: vec![1],
                more: true,
            })
        })
        .unwrap_err();
        assert!(matches!(e, PmsError::Internal(_)));
    }

    #[test]
    fn errors_of_a_page_pass_through() {
        let e = by_offset(10, 10, |offset, _| {
            if offset == 0 {
                Ok(Page {
                    items: vec![1; 10],
                    more: true,
                })
            } else {
                Err(PmsError::RateLimited(Some(1000)))
            }
        })
        .unwrap_err();
        assert_eq!(e, PmsError::RateLimited(Some(1000)));
    }
}
