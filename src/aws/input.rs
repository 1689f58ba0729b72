//! The MediaLive RTMP push input: its stream name (`app/instance`, the instance possibly a key from
//! a Secret) and its security group.

use aws_sdk_medialive::{
    operation::describe_input::DescribeInputOutput,
    types::{InputDestination, InputState, InputType},
};

use super::{AwsClients, Kind, Managed, Owner, PAGE, owner_of};
use crate::{
    desired::ingest::RtmpTarget,
    error::{Error, Result, found},
};

#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub id: String,
    pub owner: Option<String>,
    pub state: InputState,
    /// The destination URL `rtmp://host:port/app/instance` (may hold a secret key: never shown).
    pub url: Option<String>,
    pub security_groups: Vec<String>,
}

pub struct InputRequest {
    pub name: String,
    pub security_group: String,
    pub target: RtmpTarget,
}

fn url(destinations: Option<&[InputDestination]>) -> Option<String> {
    destinations?.first()?.url.clone()
}

/// The List item and the Describe answer carry the same fields.
macro_rules! input_from {
    ($($answer:ty),+) => {$(
        impl From<$answer> for Input {
            fn from(i: $answer) -> Self {
                Self {
                    id: i.id.unwrap_or_default(),
                    owner: owner_of(i.tags.as_ref()),
                    state: i.state.unwrap_or(InputState::Creating),
                    url: url(i.destinations.as_deref()),
                    security_groups: i.security_groups.unwrap_or_default(),
                }
            }
        }
    )+};
}
input_from!(aws_sdk_medialive::types::Input, DescribeInputOutput);

impl Managed for Input {
    const KIND: Kind = Kind::Input;
    type Desired = InputRequest;

    fn id(&self) -> &str {
        &self.id
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    fn settling(&self) -> bool {
        matches!(self.state, InputState::Creating | InputState::Deleting)
    }

    fn differs(&self, desired: &InputRequest) -> bool {
        !self.url.as_deref().is_some_and(|u| desired.target.matches(u))
            || self.security_groups != [desired.security_group.clone()]
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

    async fn create(aws: &AwsClients, desired: &InputRequest, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .medialive
            .create_input()
            .name(&desired.name)
            .r#type(InputType::RtmpPush)
            .input_security_groups(&desired.security_group)
            .set_destinations(Some(desired.target.destinations()))
            .request_id(format!("{}-input", owner.uid))
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| Error::aws("CreateInput", e).redacted(&desired.target))?;
        let input = created
            .input
            .ok_or_else(|| Error::Waiting("CreateInput returned no input".into()))?;
        Ok(Self::from(input))
    }

    /// AWS refuses (ConflictException) while a running channel uses the input.
    async fn update(aws: &AwsClients, current: &Self, desired: &InputRequest) -> Result<Self> {
        let updated = aws
            .medialive
            .update_input()
            .input_id(&current.id)
            .input_security_groups(&desired.security_group)
            .set_destinations(Some(desired.target.destinations()))
            .send()
            .await
            .map_err(|e| Error::aws("UpdateInput", e).redacted(&desired.target))?;
        Ok(updated.input.map_or_else(|| current.clone(), Self::from))
    }

    async fn delete(aws: &AwsClients, id: &str) -> Result<()> {
        let deleted = aws.medialive.delete_input().input_id(id).send().await;
        found(deleted.map_err(|e| Error::aws("DeleteInput", e))).map(drop)
    }
}
