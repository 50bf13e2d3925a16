//! Window math of the memory backend under a hand-moved clock: sliding
//! expiry, reset/retry times, refusals, settle up and down, slot release.

use std::sync::Arc;
use std::time::Duration;

use super::*;

const MIN: Duration = Duration::from_secs(60);

fn limiter() -> (MemoryLimiter, ManualClock) {
    let clock = ManualClock::new(1_000_000);
    let config = MemoryLimiterConfig {
        lease_ttl: Duration::from_secs(600),
        sweep_every: Duration::from_secs(30),
    };
    (
        MemoryLimiter::with_clock(Arc::new(clock.clone()), config),
        clock,
    )
}

fn rpm(limit: u64) -> [LimitCheck; 1] {
    [LimitCheck::per_minute("rpm:g:team:gpt", limit, 1)]
}

fn exceeded(r: Result<Admission, LimitRejection>) -> (u64, Duration) {
    match r {
        Err(LimitRejection::Exceeded {
            used, retry_after, ..
        }) => (used, retry_after),
        other => panic!("expected Exceeded, got {other:?}"),
    }
}

#[test]
fn window_slides_a_second_at_a_time() {
    let (l, clock) = limiter();
    // 3 at t=0, 2 at t=30 s: limit 5 reached
    for _ in 0..3 {
        drop(l.acquire(&rpm(5)).unwrap());
    }
    clock.advance(Duration::from_secs(30));
    for _ in 0..2 {
        drop(l.acquire(&rpm(5)).unwrap());
    }
    let (used, retry) = exceeded(l.acquire(&rpm(5)));
    assert_eq!(used, 5);
    // the t=0 bucket stops counting 61 s after its start
    assert_eq!(retry, Duration::from_secs(31));
    clock.advance(Duration::from_millis(30_999));
    assert!(l.acquire(&rpm(5)).is_err(), "still inside the window");
    clock.advance(Duration::from_millis(1));
    let a = l.acquire(&rpm(5)).unwrap();
    // 2 (t=30) + 1 now; the oldest live bucket is t=30, 30 s from leaving
    assert_eq!(a.checks()[0].remaining, 2);
    assert_eq!(a.checks()[0].reset_after, Some(Duration::from_secs(30)));
}

#[test]
fn at_most_the_limit_in_any_window() {
    let (l, clock) = limiter();
    let mut admitted_at = Vec::new();
    // one attempt every 250 ms for 5 minutes against 10 per minute
    for step in 0..1200u64 {
        if l.acquire(&rpm(10)).is_ok() {
            admitted_at.push(step * 250);
        }
        clock.advance(Duration::from_millis(250));
    }
    for (i, &t) in admitted_at.iter().enumerate() {
        let in_window = admitted_at[i..].iter().take_while(|&&u| u < t + 60_000);
        assert!(in_window.count() <= 10, "more than 10 within 60 s of {t}");
    }
    assert!(admitted_at.len() >= 40, "the limit keeps refilling");
}

#[test]
fn reset_after_and_remaining_reflect_the_oldest_bucket() {
    let (l, clock) = limiter();
    let check = |cost| [LimitCheck::per_minute("tpm:g:team:gpt", 1000, cost)];
    let a = l.acquire(&check(400)).unwrap();
    assert_eq!(a.checks()[0].limit, 1000);
    assert_eq!(a.checks()[0].remaining, 600);
    assert_eq!(a.checks()[0].reset_after, Some(Duration::from_secs(61)));
    clock.advance(Duration::from_secs(20));
    let b = l.acquire(&check(100)).unwrap();
    assert_eq!(b.checks()[0].remaining, 500);
    assert_eq!(b.checks()[0].reset_after, Some(Duration::from_secs(41)));
}

#[test]
fn over_limit_and_too_large_are_refused_without_recording() {
    let (l, _clock) = limiter();
    let tpm = |cost| [LimitCheck::per_minute("tpm", 100, cost)];
    drop(l.acquire(&tpm(90)).unwrap());
    let (used, _) = exceeded(l.acquire(&tpm(11)));
    assert_eq!(used, 90);
    drop(l.acquire(&tpm(10)).unwrap());
    match l.acquire(&tpm(101)) {
        Err(LimitRejection::TooLarge { limit, cost, .. }) => assert_eq!((limit, cost), (100, 101)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let (used, _) = exceeded(l.acquire(&tpm(1)));
    assert_eq!(used, 100, "refusals recorded nothing");
}

#[test]
fn a_multi_check_request_is_all_or_nothing() {
    let (l, _clock) = limiter();
    let req = |tpm_cost| {
        [
            LimitCheck::per_minute("rpm", 10, 1),
            LimitCheck::per_minute("tpm", 100, tpm_cost),
            LimitCheck::concurrency("conc", 5),
        ]
    };
    let held = l.acquire(&req(60)).unwrap();
    match l.acquire(&req(60)) {
        Err(LimitRejection::Exceeded { index, key, .. }) => {
            assert_eq!((index, key.as_str()), (1, "tpm"))
        }
        other => panic!("expected tpm refusal, got {other:?}"),
    }
    let ok = l.acquire(&req(40)).unwrap();
    assert_eq!(
        ok.checks()[0].remaining,
        8,
        "the refused request took no RPM"
    );
    assert_eq!(ok.checks()[2].remaining, 3, "nor a slot");
    drop((held, ok));
}

#[test]
fn checks_on_the_same_key_add_up() {
    let (l, _clock) = limiter();
    let req = [
        LimitCheck::per_minute("k", 10, 6),
        LimitCheck::per_minute("k", 10, 6),
    ];
    assert!(l.acquire(&req).is_err());
    assert_eq!(
        l.acquire(&[LimitCheck::per_minute("k", 10, 10)])
            .unwrap()
            .checks()[0]
            .remaining,
        0
    );
}

#[tokio::test]
async fn settle_moves_the_window_down_and_up() {
    let (l, clock) = limiter();
    let tpm = |cost| [LimitCheck::per_minute("tpm", 1000, cost)];
    let a = l.acquire(&tpm(500)).unwrap();
    a.settle(&[120]).await.unwrap();
    assert_eq!(l.acquire(&tpm(0)).unwrap().checks()[0].remaining, 880);
    clock.advance(Duration::from_secs(10));
    let b = l.acquire(&tpm(100)).unwrap();
    b.settle(&[300]).await.unwrap();
    assert_eq!(l.acquire(&tpm(0)).unwrap().checks()[0].remaining, 580);
    // the overrun went into the settle-time bucket: after the first
    // bucket leaves, 300 are still counted
    clock.advance(Duration::from_millis(51_000));
    assert_eq!(l.acquire(&tpm(0)).unwrap().checks()[0].remaining, 700);
    // a surplus never takes a bucket below zero
    let c = l.acquire(&tpm(10)).unwrap();
    c.settle(&[0]).await.unwrap();
    assert_eq!(l.acquire(&tpm(0)).unwrap().checks()[0].remaining, 700);
}

#[tokio::test]
async fn a_surplus_for_an_expired_bucket_is_dropped() {
    let (l, clock) = limiter();
    let tpm = |cost| [LimitCheck::per_minute("tpm", 1000, cost)];
    let long = l.acquire(&tpm(500)).unwrap();
    clock.advance(Duration::from_secs(90));
    drop(l.acquire(&tpm(200)).unwrap());
    long.settle(&[100]).await.unwrap();
    assert_eq!(l.acquire(&tpm(0)).unwrap().checks()[0].remaining, 800);
}

#[tokio::test]
async fn concurrency_slots_come_back_on_settle_and_on_drop() {
    let (l, _clock) = limiter();
    let conc = [LimitCheck::concurrency("conc:g:team", 2)];
    let a = l.acquire(&conc).unwrap();
    let b = l.acquire(&conc).unwrap();
    let (used, retry) = exceeded(l.acquire(&conc));
    assert_eq!((used, retry), (2, CONCURRENCY_RETRY_AFTER));
    drop(a);
    let c = l.acquire(&conc).unwrap();
    b.settle(&[]).await.unwrap();
    let d = l.acquire(&conc).unwrap();
    assert!(l.acquire(&conc).is_err());
    drop((c, d));
    assert_eq!(l.acquire(&conc).unwrap().checks()[0].remaining, 1);
}

#[tokio::test]
async fn a_cancelled_request_keeps_its_window_cost_but_frees_its_slot() {
    let (l, _clock) = limiter();
    let req = [
        LimitCheck::per_minute("tpm", 1000, 300),
        LimitCheck::concurrency("conc", 1),
    ];
    let task = {
        let (l, req) = (l.clone(), req.clone());
        tokio::spawn(async move {
            let _admission = l.acquire(&req).unwrap();
            std::future::pending::<()>().await;
        })
    };
    tokio::task::yield_now().await;
    task.abort();
    let _ = task.await;
    let next = l.acquire(&req).unwrap();
    assert_eq!(next.checks()[0].remaining, 400, "the reservation stays");
    assert_eq!(next.checks()[1].remaining, 0, "the slot came back");
}

#[test]
fn forgotten_leases_expire() {
    let (l, clock) = limiter();
    let conc = [LimitCheck::concurrency("conc", 1)];
    std::mem::forget(l.acquire(&conc).unwrap());
    assert!(l.acquire(&conc).is_err());
    clock.advance(Duration::from_secs(600));
    assert!(l.acquire(&conc).is_ok());
}

#[test]
fn idle_keys_are_swept() {
    let (l, clock) = limiter();
    for i in 0..50 {
        drop(
            l.acquire(&[LimitCheck::per_minute(format!("k{i}"), 5, 1)])
                .unwrap(),
        );
    }
    drop(l.acquire(&[LimitCheck::concurrency("c", 5)]).unwrap());
    assert_eq!(l.evict_idle(), 50, "released slots leave their key idle");
    clock.advance(Duration::from_secs(61));
    // the next acquire after `sweep_every` sweeps on its own
    drop(l.acquire(&rpm(5)).unwrap());
    assert_eq!(l.tracked_keys(), 1);
}

#[test]
fn a_changed_window_starts_the_key_over() {
    let (l, _clock) = limiter();
    drop(l.acquire(&[LimitCheck::per_minute("k", 2, 2)]).unwrap());
    let hour = LimitCheck::window("k", 2, MIN * 60, 1);
    assert_eq!(l.acquire(&[hour]).unwrap().checks()[0].remaining, 1);
}

#[test]
fn an_empty_request_is_admitted() {
    let (l, _clock) = limiter();
    assert!(l.acquire(&[]).unwrap().checks().is_empty());
}
