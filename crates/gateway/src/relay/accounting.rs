//! What a request owes once it is done: its price, the limiter admission
//! and spend reservation taken when it was admitted, and the settlement of
//! both with the final usage and amount.
//!
//! Sits at the end of the request path: [`super::admit`] fills an
//! [`Accounting`] in; [`super::complete::LogContext::into_entry`] — the one
//! place every finished request passes through exactly once — calls
//! [`Accounting::charge`] and [`Accounting::settle`]. Retried attempts
//! never reach it, so an answer is charged once whatever the retries.

use std::sync::{Arc, Mutex};

use switchyard_protocol::Usage;

use crate::billing::{Charge, Price, UsageContext, compute};
use crate::limits::Admission;
use crate::quota::{SpendHold, decimal_to_nanos};

/// What one limiter check meters, to settle it with the actual cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meter {
    /// One per request (RPM).
    Requests,
    /// Total tokens (TPM).
    Tokens,
    /// A slot (concurrency): nothing to reconcile.
    Slot,
}

/// Reservations to settle once.
#[derive(Debug)]
struct Held {
    admission: Option<Admission>,
    meters: Vec<Meter>,
    spend: SpendHold,
}

/// A request's pricing and reservations. Clones (the retry path clones the
/// log context) share the reservations; the first settle takes them.
#[derive(Debug, Clone, Default)]
pub struct Accounting {
    /// The price it pays (`None`: free).
    pub price: Option<Arc<Price>>,
    /// Pricing context (service tier…).
    pub context: UsageContext,
    held: Option<Arc<Mutex<Option<Held>>>>,
}

impl Accounting {
    /// Pricing without reservations (internal keys, unlimited requests).
    pub fn priced(price: Option<Arc<Price>>, context: UsageContext) -> Self {
        Self {
            price,
            context,
            held: None,
        }
    }

    /// Attach the limiter admission (with what each check meters) and the
    /// spend reservation.
    pub fn hold(&mut self, admission: Option<Admission>, meters: Vec<Meter>, spend: SpendHold) {
        self.held = Some(Arc::new(Mutex::new(Some(Held {
            admission,
            meters,
            spend,
        }))));
    }

    /// What `usage` costs; `None` when the model is free.
    pub fn charge(&self, usage: &Usage, succeeded: bool) -> Option<Charge> {
        let price = self.price.as_deref()?;
        let charge = compute(price, usage, &self.context, succeeded);
        Some(charge)
    }

    /// Reconcile the limiter with the actual usage and charge the spend
    /// caps the actual amount. Only the first call does anything.
    pub async fn settle(&self, usage: &Usage, charge: Option<&Charge>) {
        let Some(held) = &self.held else {
            return;
        };
        let taken = held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(Held {
            admission,
            meters,
            spend,
        }) = taken
        else {
            return;
        };
        let amount = charge.map_or(0, |c| decimal_to_nanos(c.amount.total()));
        spend.settle(amount).await;
        if let Some(admission) = admission {
            let total = usage
                .total_tokens
                .max(usage.input_tokens + usage.output_tokens);
            let tokens = u64::try_from(total.max(0)).unwrap_or(0);
            let actual: Vec<u64> = meters
                .iter()
                .map(|m| match m {
                    Meter::Requests | Meter::Slot => 1,
                    Meter::Tokens => tokens,
                })
                .collect();
            if let Err(e) = admission.settle(&actual).await {
                tracing::warn!(error = %e, "rate-limit reconciliation failed");
            }
        }
    }
}
