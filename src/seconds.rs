//! Durations as the log shows them: seconds with three decimals (`0.000`, `1.352`).
//! tracing writes an `f64` field in Rust's `Debug` form (`8.5077e-5`,
//! `1.3516240609999999`), which no one reads at a glance nor a log query compares; a
//! field takes a duration through this instead, with `%`: `reading_s = %Seconds(d)`.

use std::time::Duration;

/// A duration written as seconds with three decimals.
#[derive(Clone, Copy, Debug)]
pub struct Seconds(pub Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3}", self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_decimals_never_an_exponent() {
        assert_eq!(Seconds(Duration::from_nanos(85_077)).to_string(), "0.000");
        assert_eq!(
            Seconds(Duration::from_nanos(1_351_624_061)).to_string(),
            "1.352"
        );
        assert_eq!(Seconds(Duration::from_secs(600)).to_string(), "600.000");
    }
}
