//! CloudFront's default quotas, raisable with `--cloudfront-quotas` as one asks AWS to. From the
//! developer guide's "Quotas" page
//! (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html):
//! 500 distributions per account, 100 origin access controls per account, 100 distributions per
//! origin access control, and an origin response (read) timeout and keep-alive timeout of 1–60
//! seconds per origin (each adjustable).

/// CloudFront's soft quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub distributions: usize,
    pub origin_access_controls: usize,
    pub distributions_per_oac: usize,
    pub origin_read_timeout: u64,
    pub origin_keepalive_timeout: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            distributions: 500,
            origin_access_controls: 100,
            distributions_per_oac: 100,
            origin_read_timeout: 60,
            origin_keepalive_timeout: 60,
        }
    }
}

impl Quotas {
    /// `distributions=N,originAccessControls=N,distributionsPerOac=N,originReadTimeout=N,
    /// originKeepaliveTimeout=N` (any subset; the rest default).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut quotas = Self::default();
        let mut read = quotas.origin_read_timeout as usize;
        let mut keepalive = quotas.origin_keepalive_timeout as usize;
        crate::quota_flags::parse(
            spec,
            &mut [
                ("distributions", &mut quotas.distributions),
                ("originAccessControls", &mut quotas.origin_access_controls),
                ("distributionsPerOac", &mut quotas.distributions_per_oac),
                ("originReadTimeout", &mut read),
                ("originKeepaliveTimeout", &mut keepalive),
            ],
        )?;
        (quotas.origin_read_timeout, quotas.origin_keepalive_timeout) = (read as u64, keepalive as u64);
        Ok(quotas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_subset() {
        let q = Quotas::parse("distributions=2000, originAccessControls=1000,distributionsPerOac=300").unwrap();
        assert_eq!(
            (q.distributions, q.origin_access_controls, q.distributions_per_oac),
            (2000, 1000, 300)
        );
        assert_eq!(q.origin_read_timeout, 60);
        assert!(Quotas::parse("oacs=1").is_err());
        assert_eq!(Quotas::parse("").unwrap(), Quotas::default());
    }
}
