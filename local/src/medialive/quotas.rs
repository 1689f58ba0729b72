//! MediaLive's quotas, AWS's defaults unless `--medialive-quotas` raises them.

use crate::error::ApiError;

/// MediaLive's default quotas per account and Region ("Quotas in AWS Elemental MediaLive",
/// https://docs.aws.amazon.com/medialive/latest/ug/limits.html): channels 5, push inputs (not VPC)
/// 5, VPC push inputs 50, pull inputs 100, input security groups 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub channels: usize,
    pub push_inputs: usize,
    pub vpc_push_inputs: usize,
    pub pull_inputs: usize,
    pub input_security_groups: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            channels: 5,
            push_inputs: 5,
            vpc_push_inputs: 50,
            pull_inputs: 100,
            input_security_groups: 5,
        }
    }
}

impl Quotas {
    /// `channels=N,pushInputs=N,vpcPushInputs=N,pullInputs=N,inputSecurityGroups=N` (any subset;
    /// the rest default).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut quotas = Self::default();
        crate::quota_flags::parse(
            spec,
            &mut [
                ("channels", &mut quotas.channels),
                ("pushInputs", &mut quotas.push_inputs),
                ("vpcPushInputs", &mut quotas.vpc_push_inputs),
                ("pullInputs", &mut quotas.pull_inputs),
                ("inputSecurityGroups", &mut quotas.input_security_groups),
            ],
        )?;
        Ok(quotas)
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
