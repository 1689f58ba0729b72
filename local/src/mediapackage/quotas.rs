//! MediaPackage (v1)'s live quotas, AWS's defaults unless `--mediapackage-quotas` raises them:
//! "Maximum Channels 30" and "Maximum Endpoints per Channel 10" (user guide, "Live content
//! quotas", https://docs.aws.amazon.com/mediapackage/latest/ug/live-quotas.html). Past one the
//! guide speaks of "a Resource limit exceeded error"; the error type is not documented, and
//! UnprocessableEntityException is the only client error CreateChannel / CreateOriginEndpoint
//! model for a request that is well formed.

use crate::protocol::ApiError;

crate::quota_flags::quotas! {
    pub struct Quotas {
        channels: "channels" = 30,
        origin_endpoints: "originEndpoints" = 10,
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
