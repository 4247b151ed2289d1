//! Synthetic series shared by the change-point tests and the rate/timing examples.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// `len` figures whose level is `level(i)`, with multiplicative normal noise of relative sd
/// `noise`, from `seed`.
pub fn series(len: usize, noise: f64, seed: u64, level: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let z = Normal::new(0.0, noise).unwrap();
    (0..len)
        .map(|i| level(i) * (1.0 + z.sample(&mut rng)))
        .collect()
}

/// A step from 100 to `100·(1+step)` at index `at`.
pub fn step(len: usize, at: usize, step: f64, noise: f64, seed: u64) -> Vec<f64> {
    series(len, noise, seed, |i| {
        if i < at { 100.0 } else { 100.0 * (1.0 + step) }
    })
}
