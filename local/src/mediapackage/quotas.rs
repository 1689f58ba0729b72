//! MediaPackage (v1)'s live quotas, AWS's defaults unless `--mediapackage-quotas` raises them:
//! "Maximum Channels 30" and "Maximum Endpoints per Channel 10" (user guide, "Live content
//! quotas", https://docs.aws.amazon.com/mediapackage/latest/ug/live-quotas.html). Past one the
//! guide speaks of "a Resource limit exceeded error"; the error type is not documented, and
//! UnprocessableEntityException is the only client error CreateChannel / CreateOriginEndpoint
//! model for a request that is well formed.

use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub channels: usize,
    pub origin_endpoints: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            channels: 30,
            origin_endpoints: 10,
        }
    }
}

impl Quotas {
    /// `channels=N,originEndpoints=N` (any subset; the rest default).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut quotas = Self::default();
        crate::quota_flags::parse(
            spec,
            &mut [
                ("channels", &mut quotas.channels),
                ("originEndpoints", &mut quotas.origin_endpoints),
            ],
        )?;
        Ok(quotas)
    }
}

pub(super) fn exceeded(what: &str, quota: usize) -> ApiError {
    ApiError::unprocessable(format!("Resource limit exceeded: at most {quota} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_subset() {
        assert_eq!(Quotas::parse("").unwrap(), Quotas::default());
        let q = Quotas::parse("channels=1000").unwrap();
        assert_eq!((q.channels, q.origin_endpoints), (1000, 10));
        assert!(Quotas::parse("endpoints=3").is_err());
    }
}
