//! The MediaLive input security group: which CIDRs may publish to the input.

use aws_sdk_medialive::{
    operation::describe_input_security_group::DescribeInputSecurityGroupOutput,
    types::{InputSecurityGroup, InputWhitelistRule, InputWhitelistRuleCidr},
};

use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, owner_of};
use crate::error::{Error, Result, found};

#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroup {
    pub id: String,
    pub owner: Option<String>,
    pub cidrs: Vec<String>,
}

fn cidrs(rules: Option<&[InputWhitelistRule]>) -> Vec<String> {
    rules
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.cidr.clone())
        .collect()
}

/// The List item and the Describe answer carry the same fields.
macro_rules! security_group_from {
    ($($answer:ty),+) => {$(
        impl From<$answer> for SecurityGroup {
            fn from(g: $answer) -> Self {
                Self {
                    id: g.id.unwrap_or_default(),
                    owner: owner_of(g.tags.as_ref()),
                    cidrs: cidrs(g.whitelist_rules.as_deref()),
                }
            }
        }
    )+};
}
security_group_from!(InputSecurityGroup, DescribeInputSecurityGroupOutput);

/// The allow-lists differ as sets of CIDRs.
pub fn cidrs_differ(described: &[String], desired: &[String]) -> bool {
    let sorted = |list: &[String]| {
        let mut list = list.to_vec();
        list.sort_unstable();
        list
    };
    sorted(described) != sorted(desired)
}

fn rules(cidrs: &[String]) -> Vec<InputWhitelistRuleCidr> {
    cidrs
        .iter()
        .map(|cidr| InputWhitelistRuleCidr::builder().cidr(cidr).build())
        .collect()
}

impl Managed for SecurityGroup {
    const KIND: Kind = Kind::SecurityGroup;
    /// `spec.input.allowedCidrs`.
    type Desired = Vec<String>;

    fn id(&self) -> &str {
        &self.id
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    fn differs(&self, desired: &Vec<String>) -> bool {
        cidrs_differ(&self.cidrs, desired)
    }

    async fn create(aws: &AwsClients, desired: &Vec<String>, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .medialive
            .create_input_security_group()
            .set_whitelist_rules(Some(rules(desired)))
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| Error::aws("CreateInputSecurityGroup", e))?;
        let group = created
            .security_group
            .ok_or_else(|| Error::Waiting("CreateInputSecurityGroup returned no group".into()))?;
        Ok(Self::from(group))
    }

    async fn update(aws: &AwsClients, current: &Self, desired: &Vec<String>) -> Result<Self> {
        let updated = aws
            .medialive
            .update_input_security_group()
            .input_security_group_id(&current.id)
            .set_whitelist_rules(Some(rules(desired)))
            .send()
            .await
            .map_err(|e| Error::aws("UpdateInputSecurityGroup", e))?;
        Ok(updated.security_group.map_or_else(
            || Self {
                cidrs: desired.clone(),
                ..current.clone()
            },
            Self::from,
        ))
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws
            .medialive
            .delete_input_security_group()
            .input_security_group_id(&current.id)
            .send()
            .await;
        match found(deleted.map_err(|e| Error::aws("DeleteInputSecurityGroup", e))) {
            // Still referenced by an input that is being deleted.
            Err(e) if e.code() == Some("BadRequestException") => {
                Err(Error::Waiting(format!("security group {} is in use", current.id)))
            }
            other => other.map(drop),
        }
    }
}

impl Listed for SecurityGroup {
    async fn describe(aws: &AwsClients, id: &str) -> Result<Option<Self>> {
        let described = aws
            .medialive
            .describe_input_security_group()
            .input_security_group_id(id)
            .send()
            .await;
        Ok(found(described.map_err(|e| Error::aws("DescribeInputSecurityGroup", e)))?.map(Self::from))
    }

    async fn list(aws: &AwsClients) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        let list = aws.medialive.list_input_security_groups().max_results(PAGE);
        let mut pages = list.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("ListInputSecurityGroups", e))?;
            all.extend(
                page.input_security_groups
                    .unwrap_or_default()
                    .into_iter()
                    .map(Self::from),
            );
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_order_is_not_drift() {
        let described = ["10.0.0.0/8".to_owned(), "192.168.0.0/16".to_owned()];
        assert!(!cidrs_differ(
            &described,
            &["192.168.0.0/16".into(), "10.0.0.0/8".into()]
        ));
        assert!(cidrs_differ(&described, &["10.0.0.0/8".into()]));
    }
}
