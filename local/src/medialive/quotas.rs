//! MediaLive's quotas, AWS's defaults unless `--medialive-quotas` raises them.

use crate::protocol::ApiError;

crate::quota_flags::quotas! {
    /// MediaLive's default quotas per account and Region ("Quotas in AWS Elemental MediaLive",
    /// https://docs.aws.amazon.com/medialive/latest/ug/limits.html): channels 5, push inputs (not VPC)
    /// 5, VPC push inputs 50, pull inputs 100, input security groups 5.
    pub struct Quotas {
        channels: "channels" = 5,
        push_inputs: "pushInputs" = 5,
        vpc_push_inputs: "vpcPushInputs" = 50,
        pull_inputs: "pullInputs" = 100,
        input_security_groups: "inputSecurityGroups" = 5,
    }
}

/// A create over a quota. The model lists `TooManyRequestsException` (429) as CreateInput's
/// "Limit exceeded" and CreateInputSecurityGroup's "Limit Exceeded Error"; the exact message AWS
/// sends was not found in public sources, so the words are ours.
pub fn exceeded(what: &str, quota: usize) -> ApiError {
    ApiError::too_many_requests(format!(
        "Limit exceeded: this account already has the maximum of {quota} {what} in this Region"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_subset_and_keeps_aws_defaults_for_the_rest() {
        let q = Quotas::parse("channels=2000, pushInputs=2000").unwrap();
        assert_eq!((q.channels, q.push_inputs, q.pull_inputs), (2000, 2000, 100));
        assert_eq!(Quotas::parse("").unwrap(), Quotas::default());
        assert!(Quotas::parse("inputs=3").unwrap_err().contains("pushInputs"));
        assert_eq!(exceeded("channels", 5).status.as_u16(), 429);
        assert_eq!(exceeded("channels", 5).kind, "TooManyRequestsException");
    }
}
