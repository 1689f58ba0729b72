//! CloudFront's default quotas, raisable with `--cloudfront-quotas` as one asks AWS to. From the
//! developer guide's "Quotas" page
//! (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html):
//! 500 distributions per account, 100 origin access controls per account, 100 distributions per
//! origin access control, and an origin response (read) timeout and keep-alive timeout of 1–60
//! seconds per origin (each adjustable).

crate::quota_flags::quotas! {
    /// CloudFront's soft quotas.
    pub struct Quotas {
        distributions: "distributions" = 500,
        origin_access_controls: "originAccessControls" = 100,
        distributions_per_oac: "distributionsPerOac" = 100,
        origin_read_timeout: "originReadTimeout" = 60,
        origin_keepalive_timeout: "originKeepaliveTimeout" = 60,
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
