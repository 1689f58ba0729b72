//! The MediaLive input: an RTMP push input (its stream name `app/instance`, the instance possibly a
//! key from a Secret) or an SRT input (listener or caller, decrypting with the passphrase secret),
//! and its security group (push inputs only).

use aws_sdk_medialive::{
    operation::describe_input::DescribeInputOutput,
    types::{InputDestination, InputState, InputType, SrtSettings, SrtSettingsRequest},
};

use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, Role, Teardown, owner_of};
use crate::{
    desired::{ingest::IngestTarget, tag},
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
    pub input_type: Option<InputType>,
    /// The SRT settings as `srt_fingerprint` condenses them (none for RTMP).
    pub srt: Option<String>,
}

pub struct InputRequest {
    pub name: String,
    pub security_group: String,
    pub target: IngestTarget,
    /// Destinations: one per pipeline of the channel.
    pub pipelines: usize,
    /// The Secrets Manager secret an SRT input decrypts with.
    pub secret_arn: Option<String>,
}

impl InputRequest {
    fn input_type(&self) -> InputType {
        match self.target.srt() {
            None => InputType::RtmpPush,
            Some(srt) if srt.mode == crate::api::SrtMode::Caller => InputType::SrtCaller,
            Some(_) => InputType::SrtListener,
        }
    }

    fn srt_settings(&self) -> Option<SrtSettingsRequest> {
        Some(self.target.srt()?.settings(self.secret_arn.as_deref()?))
    }

    /// The SRT settings as `Input::srt` holds them once AWS has them.
    pub fn srt_fingerprint(&self) -> Option<String> {
        self.srt_settings().as_ref().and_then(srt_request_fingerprint)
    }

    /// A push input has a security group; MediaLive pulls from a caller input's source.
    fn security_groups(&self) -> Vec<String> {
        match self.input_type() {
            InputType::SrtCaller => Vec::new(),
            _ => vec![self.security_group.clone()],
        }
    }
}

/// What the operator owns of an input's SRT settings, as one comparable string: AWS's answer
/// (`SrtSettings`) and the request (`SrtSettingsRequest`) have the same members in different types.
macro_rules! srt_fingerprint {
    ($name:ident, $settings:ty) => {
        fn $name(s: &$settings) -> Option<String> {
            if let Some(l) = s.srt_listener_settings() {
                let d = l.decryption();
                let (algorithm, arn) = (
                    d.and_then(|d| d.algorithm()),
                    d.and_then(|d| d.passphrase_secret_arn()),
                );
                let (latency, id) = (l.minimum_latency(), l.stream_id());
                return Some(format!("listener|{latency:?}|{id:?}|{algorithm:?}|{arn:?}"));
            }
            let c = s.srt_caller_sources().first()?;
            let d = c.decryption();
            let (algorithm, arn) = (
                d.and_then(|d| d.algorithm()),
                d.and_then(|d| d.passphrase_secret_arn()),
            );
            let (latency, id) = (c.minimum_latency(), c.stream_id());
            let (address, port) = (c.srt_listener_address(), c.srt_listener_port());
            Some(format!(
                "caller|{latency:?}|{id:?}|{algorithm:?}|{arn:?}|{address:?}|{port:?}"
            ))
        }
    };
}
srt_fingerprint!(srt_fingerprint, SrtSettings);
srt_fingerprint!(srt_request_fingerprint, SrtSettingsRequest);

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
                    input_type: i.r#type,
                    srt: i.srt_settings.as_ref().and_then(srt_fingerprint),
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
        let pushes = desired.input_type() != InputType::SrtCaller;
        (pushes && self.urls.len() < desired.pipelines)
            || !self.urls.iter().all(|u| desired.target.matches(u))
            || self.security_groups != desired.security_groups()
            || self.srt != desired.srt_fingerprint()
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
            .r#type(desired.input_type())
            .set_input_security_groups(Some(desired.security_groups()).filter(|g| !g.is_empty()))
            .set_destinations(Some(desired.target.destinations(desired.pipelines)).filter(|d| !d.is_empty()))
            .set_srt_settings(desired.srt_settings())
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
            .set_input_security_groups(Some(desired.security_groups()).filter(|g| !g.is_empty()))
            .set_destinations(Some(desired.target.destinations(pipelines)).filter(|d| !d.is_empty()))
            .set_srt_settings(desired.srt_settings())
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
