//! Port selections: `any`, one port, a range `8000-8100` or a list (2.1).

use std::fmt;

/// An inclusive range of ports, `first ≤ last`, both in 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct PortRange {
    /// First port of the range.
    pub first: u16,
    /// Last port of the range (equal to `first` for a single port).
    pub last: u16,
}

impl PortRange {
    /// A single port.
    pub fn single(port: u16) -> PortRange {
        PortRange {
            first: port,
            last: port,
        }
    }

    /// Checks a port number written in the policy: 1–65535.
    pub fn port_number(value: i128) -> Result<u16, String> {
        u16::try_from(value)
            .ok()
            .filter(|port| *port >= 1)
            .ok_or_else(|| format!("port {value} is out of range 1–65535"))
    }

    /// Parses `"22"` or `"8000-8100"` (the string forms of schema 2.1).
    pub fn parse(text: &str) -> Result<PortRange, String> {
        let number = |part: &str| -> Result<u16, String> {
            // Leading zeros are refused: YAML 1.1 reads `022` as octal 18.
            if part.is_empty()
                || part.len() > 6
                || !part.bytes().all(|b| b.is_ascii_digit())
                || part.starts_with('0') && part != "0"
            {
                return Err(format!(
                    "'{}' is not a port or port range (expected N or N-M with ports 1–65535)",
                    super::node::shorten(text)
                ));
            }
            let value = part.parse::<i128>().map_err(|e| e.to_string())?;
            PortRange::port_number(value)
        };
        match text.split_once('-') {
            None => Ok(PortRange::single(number(text)?)),
            Some((first, last)) => {
                let (first, last) = (number(first)?, number(last)?);
                if first > last {
                    return Err(format!(
                        "port range '{text}' runs backwards (write '{last}-{first}')"
                    ));
                }
                Ok(PortRange { first, last })
            }
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// Which destination ports a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ports {
    /// Every port (or no port concept: ICMP). Serialised as `"any"`.
    Any,
    /// These ranges: sorted, overlapping and adjacent ranges merged, never
    /// empty. Serialised as a list of `{first, last}`.
    Ranges(Vec<PortRange>),
}

impl Ports {
    /// Normalises ranges: sort, then merge overlapping or touching ones, so
    /// `[80, 443, 79-81]` and `[79-81, 443]` compare equal.
    pub fn from_ranges(mut ranges: Vec<PortRange>) -> Ports {
        ranges.sort();
        let mut merged: Vec<PortRange> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                Some(last) if u32::from(range.first) <= u32::from(last.last) + 1 => {
                    last.last = last.last.max(range.last);
                }
                _ => merged.push(range),
            }
        }
        Ports::Ranges(merged)
    }
}

impl serde::Serialize for Ports {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ports::Any => serializer.serialize_str("any"),
            Ports::Ranges(ranges) => ranges.serialize(serializer),
        }
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports::Any => f.write_str("any"),
            Ports::Ranges(ranges) => {
                for (i, range) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{range}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ports_and_ranges() {
        assert_eq!(PortRange::parse("22").unwrap(), PortRange::single(22));
        assert_eq!(
            PortRange::parse("8000-8100").unwrap(),
            PortRange {
                first: 8000,
                last: 8100
            }
        );
        assert_eq!(
            PortRange::parse("0").unwrap_err(),
            "port 0 is out of range 1–65535"
        );
        assert_eq!(
            PortRange::parse("1-70000").unwrap_err(),
            "port 70000 is out of range 1–65535"
        );
        assert_eq!(
            PortRange::parse("90-80").unwrap_err(),
            "port range '90-80' runs backwards (write '80-90')"
        );
        assert_eq!(
            PortRange::parse("8000-").unwrap_err(),
            "'8000-' is not a port or port range (expected N or N-M with ports 1–65535)"
        );
        assert_eq!(
            PortRange::parse("99999999999999999999").unwrap_err(),
            "'99999999999999999999' is not a port or port range (expected N or N-M with ports 1–65535)"
        );
    }

    #[test]
    fn merges_overlapping_ranges() {
        let ports = Ports::from_ranges(vec![
            PortRange::single(443),
            PortRange::single(80),
            PortRange {
                first: 79,
                last: 81,
            },
            PortRange::single(82),
        ]);
        assert_eq!(ports.to_string(), "79-82,443");
    }
}
