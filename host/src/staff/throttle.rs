//! Login throttling: a few tries per account name and per client address, then a wait that
//! doubles, so that guessing passwords online is slow while a person who mistyped is not locked
//! out for long. Kept per host (a cluster allows each host's share; the Argon2 cost bounds the
//! rest).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed before waits begin.
const FREE_FAILURES: u32 = 5;
/// The first wait; each further failure doubles it, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(2);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Keys tracked at most: beyond it the oldest entries are dropped (a flood of made-up names
/// must not grow memory without bound).
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failed logins by account name and by address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    by_key: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// How long `name` from `addr` must still wait before trying again, if at all.
    pub fn wait(&self, name: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        keys(name, addr)
            .iter()
            .filter_map(|k| map.get(k))
            .filter_map(|f| {
                let wait = wait_after(f.count)?;
                wait.checked_sub(f.last.elapsed())
            })
            .max()
    }

    /// Records a failed login.
    pub fn failed(&self, name: &str, addr: Option<IpAddr>) {
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            // Drop those whose wait is over; if all are live, the oldest half.
            map.retain(|_, f| wait_after(f.count).is_some_and(|w| f.last.elapsed() < w));
            if map.len() >= MAX_KEYS {
                let mut ages: Vec<Instant> = map.values().map(|f| f.last).collect();
                ages.sort_unstable();
                if let Some(cut) = ages.get(ages.len() / 2).copied() {
                    map.retain(|_, f| f.last > cut);
                }
            }
        }
        for k in keys(name, addr) {
            let f = map.entry(k).or_insert(Failures {
                count: 0,
                last: Instant::now(),
            });
            f.count = f.count.saturating_add(1);
            f.last = Instant::now();
        }
    }

    /// Forgets the failures of `name` (a successful login); the address keeps its record.
    pub fn succeeded(&self, name: &str) {
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = keys(name, None).first() {
            map.remove(key);
        }
    }
}

fn keys(name: &str, addr: Option<IpAddr>) -> Vec<String> {
    // Names are at most 64 characters: a longer one (any account's failures) is cut, so a
    // flood of long made-up names costs bounded memory.
    let name: String = name
        .chars()
        .take(crate::staff::accounts::MAX_NAME_CHARS)
        .collect();
    let mut keys = vec![format!("name:{name}")];
    if let Some(a) = addr {
        keys.push(format!("addr:{a}"));
    }
    keys
}

/// The wait after `count` failures in a row, if any.
fn wait_after(count: u32) -> Option<Duration> {
    let over = count.checked_sub(FREE_FAILURES)?;
    let factor = 1u32.checked_shl(over.min(20)).unwrap_or(u32::MAX);
    Some(FIRST_WAIT.saturating_mul(factor).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_mistakes_are_free_then_waits_double_up_to_a_cap() {
        assert_eq!(wait_after(0), None);
        assert_eq!(wait_after(FREE_FAILURES - 1), None);
        assert_eq!(wait_after(FREE_FAILURES), Some(FIRST_WAIT));
        assert_eq!(wait_after(FREE_FAILURES + 1), Some(FIRST_WAIT * 2));
        assert_eq!(wait_after(u32::MAX), Some(MAX_WAIT));
    }

    #[test]
    fn failures_count_per_name_and_per_address() {
        let t = LoginThrottle::default();
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.wait("ana", Some(addr)), None);
            t.failed("ana", Some(addr));
        }
        assert!(t.wait("ana", None).is_some(), "the name waits");
        assert!(t.wait("bob", Some(addr)).is_some(), "so does the address");
        assert_eq!(t.wait("bob", None), None);
        t.succeeded("ana");
        assert_eq!(t.wait("ana", None), None);
    }

    #[test]
    fn long_made_up_names_cost_bounded_memory() {
        let t = LoginThrottle::default();
        let long = "x".repeat(10_000);
        t.failed(&long, None);
        let map = t.by_key.lock().unwrap();
        assert!(
            map.keys()
                .all(|k| k.len() <= 5 + crate::staff::accounts::MAX_NAME_CHARS)
        );
    }
}
