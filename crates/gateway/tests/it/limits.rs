//! Limiter conformance: the same cases against the memory backend and —
//! when `TEST_REDIS_URL` is set — the Redis backend, plus what only Redis
//! has: several limiters (gateways) sharing one Redis, key expiry, and the
//! fail-open / fail-closed policy against a Redis that is down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard::limits::{
    Admission, LimitCheck, LimitRejection, Limiter, RedisFailureMode, RedisLimiterConfig,
};

/// A key prefix no other test (or run) uses.
fn prefix(test: &str) -> String {
    format!("switchyard-test:{test}:{}:", uuid::Uuid::now_v7().simple())
}

fn redis_config(url: &str, prefix: &str, mode: RedisFailureMode) -> RedisLimiterConfig {
    let mut config = RedisLimiterConfig::new(url);
    config.key_prefix = prefix.to_owned();
    config.failure_mode = mode;
    // generous: the test machine is shared and busy
    config.response_timeout = Duration::from_secs(5);
    config
}

/// Memory always; Redis too when `TEST_REDIS_URL` is set.
fn backends(test: &str) -> Vec<(&'static str, Limiter)> {
    let mut out = vec![("memory", Limiter::memory())];
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        let config = redis_config(&url, &prefix(test), RedisFailureMode::Closed);
        out.push(("redis", Limiter::redis(config).unwrap()));
    }
    out
}

/// `n` acquires of `request` at once; the admissions that succeeded.
async fn hammer(limiters: &[Limiter], request: &[LimitCheck], n: usize) -> Vec<Admission> {
    let request: Arc<[LimitCheck]> = request.into();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let limiter = limiters[i % limiters.len()].clone();
            let request = Arc::clone(&request);
            tokio::spawn(async move { limiter.acquire(&request).await })
        })
        .collect();
    let mut admitted = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(a) => {
                assert!(!a.is_degraded());
                admitted.push(a);
            }
            Err(LimitRejection::Exceeded { .. }) => {}
            Err(other) => panic!("unexpected rejection: {other}"),
        }
    }
    admitted
}

async fn remaining(limiter: &Limiter, check: LimitCheck) -> u64 {
    limiter.acquire(&[check]).await.unwrap().checks()[0].remaining
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_acquires_admit_exactly_one_hundred() {
    for (name, limiter) in backends("hundred") {
        let rpm = [LimitCheck::per_minute("rpm:g:team:gpt", 100, 1)];
        let admitted = hammer(std::slice::from_ref(&limiter), &rpm, 200).await;
        assert_eq!(admitted.len(), 100, "{name}: rpm");
        let conc = [LimitCheck::concurrency("conc:g:team", 100)];
        let held = hammer(std::slice::from_ref(&limiter), &conc, 200).await;
        assert_eq!(held.len(), 100, "{name}: concurrency");
    }
}

#[tokio::test]
async fn a_multi_check_request_is_all_or_nothing() {
    for (name, limiter) in backends("all-or-nothing") {
        let req = |tpm_cost| {
            [
                LimitCheck::per_minute("rpm:g:team:gpt", 10, 1),
                LimitCheck::per_minute("tpm:g:team:gpt", 100, tpm_cost),
                LimitCheck::concurrency("conc:g:team", 5),
            ]
        };
        let first = limiter.acquire(&req(60)).await.unwrap();
        assert_eq!(first.checks()[1].remaining, 40, "{name}");
        match limiter.acquire(&req(60)).await {
            Err(LimitRejection::Exceeded {
                index,
                key,
                limit,
                used,
                cost,
                retry_after,
            }) => {
                assert_eq!((index, key.as_str()), (1, "tpm:g:team:gpt"), "{name}");
                assert_eq!((limit, used, cost), (100, 60, 60), "{name}");
                assert!(
                    retry_after > Duration::from_secs(59),
                    "{name}: {retry_after:?}"
                );
                assert!(
                    retry_after <= Duration::from_secs(61),
                    "{name}: {retry_after:?}"
                );
            }
            other => panic!("{name}: expected a TPM refusal, got {other:?}"),
        }
        let second = limiter.acquire(&req(40)).await.unwrap();
        let left: Vec<u64> = second.checks().iter().map(|c| c.remaining).collect();
        assert_eq!(
            left,
            [8, 0, 3],
            "{name}: the refused request recorded nothing"
        );
        drop((first, second));
    }
}

#[tokio::test]
async fn too_large_is_refused_outright_by_every_backend() {
    for (name, limiter) in backends("too-large") {
        let req = [
            LimitCheck::per_minute("rpm", 10, 1),
            LimitCheck::per_minute("tpm", 1000, 1001),
        ];
        match limiter.acquire(&req).await {
            Err(e @ LimitRejection::TooLarge { .. }) => {
                assert_eq!(e.check(), Some((1, "tpm")), "{name}");
                assert_eq!(e.retry_after(), None, "{name}");
            }
            other => panic!("{name}: expected TooLarge, got {other:?}"),
        }
        assert_eq!(
            remaining(&limiter, LimitCheck::per_minute("rpm", 10, 0)).await,
            10
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tpm_reservation_and_settle_keep_the_window_exact() {
    for (name, limiter) in backends("settle") {
        let tpm = |cost| LimitCheck::per_minute("tpm:t:tok:gpt", 10_000, cost);
        let a = limiter.acquire(&[tpm(500)]).await.unwrap();
        a.settle(&[120]).await.unwrap();
        assert_eq!(remaining(&limiter, tpm(0)).await, 9_880, "{name}: down");
        let b = limiter.acquire(&[tpm(100)]).await.unwrap();
        b.settle(&[300]).await.unwrap();
        assert_eq!(remaining(&limiter, tpm(0)).await, 9_580, "{name}: up");
        // 100 concurrent requests reserving 80 and spending 30
        let admitted = hammer(std::slice::from_ref(&limiter), &[tpm(80)], 100).await;
        assert_eq!(admitted.len(), 100, "{name}");
        let settles = admitted
            .into_iter()
            .map(|a| async move { a.settle(&[30]).await });
        for result in futures_util::future::join_all(settles).await {
            result.unwrap();
        }
        assert_eq!(
            remaining(&limiter, tpm(0)).await,
            9_580 - 3_000,
            "{name}: after 100"
        );
    }
}

#[tokio::test]
async fn a_dropped_admission_frees_its_slot_and_keeps_its_reservation() {
    for (name, limiter) in backends("drop") {
        let req = [
            LimitCheck::per_minute("tpm", 1000, 300),
            LimitCheck::concurrency("conc", 1),
        ];
        drop(limiter.acquire(&req).await.unwrap());
        // Redis releases on a spawned task: give it a moment
        let deadline = Instant::now() + Duration::from_secs(5);
        let next = loop {
            match limiter.acquire(&req).await {
                Ok(a) => break a,
                Err(LimitRejection::Exceeded { index: 1, .. }) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => panic!("{name}: {e}"),
            }
        };
        assert_eq!(next.checks()[0].remaining, 400, "{name}: reservation kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_cancelled_during_acquire_leak_no_slot() {
    for (name, limiter) in backends("cancelled") {
        let conc = [LimitCheck::concurrency("conc:g:team", 1)];
        for i in 0..50u64 {
            let (limiter, conc) = (limiter.clone(), conc.clone());
            let task = tokio::spawn(async move {
                let _held = limiter.acquire(&conc).await;
                std::future::pending::<()>().await;
            });
            // cancel at varying points: before, during or after the call
            tokio::time::sleep(Duration::from_micros(i * 37)).await;
            task.abort();
            let _ = task.await;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match limiter.acquire(&conc).await {
                Ok(_) => break,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("{name}: a slot leaked: {e}"),
            }
        }
    }
}

#[tokio::test]
async fn a_short_window_slides_in_real_time() {
    for (name, limiter) in backends("slide") {
        // 1.2 s window: 20 ms buckets
        let check = || [LimitCheck::window("rps", 2, Duration::from_millis(1200), 1)];
        drop(limiter.acquire(&check()).await.unwrap());
        drop(limiter.acquire(&check()).await.unwrap());
        let retry = match limiter.acquire(&check()).await {
            Err(LimitRejection::Exceeded { retry_after, .. }) => retry_after,
            other => panic!("{name}: expected a refusal, got {other:?}"),
        };
        assert!(retry <= Duration::from_millis(1220), "{name}: {retry:?}");
        assert!(retry >= Duration::from_millis(900), "{name}: {retry:?}");
        tokio::time::sleep(retry + Duration::from_millis(30)).await;
        let a = limiter.acquire(&check()).await.unwrap();
        assert!(a.checks()[0].remaining <= 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_sharing_redis_admit_exactly_the_limit() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        return; // Runs in CI's Redis pass.
    };
    let shared = prefix("two-gateways");
    let gateways: Vec<Limiter> = (0..2)
        .map(|_| Limiter::redis(redis_config(&url, &shared, RedisFailureMode::Closed)).unwrap())
        .collect();
    let req = [
        LimitCheck::per_minute("rpm:g:team:gpt", 100, 1),
        LimitCheck::per_minute("tpm:g:team:gpt", 1_000_000, 10),
    ];
    let admitted = hammer(&gateways, &req, 300).await;
    assert_eq!(admitted.len(), 100);
    let conc = [LimitCheck::concurrency("conc:g:team", 7)];
    let held = hammer(&gateways, &conc, 40).await;
    assert_eq!(held.len(), 7);
    // what one gateway recorded, the other sees
    let left = remaining(
        &gateways[1],
        LimitCheck::per_minute("tpm:g:team:gpt", 1_000_000, 0),
    );
    assert_eq!(left.await, 1_000_000 - 1_000);
}

#[tokio::test]
async fn redis_keys_expire_with_their_window() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        return; // Runs in CI's Redis pass.
    };
    let prefix = prefix("expiry");
    let limiter = Limiter::redis(redis_config(&url, &prefix, RedisFailureMode::Closed)).unwrap();
    let _a = limiter
        .acquire(&[
            LimitCheck::per_minute("rpm", 5, 1),
            LimitCheck::concurrency("conc", 5),
        ])
        .await
        .unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let window_ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}w:rpm"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((59_000..=61_000).contains(&window_ttl), "{window_ttl}");
    let lease_ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}c:conc"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        lease_ttl > 60_000 && lease_ttl <= 30 * 60_000,
        "{lease_ttl}"
    );
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn redis_down_fails_open_with_a_flag_and_a_count() {
    let url = format!("redis://127.0.0.1:{}", closed_port().await);
    let limiter = Limiter::redis(redis_config(&url, "down:", RedisFailureMode::Open)).unwrap();
    let req = [
        LimitCheck::per_minute("rpm", 1, 1),
        LimitCheck::concurrency("conc", 1),
    ];
    let started = Instant::now();
    for i in 1..=3u64 {
        let a = limiter.acquire(&req).await.unwrap();
        assert!(a.is_degraded(), "admitted without counting");
        assert_eq!(a.checks()[0].limit, 1);
        assert_eq!(a.checks()[0].reset_after, None);
        // each acquire counts; the release of its maybe-taken slot may too
        assert!(limiter.backend_errors() >= i);
        a.settle(&[1, 1]).await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // a request over the whole limit is still refused: no Redis needed
    let big = [LimitCheck::per_minute("tpm", 10, 11)];
    assert!(matches!(
        limiter.acquire(&big).await,
        Err(LimitRejection::TooLarge { .. })
    ));
}

#[tokio::test]
async fn redis_down_fails_closed_with_a_distinct_error() {
    let url = format!("redis://127.0.0.1:{}", closed_port().await);
    let limiter = Limiter::redis(redis_config(&url, "down:", RedisFailureMode::Closed)).unwrap();
    let req = [LimitCheck::per_minute("rpm", 100, 1)];
    for i in 1..=3u64 {
        match limiter.acquire(&req).await {
            Err(e @ LimitRejection::Unavailable { .. }) => {
                assert_eq!(e.check(), None);
                assert_eq!(e.retry_after_secs(), Some(1));
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert_eq!(limiter.backend_errors(), i);
    }
}

#[tokio::test]
async fn a_malformed_redis_url_is_an_error_at_construction() {
    let config = redis_config("not a url", "x:", RedisFailureMode::Open);
    assert!(Limiter::redis(config).is_err());
}
