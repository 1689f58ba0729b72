//! The edge's cache: answers by cache key, kept for the TTL CloudFront's rules give them
//! (developer guide, "Manage how long content stays in the cache"), and concurrent misses for one
//! key collapsed into a single origin request — the others wait for its answer, as CloudFront's
//! request collapsing does.
//!
//! TTL rules: a cacheable answer (200, 203, 206, 300, 301, 410) with `Cache-Control: s-maxage`
//! (preferred) or `max-age`, or else `Expires`, is kept that long clamped to [MinTTL, MaxTTL];
//! without any, DefaultTTL; with `no-cache`, `no-store` or `private`, not at all when MinTTL is 0,
//! else MinTTL. Errors (400, 403, 404, 405, 414, 416, 500–504) are kept for the origin's
//! `max-age` if it sends one, else the error caching minimum TTL, 10 s. Other statuses are not kept.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use axum::http::{HeaderMap, header};
use bytes::Bytes;

/// The error caching minimum TTL's default.
const ERROR_TTL: u64 = 10;
/// At most this many keys; past it, expired entries are dropped.
const MAX_ENTRIES: usize = 20_000;

/// One origin answer, as kept.
#[derive(Debug)]
pub struct Stored {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub stored_at: Instant,
    pub ttl: Duration,
}

impl Stored {
    fn fresh(&self, now: Instant) -> bool {
        now < self.stored_at + self.ttl
    }
}

#[derive(Default)]
struct Slot {
    answer: tokio::sync::OnceCell<Arc<Stored>>,
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Cache {
    /// The answer for `key`: from the cache (true: a hit, including a request that waited for a
    /// concurrent miss of the same key), or fetched by `fetch` (false), which only one of the
    /// concurrent requests for a key runs.
    pub async fn get_or_fetch<F, Fut>(&self, key: &str, fetch: F) -> (Arc<Stored>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Arc<Stored>>,
    {
        let now = Instant::now();
        let slot = {
            let mut entries = self.entries.lock().unwrap();
            match entries.get(key) {
                Some(slot) if slot.answer.get().is_none_or(|s| s.fresh(now)) => slot.clone(),
                _ => {
                    if entries.len() >= MAX_ENTRIES {
                        entries.retain(|_, s| s.answer.get().is_none_or(|s| s.fresh(now)));
                    }
                    let slot = Arc::new(Slot::default());
                    entries.insert(key.to_owned(), slot.clone());
                    slot
                }
            }
        };
        let mut fetched = false;
        let answer = slot
            .answer
            .get_or_init(|| {
                fetched = true;
                fetch()
            })
            .await
            .clone();
        if fetched && answer.ttl.is_zero() {
            // Not to be kept: later requests go to the origin again.
            let mut entries = self.entries.lock().unwrap();
            if entries.get(key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                entries.remove(key);
            }
        }
        (answer, !fetched)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

/// How long CloudFront keeps an answer of `status` with `headers`, for a behaviour's TTLs.
pub fn ttl(status: u16, headers: &HeaderMap, min: u64, default: u64, max: u64, now: SystemTime) -> u64 {
    let control: Vec<String> = (headers.get_all(header::CACHE_CONTROL).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    let seconds = |name: &str| {
        control.iter().find_map(|d| {
            let (k, v) = d.split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').parse::<u64>().ok())?
        })
    };
    let forbidden = control
        .iter()
        .any(|d| matches!(d.as_str(), "no-cache" | "no-store" | "private"));
    let expires = || {
        let text = headers.get(header::EXPIRES)?.to_str().ok()?;
        let at = jiff::fmt::rfc2822::parse(text).ok()?.timestamp();
        let now = jiff::Timestamp::try_from(now).ok()?;
        Some((at.as_second() - now.as_second()).max(0) as u64)
    };
    let directive = seconds("s-maxage").or_else(|| seconds("max-age"));
    match status {
        200 | 203 | 206 | 300 | 301 | 410 => {
            if forbidden {
                return min;
            }
            match directive.or_else(expires) {
                Some(age) => age.clamp(min, max.max(min)),
                None => default,
            }
        }
        400 | 403 | 404 | 405 | 414 | 416 | 500..=504 => {
            if forbidden {
                return 0;
            }
            directive.unwrap_or(ERROR_TTL)
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn with(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn ttls_follow_cloudfronts_table() {
        let now = SystemTime::now();
        let t = |status, h: &[(&str, &str)], min, default, max| ttl(status, &with(h), min, default, max, now);
        assert_eq!(t(200, &[], 0, 86_400, 31_536_000), 86_400, "no directive: DefaultTTL");
        assert_eq!(t(200, &[("cache-control", "max-age=1")], 0, 86_400, 31_536_000), 1);
        assert_eq!(
            t(200, &[("cache-control", "max-age=1")], 5, 86_400, 31_536_000),
            5,
            "raised to MinTTL"
        );
        assert_eq!(
            t(200, &[("cache-control", "max-age=1209600")], 0, 10, 60),
            60,
            "lowered to MaxTTL"
        );
        assert_eq!(
            t(200, &[("cache-control", "max-age=100, s-maxage=7")], 0, 10, 60),
            7,
            "s-maxage first"
        );
        assert_eq!(t(200, &[("cache-control", "no-cache")], 0, 10, 60), 0);
        assert_eq!(t(200, &[("cache-control", "private, max-age=5")], 2, 10, 60), 2);
        assert_eq!(t(200, &[("cache-control", "max-age=5")], 0, 0, 0), 0, "CachingDisabled");
        assert_eq!(t(404, &[], 0, 86_400, 31_536_000), 10, "errors: 10 s");
        assert_eq!(t(404, &[("cache-control", "max-age=2")], 0, 86_400, 31_536_000), 2);
        assert_eq!(t(302, &[], 0, 86_400, 31_536_000), 0);
        let later = jiff::Timestamp::try_from(now).unwrap() + jiff::SignedDuration::from_secs(30);
        let expires = later.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let e = t(200, &[("expires", &expires)], 0, 86_400, 31_536_000);
        assert!((29..=30).contains(&e), "{e}");
    }

    fn answer(ttl: u64) -> Arc<Stored> {
        Arc::new(Stored {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"x"),
            stored_at: Instant::now(),
            ttl: Duration::from_secs(ttl),
        })
    }

    #[tokio::test]
    async fn concurrent_misses_collapse_into_one_fetch() {
        let cache = Arc::new(Cache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch("k", || async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        answer(60)
                    })
                    .await
                    .1
            }));
        }
        let mut hits = 0;
        for t in tasks {
            hits += t.await.unwrap() as usize;
        }
        assert_eq!((fetches.load(Ordering::SeqCst), hits), (1, 9));
        let (_, hit) = cache.get_or_fetch("k", || async { answer(60) }).await;
        assert!(hit);
    }

    #[tokio::test]
    async fn uncacheable_and_expired_answers_are_fetched_again() {
        let cache = Cache::default();
        let (_, hit) = cache.get_or_fetch("k", || async { answer(0) }).await;
        assert!(!hit);
        let (_, hit) = cache.get_or_fetch("k", || async { answer(0) }).await;
        assert!(!hit, "ttl 0 is not kept");
        assert_eq!(cache.len(), 0);
        let mut expired = Stored {
            ..Arc::try_unwrap(answer(1)).unwrap()
        };
        expired.stored_at -= Duration::from_secs(2);
        let expired = Arc::new(expired);
        cache.get_or_fetch("e", || async { expired }).await;
        let (_, hit) = cache.get_or_fetch("e", || async { answer(60) }).await;
        assert!(!hit, "an expired answer is a miss");
    }
}
