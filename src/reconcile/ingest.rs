//! The MediaLive ingest side: the input security group (who may publish) and the RTMP input.

use aws_sdk_medialive::types::InputState;

use super::{
    Run, drift,
    listings::Kind,
    observe,
    plan::{InputFacts, InputStep, input_step},
};
use crate::{
    desired::{
        Names,
        ingest::{RtmpTarget, server_part},
        medialive::whitelist_rules,
    },
    error::{Error, Result},
};

impl Run<'_> {
    pub(super) async fn ensure_security_group(&mut self) -> Result<String> {
        let cidrs = &self.stream.spec.input.allowed_cidrs;
        let cached = self.cached(|a| a.input_security_group_id.clone());
        let id = match observe::security_group(self.aws(), &self.ctx.listings, cached.as_deref(), &self.uid).await? {
            Some(group) => {
                let id = group.id.clone().unwrap_or_default();
                if drift::cidrs_differ(group.whitelist_rules(), cidrs) {
                    self.aws()
                        .medialive
                        .update_input_security_group()
                        .input_security_group_id(&id)
                        .set_whitelist_rules(Some(whitelist_rules(&self.stream.spec.input)))
                        .send()
                        .await
                        .map_err(|e| Error::aws("UpdateInputSecurityGroup", e))?;
                    self.event(
                        "UpdatedSecurityGroup",
                        format!("Set input security group {id} to {}", cidrs.join(", ")),
                    )
                    .await;
                }
                id
            }
            None => {
                self.ctx.listings.creating(&self.uid, Kind::SecurityGroup);
                let created = self
                    .aws()
                    .medialive
                    .create_input_security_group()
                    .set_whitelist_rules(Some(whitelist_rules(&self.stream.spec.input)))
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateInputSecurityGroup", e))?;
                let id = created.security_group.and_then(|g| g.id).unwrap_or_default();
                self.event(
                    "CreatedSecurityGroup",
                    format!("Created input security group {id} for {}", cidrs.join(", ")),
                )
                .await;
                id
            }
        };
        self.ids().input_security_group_id = Some(id.clone());
        Ok(id)
    }

    /// The input; its stream name and group are brought up to date only while no channel runs on it.
    /// When the stream-key Secret cannot be read, an existing input is left as it is (so starting
    /// and stopping still work) and the problem is reported after the pass.
    pub(super) async fn ensure_input(&mut self, names: &Names, group: &str) -> Result<(String, Option<InputState>)> {
        let target = self.rtmp_target().await;
        let cached = self.cached(|a| a.input_id.clone());
        let (id, state, url) = match observe::input(self.aws(), &self.ctx.listings, cached.as_deref(), &self.uid)
            .await?
        {
            Some(input) => {
                let id = input.id.clone().unwrap_or_default();
                let url = input.destinations().first().and_then(|d| d.url.clone());
                let differs = |target: &RtmpTarget| {
                    !url.as_deref().is_some_and(|u| target.matches(u)) || input.security_groups() != [group.to_owned()]
                };
                let step = input_step(InputFacts {
                    exists: true,
                    key_known: target.is_ok(),
                    differs: target.as_ref().is_ok_and(differs),
                });
                let target = match (step, target) {
                    (InputStep::KeepAndReport, Err(e)) => {
                        self.deferred = Some(e);
                        self.status.ingest_url = url.as_deref().and_then(server_part);
                        self.ids().input_id = Some(id.clone());
                        return Ok((id, input.state));
                    }
                    (_, target) => target?,
                };
                let url = if step == InputStep::Keep {
                    url
                } else {
                    let updated = self
                        .aws()
                        .medialive
                        .update_input()
                        .input_id(&id)
                        .input_security_groups(group)
                        .set_destinations(Some(target.destinations()))
                        .send()
                        .await
                        .map_err(|e| Error::aws("UpdateInput", e).redacted(&target));
                    match updated {
                        Ok(updated) => {
                            let what = target.describe();
                            self.event("UpdatedInput", format!("Updated input {id} to stream name {what}"))
                                .await;
                            updated.input.and_then(|i| i.destinations?.first()?.url.clone())
                        }
                        // AWS refuses to change the input of a running channel.
                        Err(e) if e.code() == Some("ConflictException") => {
                            self.update_pending = Some(format!(
                                "input {id} needs stream name {}, which can change only while the channel is stopped",
                                target.describe()
                            ));
                            url
                        }
                        Err(e) => return Err(e),
                    }
                };
                (id, input.state, url.and_then(|u| target.status_url(&u)))
            }
            None => {
                // plan::input_step: Create with a known key, else Blocked (the key's problem is
                // this pass's outcome and nothing is created).
                let target = target?;
                self.ctx.listings.creating(&self.uid, Kind::Input);
                let created = self
                    .aws()
                    .medialive
                    .create_input()
                    .name(&names.input)
                    .r#type(aws_sdk_medialive::types::InputType::RtmpPush)
                    .input_security_groups(group)
                    .set_destinations(Some(target.destinations()))
                    .request_id(format!("{}-input", self.uid))
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateInput", e).redacted(&target))?;
                let input = created
                    .input
                    .ok_or_else(|| Error::Waiting("CreateInput returned no input".into()))?;
                let id = input.id.clone().unwrap_or_default();
                self.event(
                    "CreatedInput",
                    format!("Created RTMP input {id} ({})", target.describe()),
                )
                .await;
                let url = input.destinations.and_then(|d| d.first()?.url.clone());
                (id, input.state, url.and_then(|u| target.status_url(&u)))
            }
        };
        self.ids().input_id = Some(id.clone());
        self.status.ingest_url = url;
        Ok((id, state))
    }
}
