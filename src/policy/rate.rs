//! Rate limits written `N/unit` (`10/min`, `5/second`).

use std::fmt;

/// The time unit of a [`RateLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateUnit {
    /// Per second (`sec`, `second`).
    Second,
    /// Per minute (`min`, `minute`).
    Minute,
    /// Per hour (`hour`); rule rate limits only.
    Hour,
}

/// `count` packets (or log lines) per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct RateLimit {
    /// How many per unit; at least 1.
    pub count: u32,
    /// The unit.
    pub per: RateUnit,
}

impl RateLimit {
    /// Parses `N/unit`. Units: `sec`/`second`, `min`/`minute`, and with
    /// `allow_hour` also `hour`. `N` is a decimal integer from 1 to
    /// 4294967295 (nf_tables' `limit` rate is a 64-bit count, our type is u32
    /// because no sane policy needs more). On failure returns the explanation.
    pub fn parse(text: &str, allow_hour: bool) -> Result<RateLimit, String> {
        let units = if allow_hour {
            "sec, second, min, minute, hour"
        } else {
            "sec, second, min, minute"
        };
        let expected = format!("expected N/unit with N ≥ 1 and unit one of {units}");
        let Some((count_text, unit_text)) = text.split_once('/') else {
            return Err(format!(
                "'{}' is not a rate: {expected}",
                super::node::shorten(text)
            ));
        };
        let count = count_text
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1 && count_text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                format!(
                    "'{}' is not a rate: '{}' is not a whole number from 1 to {}",
                    super::node::shorten(text),
                    super::node::shorten(count_text),
                    u32::MAX
                )
            })?;
        let per = match unit_text {
            "sec" | "second" => RateUnit::Second,
            "min" | "minute" => RateUnit::Minute,
            "hour" if allow_hour => RateUnit::Hour,
            _ => {
                return Err(format!(
                    "'{}' is not a rate: unknown unit '{}' (expected one of {units})",
                    super::node::shorten(text),
                    super::node::shorten(unit_text)
                ))
            }
        };
        Ok(RateLimit { count, per })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per {
            RateUnit::Second => "second",
            RateUnit::Minute => "minute",
            RateUnit::Hour => "hour",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_long_units() {
        let ok = |s: &str| RateLimit::parse(s, true).unwrap().to_string();
        assert_eq!(ok("10/min"), "10/minute");
        assert_eq!(ok("10/minute"), "10/minute");
        assert_eq!(ok("3/sec"), "3/second");
        assert_eq!(ok("3/second"), "3/second");
        assert_eq!(ok("100/hour"), "100/hour");
    }

    #[test]
    fn rejects_malformed_rates() {
        let err = |s: &str, hour: bool| RateLimit::parse(s, hour).unwrap_err();
        assert_eq!(err("10", true), "'10' is not a rate: expected N/unit with N ≥ 1 and unit one of sec, second, min, minute, hour");
        assert_eq!(
            err("0/min", true),
            "'0/min' is not a rate: '0' is not a whole number from 1 to 4294967295"
        );
        assert_eq!(
            err("+5/min", true),
            "'+5/min' is not a rate: '+5' is not a whole number from 1 to 4294967295"
        );
        assert_eq!(err("5/day", true), "'5/day' is not a rate: unknown unit 'day' (expected one of sec, second, min, minute, hour)");
        assert_eq!(err("5/hour", false), "'5/hour' is not a rate: unknown unit 'hour' (expected one of sec, second, min, minute)");
    }
}
