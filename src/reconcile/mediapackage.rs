//! The MediaPackage side: the channel MediaLive writes into and its HLS origin endpoint.

use super::{Run, drift, observe};
use crate::{
    desired::{Names, mediapackage::hls_package},
    error::{Error, Result},
};
use kube::ResourceExt;

impl Run<'_> {
    pub(super) async fn ensure_package_channel(&mut self, names: &Names) -> Result<()> {
        match observe::package_channel(self.aws(), &names.channel).await? {
            Some(channel) => {
                observe::check_owner("MediaPackage channel", &names.channel, channel.tags.as_ref(), &self.uid)?
            }
            None => {
                self.aws()
                    .mediapackage
                    .create_channel()
                    .id(&names.channel)
                    .description(format!(
                        "LiveStream {}/{}",
                        self.stream.namespace().unwrap_or_default(),
                        self.stream.name_any()
                    ))
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateChannel", e))?;
                self.event(
                    "CreatedPackageChannel",
                    format!("Created MediaPackage channel {}", names.channel),
                )
                .await;
            }
        }
        self.ids().media_package_channel_id = Some(names.channel.clone());
        Ok(())
    }

    pub(super) async fn ensure_endpoint(&mut self, names: &Names) -> Result<()> {
        let hls = hls_package(&self.stream.spec.packaging.hls);
        let url = match observe::endpoint(self.aws(), &names.endpoint).await? {
            Some(endpoint) => {
                observe::check_owner(
                    "MediaPackage endpoint",
                    &names.endpoint,
                    endpoint.tags.as_ref(),
                    &self.uid,
                )?;
                if drift::hls_differs(endpoint.hls_package.as_ref(), &hls) {
                    self.aws()
                        .mediapackage
                        .update_origin_endpoint()
                        .id(&names.endpoint)
                        .hls_package(hls)
                        .send()
                        .await
                        .map_err(|e| Error::aws("UpdateOriginEndpoint", e))?;
                    self.event(
                        "UpdatedEndpoint",
                        format!("Updated the HLS settings of MediaPackage endpoint {}", names.endpoint),
                    )
                    .await;
                }
                endpoint.url
            }
            None => {
                let created = self
                    .aws()
                    .mediapackage
                    .create_origin_endpoint()
                    .id(&names.endpoint)
                    .channel_id(&names.channel)
                    .manifest_name("index")
                    .hls_package(hls)
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateOriginEndpoint", e));
                let created = match created {
                    // Eventual consistency: the channel created a moment ago may not be visible yet.
                    Err(e) if e.is_not_found() => {
                        return Err(Error::Waiting(format!(
                            "MediaPackage channel {} is not visible yet",
                            names.channel
                        )));
                    }
                    other => other?,
                };
                self.event(
                    "CreatedEndpoint",
                    format!("Created MediaPackage HLS endpoint {}", names.endpoint),
                )
                .await;
                created.url
            }
        };
        self.ids().origin_endpoint_id = Some(names.endpoint.clone());
        self.status.playback_url = url;
        Ok(())
    }
}
