use super::*;

fn check(key: &str, limit: i64, base: i64, cost: i64) -> SpendCheck {
    SpendCheck {
        key: key.into(),
        kind: SpendKind::TokenQuota,
        limit,
        base,
        cost,
    }
}

#[test]
fn nanos_conversions_round_and_clamp() {
    assert_eq!(to_nanos(0.005), 5_000_000);
    assert_eq!(to_nanos(-1.0), 0);
    assert_eq!(to_nanos(f64::NAN), 0);
    assert_eq!(decimal_to_nanos(Decimal::new(112, 3)), 112_000_000);
    assert_eq!(decimal_to_nanos(Decimal::new(-1, 0)), 0);
}

#[tokio::test]
async fn reservations_count_until_settled_and_bound_overspend() {
    let ledger = SpendLedger::memory();
    let SpendLedger::Memory(memory) = &ledger else {
        unreachable!()
    };
    let a = ledger.reserve(vec![check("t", 100, 10, 40)]).await.unwrap();
    let b = ledger.reserve(vec![check("t", 100, 10, 40)]).await.unwrap();
    assert_eq!(memory.state("t"), (10, 80));
    // 10 spent + 80 reserved + 40 > 100
    let refused = ledger.reserve(vec![check("t", 100, 10, 40)]).await;
    assert!(matches!(
        refused,
        Err(SpendRejection::Exhausted {
            index: 0,
            spent: 10,
            reserved: 80,
            ..
        })
    ));
    a.settle(30).await;
    assert_eq!(memory.state("t"), (40, 40));
    drop(b); // released without a charge
    assert_eq!(memory.state("t"), (40, 0));
}

#[tokio::test]
async fn all_or_nothing_and_base_from_the_database_wins_when_larger() {
    let ledger = SpendLedger::memory();
    let SpendLedger::Memory(memory) = &ledger else {
        unreachable!()
    };
    let refused = ledger
        .reserve(vec![check("a", 100, 0, 10), check("b", 100, 95, 10)])
        .await;
    assert!(matches!(
        refused,
        Err(SpendRejection::Exhausted { index: 1, .. })
    ));
    assert_eq!(memory.state("a"), (0, 0), "the first cap recorded nothing");
    // An exhausted cap refuses even a zero-cost request (cost at least 1).
    let zero = ledger.reserve(vec![check("c", 100, 100, 0)]).await;
    assert!(zero.is_err());
    // The ledger's own total wins over a stale (smaller) database figure.
    let hold = ledger.reserve(vec![check("d", 100, 0, 1)]).await.unwrap();
    hold.settle(60).await;
    assert!(ledger.reserve(vec![check("d", 100, 0, 50)]).await.is_err());
}
