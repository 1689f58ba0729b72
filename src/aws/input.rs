//! The MediaLive RTMP push input: its stream name (`app/instance`, the instance possibly a key from
//! a Secret) and its security group.

use aws_sdk_medialive::{
    operation::describe_input::DescribeInputOutput,
    types::{InputDestination, InputState, InputType},
};

use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, Role, Teardown, owner_of};
use crate::{
    desired::{ingest::RtmpTarget, tag},
    error::{Error, Result, found},
};

#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub id: String,
    pub owner: Option<String>,
    /// Untagged (made before roles): the primary.
    pub role: Role,
    pub state: InputState,
    /// The first destination's URL `rtmp://host:port/app/instance` (may hold a secret key: never
    /// shown): pipeline 0's.
    pub url: Option<String>,
    /// Every destination's URL, one per pipeline (two: a standard-class input).
    pub urls: Vec<String>,
    pub security_groups: Vec<String>,
}

pub struct InputRequest {
    pub name: String,
    pub security_group: String,
    pub target: RtmpTarget,
    /// Destinations: one per pipeline of the channel.
    pub pipelines: usize,
}

fn urls(destinations: Option<&[InputDestination]>) -> Vec<String> {
    destinations
        .into_iter()
        .flatten()
        .filter_map(|d| d.url.clone())
        .collect()
}

/// The List item and the Describe answer carry the same fields.
macro_rules! input_from {
    ($($answer:ty),+) => {$(
        impl From<$answer> for Input {
            fn from(i: $answer) -> Self {
                Self {
                    id: i.id.unwrap_or_default(),
                    owner: owner_of(i.tags.as_ref()),
                    role: (i.tags.as_ref().and_then(|t| t.get(tag::ROLE)))
                        .and_then(|r| Role::parse(r))
                        .unwrap_or(Role::Primary),
                    state: i.state.unwrap_or(InputState::Creating),
                    url: urls(i.destinations.as_deref()).into_iter().next(),
                    urls: urls(i.destinations.as_deref()),
                    security_groups: i.security_groups.unwrap_or_default(),
                }
            }
        }
    )+};
}
input_from!(aws_sdk_medialive::types::Input, DescribeInputOutput);

/// MediaLive's idempotency token: a create retried after a lost answer makes no second input. The
/// primary keeps the token of before roles.
fn request_id(owner: &Owner) -> String {
    match owner.role {
        Role::Main | Role::Primary => format!("{}-input", owner.uid),
        role => format!("{}-input-{}", owner.uid, role.as_str()),
    }
}

impl Managed for Input {
    const KIND: Kind = Kind::Input;
    const ROLES: &'static [Role] = &[Role::Primary, Role::Backup];
    type Desired = InputRequest;

    fn id(&self) -> &str {
        &self.id
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    fn role(&self) -> Role {
        self.role
    }

    /// A standard-class input serves a single-pipeline channel too (MediaLive ingests its first
    /// destination): only too few destinations differ.
    fn differs(&self, desired: &InputRequest) -> bool {
        self.urls.len() < desired.pipelines
            || !self.urls.iter().all(|u| desired.target.matches(u))
            || self.security_groups != [desired.security_group.clone()]
    }

    /// AWS deletes only a detached input: the channel that holds it goes first.
    fn teardown(&self) -> Teardown {
        match &self.state {
            InputState::Detached => Teardown::Delete { settles: true },
            other => Teardown::Wait(format!("the input is {other}")),
        }
    }

    async fn create(aws: &AwsClients, desired: &InputRequest, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .medialive
            .create_input()
            .name(&desired.name)
            .r#type(InputType::RtmpPush)
            .input_security_groups(&desired.security_group)
            .set_destinations(Some(desired.target.destinations(desired.pipelines)))
            .request_id(request_id(owner))
            .set_tags(Some(owner.tags_with_role()))
            .send()
            .await
            .map_err(|e| Error::aws("CreateInput", e).redacted(&desired.target))?;
        let input = created
            .input
            .ok_or_else(|| Error::Waiting("CreateInput returned no input".into()))?;
        Ok(Self::from(input))
    }

    /// AWS refuses (ConflictException) while a running channel uses the input. The input keeps
    /// its second destination when the spec goes back to one pipeline: the channel may still be
    /// STANDARD until its own update, and MediaLive ignores it on a single-pipeline channel.
    async fn update(aws: &AwsClients, current: &Self, desired: &InputRequest) -> Result<Self> {
        let pipelines = desired.pipelines.max(current.urls.len());
        let updated = aws
            .medialive
            .update_input()
            .input_id(&current.id)
            .input_security_groups(&desired.security_group)
            .set_destinations(Some(desired.target.destinations(pipelines)))
            .send()
            .await
            .map_err(|e| Error::aws("UpdateInput", e).redacted(&desired.target))?;
        Ok(updated.input.map_or_else(|| current.clone(), Self::from))
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws.medialive.delete_input().input_id(&current.id).send().await;
        found(deleted.map_err(|e| Error::aws("DeleteInput", e))).map(drop)
    }
}

impl Listed for Input {
    fn settling(&self) -> bool {
        matches!(self.state, InputState::Creating | InputState::Deleting)
    }

    async fn describe(aws: &AwsClients, id: &str) -> Result<Option<Self>> {
        let described = aws.medialive.describe_input().input_id(id).send().await;
        let input = found(described.map_err(|e| Error::aws("DescribeInput", e)))?;
        Ok(input.map(Self::from).filter(|i| i.state != InputState::Deleted))
    }

    async fn list(aws: &AwsClients) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        let mut pages = aws.medialive.list_inputs().max_results(PAGE).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("ListInputs", e))?;
            let inputs = page.inputs.unwrap_or_default().into_iter().map(Self::from);
            all.extend(inputs.filter(|i| i.state != InputState::Deleted));
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn an_input_made_before_roles_is_the_primary_and_a_tagged_one_keeps_its_role() {
        let answer = |tags: &[(&str, &str)]| {
            let tags: HashMap<_, _> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Input::from(
                aws_sdk_medialive::types::Input::builder()
                    .id("1")
                    .set_tags(Some(tags))
                    .build(),
            )
        };
        assert_eq!(answer(&[(tag::UID, "u")]).role, Role::Primary);
        assert_eq!(answer(&[(tag::UID, "u"), (tag::ROLE, "backup")]).role, Role::Backup);
        let owner = Owner {
            uid: "u",
            tags: &HashMap::new(),
            role: Role::Primary,
        };
        // The primary keeps the idempotency token of before roles: a retried create adopts.
        assert_eq!(request_id(&owner), "u-input");
        assert_eq!(
            request_id(&Owner {
                role: Role::Backup,
                ..owner
            }),
            "u-input-backup"
        );
        assert_eq!(owner.tags_with_role()[tag::ROLE], "primary");
    }
}
