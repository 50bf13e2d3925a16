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
    let open: Vec<usize> = (0..candidates.len())
        .filter(|&i| !excluded(&candidates[i]))
        .collect();
    let healthy: Vec<usize> = open
        .iter()
        .copied()
        .filter(|&i| !health[i].banned && health[i].error_rate <= MAX_HEALTHY_ERROR_RATE)
        .collect();
    let unbanned: Vec<usize> = open
        .iter()
        .copied()
        .filter(|&i| !health[i].banned)
        .collect();
    let tier = [healthy, unbanned, open]
        .into_iter()
        .find(|t| !t.is_empty())?;
    let weights: Vec<f64> = tier
        .iter()
        .map(|&i| weight(candidates[i].priority, health[i].error_rate))
        .collect();
    Some(tier[weighted_index(&weights, &mut rand::rng())])
}

fn weighted_index(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return rng.random_range(0..weights.len());
    }
    let mut target = rng.random_range(0.0..total);
    for (i, w) in weights.iter().enumerate() {
        if target < *w {
            return i;
        }
        target -= w;
    }
    weights.len() - 1
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

    #[test]
    fn weighted_index_follows_weights() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut hits = [0; 2];
        for _ in 0..10_000 {
            hits[weighted_index(&[1.0, 9.0], &mut rng)] += 1;
        }
        assert!(hits[1] > 8_500 && hits[1] < 9_500, "{hits:?}");
    }
}
