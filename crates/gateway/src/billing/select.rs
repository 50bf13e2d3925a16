//! Conditional price selection (reference §6.2): which of a model's prices a
//! request is billed at.
//!
//! Accounting step of the request path, called by [`super::compute`] (and
//! by whoever needs a price estimate before the call). Among the
//! conditional prices whose condition matches, the most specific wins; ties
//! keep the first, except that a match on the client's requested resolution
//! beats a match on the provider-native resolution only. When nothing
//! matches, a second pass matches resolutions by tier (`4k`, `1080p`,
//! `720p`, `480p`) unless disabled; when that fails too, the base price
//! applies.

use switchyard_protocol::Usage;

use super::conditions::UsageContext;
use super::price::{AppliedPrice, Price};

/// Knobs of [`Price::select_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectOptions {
    /// Skip the second, tier-based resolution pass.
    pub disable_fuzzy_resolution: bool,
}

impl Price {
    /// The price this request is billed at: the most specific matching
    /// conditional price, or the base price. Fuzzy resolution tiers are on.
    pub fn select(&self, usage: &Usage, ctx: &UsageContext) -> AppliedPrice {
        self.select_with(usage, ctx, SelectOptions::default())
    }

    /// [`Price::select`] with explicit options.
    pub fn select_with(
        &self,
        usage: &Usage,
        ctx: &UsageContext,
        options: SelectOptions,
    ) -> AppliedPrice {
        if self.conditional_prices.is_empty() {
            return AppliedPrice::new(self, None);
        }
        let now = if ctx.at_unix_secs > 0 {
            ctx.at_unix_secs
        } else {
            crate::store::now_secs()
        };
        let found = self.best_match(usage, ctx, now, false).or_else(|| {
            (!options.disable_fuzzy_resolution)
                .then(|| self.best_match(usage, ctx, now, true))
                .flatten()
        });
        match found {
            Some(i) => AppliedPrice::new(&self.conditional_prices[i].price, Some(i)),
            None => AppliedPrice::new(self, None),
        }
    }

    /// Index of the best matching conditional price in one pass.
    fn best_match(
        &self,
        usage: &Usage,
        ctx: &UsageContext,
        now: i64,
        fuzzy: bool,
    ) -> Option<usize> {
        let mut best: Option<(usize, usize, bool)> = None; // (index, specificity, exact)
        for (i, cp) in self.conditional_prices.iter().enumerate() {
            if !ctx.matches(&cp.condition, usage, now, fuzzy) {
                continue;
            }
            let specificity = cp.condition.specificity();
            let exact = ctx.requested_resolution_exact(&cp.condition);
            let better = match best {
                None => true,
                Some((_, best_spec, best_exact)) => {
                    specificity > best_spec || (specificity == best_spec && exact && !best_exact)
                }
            };
            if better {
                best = Some((i, specificity, exact));
            }
        }
        best.map(|(i, _, _)| i)
    }
}
