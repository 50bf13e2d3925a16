//! Weighted channel selection (AI Proxy's policy, kept as the baseline):
//! weight = priority / (error_rate + 0.1)², drawn at random, from the first
//! non-empty tier of: healthy (rate ≤ 0.85, not banned); not banned; any.

use std::sync::Arc;

use rand::Rng;

use super::monitor::Health;
use crate::snapshot::ChannelEntry;

/// Error rate above which a channel is used only when nothing healthier is left.
pub const MAX_HEALTHY_ERROR_RATE: f64 = 0.85;
const RATE_SMOOTHING: f64 = 0.1;

/// A candidate's selection weight.
pub fn weight(priority: f64, error_rate: f64) -> f64 {
    let base = error_rate.clamp(0.0, 1.0) + RATE_SMOOTHING;
    priority / (base * base)
}

/// Pick one of `candidates` (parallel to `health`), skipping indices for
/// which `excluded` returns true. `None` when every candidate is excluded.
pub fn pick(
    candidates: &[Arc<ChannelEntry>],
    health: &[Health],
    excluded: impl Fn(&ChannelEntry) -> bool,
) -> Option<usize> {
    // The tiers are filters over the indices, not lists: a pick allocates
    // nothing, and it runs for every attempt.
    let open = |i: &usize| !excluded(&candidates[*i]);
    let unbanned = |i: &usize| open(i) && !health[*i].banned;
    let healthy = |i: &usize| unbanned(i) && health[*i].error_rate <= MAX_HEALTHY_ERROR_RATE;
    let tiers: [&dyn Fn(&usize) -> bool; 3] = [&healthy, &unbanned, &open];
    let all = 0..candidates.len();
    let in_tier = tiers
        .into_iter()
        .find(|in_tier| all.clone().any(|i| in_tier(&i)))?;
    let members = all
        .filter(in_tier)
        .map(|i| (i, weight(candidates[i].priority, health[i].error_rate)));
    weighted_choice(members, &mut rand::rng())
}

/// Draw one of `members` (index, weight) with probability proportional to
/// its weight; uniformly when the weights sum to nothing usable.
fn weighted_choice(
    members: impl Iterator<Item = (usize, f64)> + Clone,
    rng: &mut impl Rng,
) -> Option<usize> {
    let total: f64 = members.clone().map(|(_, w)| w).sum();
    if total <= 0.0 || !total.is_finite() {
        let count = members.clone().count();
        if count == 0 {
            return None;
        }
        return members.map(|(i, _)| i).nth(rng.random_range(0..count));
    }
    let mut target = rng.random_range(0.0..total);
    let mut last = None;
    for (i, w) in members {
        if target < w {
            return Some(i);
        }
        target -= w;
        last = Some(i);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn weights_match_ai_proxy_vectors() {
        assert!((weight(10.0, 0.0) - 1000.0).abs() < 1e-6);
        assert!((weight(10.0, 0.01) - 826.446).abs() < 1e-2);
        assert!((weight(10.0, 0.05) - 444.444).abs() < 1e-2);
        assert!((weight(10.0, 0.5) - 27.777).abs() < 1e-2);
        assert!((weight(10.0, 3.0) - weight(10.0, 1.0)).abs() < 1e-9);
    }

    /// How often each index is drawn from `members` in 10,000 draws.
    fn draws<const N: usize>(members: [(usize, f64); 2]) -> [u32; N] {
        let mut rng = StdRng::seed_from_u64(7);
        let mut hits = [0; N];
        for _ in 0..10_000 {
            hits[weighted_choice(members.into_iter(), &mut rng).unwrap()] += 1;
        }
        hits
    }

    #[test]
    fn weighted_choice_follows_weights() {
        let hits: [u32; 3] = draws([(0, 1.0), (2, 9.0)]);
        assert_eq!(hits[1], 0, "only members are drawn");
        assert!(hits[2] > 8_500 && hits[2] < 9_500, "{hits:?}");
    }

    #[test]
    fn weighted_choice_without_usable_weights_is_uniform() {
        let hits: [u32; 4] = draws([(1, 0.0), (3, 0.0)]);
        assert_eq!(hits[0] + hits[2], 0, "only members are drawn");
        assert!(hits[1] > 4_500 && hits[3] > 4_500, "{hits:?}");
        let mut rng = StdRng::seed_from_u64(7);
        let none = std::iter::empty::<(usize, f64)>();
        assert_eq!(weighted_choice(none, &mut rng), None);
        let infinite = [(5, f64::INFINITY)].into_iter();
        assert_eq!(weighted_choice(infinite, &mut rng), Some(5));
    }
}
