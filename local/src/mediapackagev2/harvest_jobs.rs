//! Harvest jobs (live-to-VOD): CreateHarvestJob, GetHarvestJob, ListHarvestJobs and
//! CancelHarvestJob on an origin endpoint, and the job itself, which cuts the requested range
//! from the channel's retained segments into an HLS VOD asset in S3.
//!
//! A job is `QUEUED` until its `EndTime` has passed (plus a segment, so the last one is
//! complete; AWS supports "real-time harvesting" of ongoing streams), then `IN_PROGRESS` while it
//! writes, then `COMPLETED` — or `FAILED` with an `ErrorMessage`, or `CANCELLED` by
//! CancelHarvestJob while queued or in progress (later: `HARVEST_JOB_INELIGIBLE_FOR_CANCELLATION`).
//!
//! S3: MediaPackage v2 has no role for harvesting (the model's `S3DestinationConfig` has only
//! `BucketName` and `DestinationPath`), so the `mediapackagev2.amazonaws.com` service principal
//! writes, and the bucket policy must grant it `s3:PutObject` (conditions evaluated with
//! `aws:SourceArn` = the harvest job's ARN, `aws:SourceAccount` = the account). CreateHarvestJob
//! checks it first (the model's `HARVEST_JOB_UNABLE_TO_WRITE_TO_S3_DESTINATION`); a write
//! refused later fails the job with S3's answer in its `ErrorMessage`.
//!
//! What lands under `DestinationPath` (the layout is ours: AWS does not document it), for each
//! harvested HLS manifest `M` of a TS endpoint: `M.m3u8` (multivariant), `M_{rendition}.m3u8`
//! (VOD media playlists) and the segments, written once however many manifests name them:
//! `{rendition}/{SegmentName}_{sequence}.ts` — or, of a CMAF endpoint's HLS or low-latency HLS
//! manifest, fragmented MP4: `{rendition}/{SegmentName}_init_{run}.mp4` and
//! `{rendition}/{SegmentName}_{sequence}.mp4`, named by `EXT-X-MAP` ([`super::harvest_cut`]).
//! DASH manifests are refused at run time (FAILED, saying so): livestream-local harvests HLS only.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{
    MediaPackageV2, State,
    client_tokens::{remember, replayed},
    errors::{conflict, not_found, validation},
    harvest_cut,
    harvest_rules::{self, check_create, harvested, vod_master},
    manifests::{ManifestKind, ManifestSettings},
    member_str,
    meta::{Meta, meta_json, new_meta},
    origin::packaging,
    origin_endpoints::endpoint,
    pagination::page,
    tags::tags_of,
};
use crate::{
    media::{
        Media, layout,
        recorder::{ObjectStore, PutObject, ServiceGrant},
    },
    protocol::{ApiError, ApiRequest, ApiResult, parse_body},
};

/// The service principal that writes harvested assets.
const SERVICE: &str = "mediapackagev2.amazonaws.com";

/// How long a job stays QUEUED at least (AWS queues jobs; a client sees the state).
const QUEUED_AT_LEAST: Duration = Duration::from_millis(500);

/// (group, channel, job name): names are unique within a channel (model).
pub(super) type JobKey = (String, String, String);

pub(super) struct Job {
    endpoint: String,
    meta: Meta,
    request: Value,
    pub(super) status: &'static str,
    error: Option<String>,
}

/// What the job's task needs: the media and the S3 it writes to (set at startup).
#[derive(Clone)]
pub struct HarvestSink {
    pub media: Media,
    pub store: Arc<dyn ObjectStore>,
}

impl MediaPackageV2 {
    /// Where harvest jobs read media and write assets.
    pub fn attach_harvest_sink(&self, sink: HarvestSink) {
        let _ = self.inner.sink.set(sink);
    }

    /// The longest `StartoverWindowSeconds` of the channel's endpoints (what its media must keep).
    pub fn longest_startover_window(&self, g: &str, c: &str) -> Option<f64> {
        let state = self.inner.state.lock().unwrap();
        let channel = state.groups.get(g)?.channels.get(c)?;
        let windows = channel.endpoints.values().filter_map(|e| {
            let described = self.endpoint_json(g, c, e);
            described["StartoverWindowSeconds"].as_f64()
        });
        windows.reduce(f64::max)
    }

    pub(super) async fn create_harvest_job(&self, req: &ApiRequest) -> ApiResult<Value> {
        let body: Value = parse_body(&req.body)?;
        let path = req.path();
        let at = |i: usize| path.get(i).copied().unwrap_or_default().to_owned();
        let (g, c, e) = (at(1), at(3), at(5));
        let name = match body["HarvestJobName"].as_str() {
            Some(name) => name.to_owned(),
            None => format!("harvest-{}", uuid::Uuid::new_v4().simple()),
        };
        let arn = {
            let state = self.inner.state.lock().unwrap();
            if replayed(&state, "CreateHarvestJob", req, &body)? {
                let key = (g.clone(), c.clone(), name.clone());
                if let Some(job) = state.harvest_jobs.get(&key) {
                    return Ok(self.job_json(&key, job));
                }
            }
            let described = self.endpoint_json(&g, &c, endpoint(&state, &g, &c, &e)?);
            check_create(&body, &described, now())?;
            if state.harvest_jobs.contains_key(&(g.clone(), c.clone(), name.clone())) {
                return Err(exists(&name, &c));
            }
            format!("{}/harvestJob/{name}", described["Arn"].as_str().unwrap_or_default())
        };
        // The destination must take the service principal's writes.
        let destination = &body["Destination"]["S3Destination"];
        let bucket = member_str(destination, "BucketName");
        let first = harvested(&body).first().map(|(_, m)| m.clone()).unwrap_or_default();
        let key = object_key(&member_str(destination, "DestinationPath"), &format!("{first}.m3u8"));
        if let Some(store) = self.inner.sink.get().map(|s| s.store.clone()) {
            let grant = self.grant(&arn);
            let probe = PutObject {
                bucket: &bucket,
                key: &key,
                body: Vec::new(),
                content_type: M3U8,
                acl: None,
            };
            if let Err(why) = store.service_put(grant, probe, true).await {
                return Err(validation(
                    "HARVEST_JOB_UNABLE_TO_WRITE_TO_S3_DESTINATION",
                    format!(
                        "MediaPackage can't write to s3://{bucket}/{key} ({why}): the bucket must exist and its policy \
                         must allow the {SERVICE} service principal s3:PutObject"
                    ),
                ));
            }
        }
        let mut state = self.inner.state.lock().unwrap();
        let job_key = (g, c, name);
        if state.harvest_jobs.contains_key(&job_key) {
            return Err(exists(&job_key.2, &job_key.1));
        }
        let meta = new_meta(&mut state, arn, &body, tags_of(&body, "Tags"));
        let job = Job {
            endpoint: e,
            meta,
            request: body.clone(),
            status: "QUEUED",
            error: None,
        };
        let value = self.job_json(&job_key, &job);
        state.harvest_jobs.insert(job_key.clone(), job);
        remember(&mut state, "CreateHarvestJob", req, &body);
        drop(state);
        let service = self.clone();
        tokio::spawn(async move { service.run(job_key).await });
        Ok(value)
    }

    pub(super) fn get_harvest_job(&self, g: &str, c: &str, e: &str, n: &str) -> ApiResult<Value> {
        let state = self.inner.state.lock().unwrap();
        let key = (g.to_owned(), c.to_owned(), n.to_owned());
        let job = job_at(&state, &key, e)?;
        Ok(self.job_json(&key, job))
    }

    pub(super) fn list_harvest_jobs(&self, req: &ApiRequest, g: &str) -> ApiResult<Value> {
        let state = self.inner.state.lock().unwrap();
        super::channel_groups::group(&state, g)?;
        let (channel, endpoint, status) = (
            req.query_one("channelName"),
            req.query_one("originEndpointName"),
            req.query_one("includeStatus"),
        );
        let items = (state.harvest_jobs.iter())
            .filter(|((jg, jc, _), job)| {
                jg == g
                    && channel.is_none_or(|c| c == jc)
                    && endpoint.is_none_or(|e| e == job.endpoint)
                    && status.is_none_or(|s| s == job.status)
            })
            .map(|(key, job)| (format!("{}/{}", key.1, key.2), self.job_json(key, job)))
            .collect();
        page(items, req)
    }

    pub(super) fn cancel_harvest_job(&self, req: &ApiRequest, g: &str, c: &str, e: &str, n: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        let key = (g.to_owned(), c.to_owned(), n.to_owned());
        job_at(&state, &key, e)?;
        let job = state.harvest_jobs.get_mut(&key).expect("found above");
        if let Some(expected) = req.header("x-amzn-update-if-match")
            && expected != job.meta.etag()
        {
            return Err(conflict(
                "CONFLICTING_OPERATION",
                format!(
                    "The ETag {expected} doesn't match the harvest job's current ETag {}",
                    job.meta.etag()
                ),
            ));
        }
        if !matches!(job.status, "QUEUED" | "IN_PROGRESS") {
            return Err(validation(
                "HARVEST_JOB_INELIGIBLE_FOR_CANCELLATION",
                format!(
                    "The harvest job {n} is {} and can't be cancelled: only a QUEUED or IN_PROGRESS job can",
                    job.status
                ),
            ));
        }
        job.status = "CANCELLED";
        job.meta.touch();
        Ok(json!({}))
    }

    fn job_json(&self, (g, c, n): &JobKey, job: &Job) -> Value {
        let mut value = meta_json(&job.meta);
        let request = &job.request;
        value["ChannelGroupName"] = json!(g);
        value["ChannelName"] = json!(c);
        value["OriginEndpointName"] = json!(job.endpoint);
        value["HarvestJobName"] = json!(n);
        for member in ["Destination", "HarvestedManifests"] {
            value[member] = request[member].clone();
        }
        let schedule = &request["ScheduleConfiguration"];
        value["ScheduleConfiguration"] = json!({
            "StartTime": super::rules::seconds(&schedule["StartTime"]),
            "EndTime": super::rules::seconds(&schedule["EndTime"]),
        });
        value["Status"] = json!(job.status);
        value["ErrorMessage"] = json!(job.error);
        value
    }

    fn grant<'a>(&'a self, arn: &'a str) -> ServiceGrant<'a> {
        ServiceGrant {
            service: SERVICE,
            source_arn: arn,
            source_account: &self.inner.config.account_id,
        }
    }

    /// Moves the job to `status` unless it was cancelled; false when it was.
    fn advance(&self, key: &JobKey, status: &'static str, error: Option<String>) -> bool {
        let mut state = self.inner.state.lock().unwrap();
        let Some(job) = state.harvest_jobs.get_mut(key) else {
            return false;
        };
        if job.status == "CANCELLED" {
            return false;
        }
        if job.status != status {
            job.status = status;
            job.error = error;
            job.meta.touch();
        }
        true
    }

    fn cancelled(&self, key: &JobKey) -> bool {
        let state = self.inner.state.lock().unwrap();
        state.harvest_jobs.get(key).is_none_or(|j| j.status == "CANCELLED")
    }

    /// The job's life: queued until its range has passed, then the harvest.
    async fn run(self, key: JobKey) {
        let Some((request, arn, endpoint)) = ({
            let state = self.inner.state.lock().unwrap();
            state
                .harvest_jobs
                .get(&key)
                .map(|j| (j.request.clone(), j.meta.arn.clone(), j.endpoint.clone()))
        }) else {
            return;
        };
        let end = super::rules::seconds(&request["ScheduleConfiguration"]["EndTime"]).unwrap_or(0.0);
        let (g, c, _) = &key;
        let segment = self
            .manifest_settings(g, c, &endpoint, &request)
            .and_then(|m| m.endpoint["Segment"]["SegmentDurationSeconds"].as_f64())
            .unwrap_or(6.0);
        let wait = (end + segment + 1.0 - now()).max(0.0);
        tokio::time::sleep(QUEUED_AT_LEAST.max(Duration::from_secs_f64(wait))).await;
        if !self.advance(&key, "IN_PROGRESS", None) {
            return;
        }
        let began = std::time::Instant::now();
        let outcome = self.harvest(&key, &endpoint, &request, &arn).await;
        match outcome {
            Ok(()) => {
                let ms = began.elapsed().as_millis() as u64;
                tracing::info!(job = %key.2, harvest_ms = ms, "harvest job completed");
                self.advance(&key, "COMPLETED", None);
            }
            Err(why) => {
                tracing::warn!(job = %key.2, error = %why, "harvest job failed");
                self.advance(&key, "FAILED", Some(why));
            }
        }
    }

    fn manifest_settings(&self, g: &str, c: &str, e: &str, request: &Value) -> Option<ManifestSettings> {
        let (_, name) = harvested(request).into_iter().next()?;
        self.manifest(g, c, e, &name)
    }

    /// Cuts the range from the retained segments and writes the VOD asset. Err: the job's
    /// `ErrorMessage`.
    async fn harvest(&self, key: &JobKey, e: &str, request: &Value, arn: &str) -> Result<(), String> {
        let (g, c, _) = key;
        let sink = (self.inner.sink.get().cloned()).ok_or("livestream-local has no media or S3 to harvest with")?;
        let schedule = &request["ScheduleConfiguration"];
        let start = super::rules::seconds(&schedule["StartTime"]).unwrap_or(0.0);
        let end = super::rules::seconds(&schedule["EndTime"]).unwrap_or(0.0);
        let destination = &request["Destination"]["S3Destination"];
        let bucket = member_str(destination, "BucketName");
        let base = member_str(destination, "DestinationPath");
        let media_key = layout::v2_channel_key(g, c);
        let mut written = std::collections::HashSet::new();
        let mut writes: Vec<(String, Vec<u8>, &'static str)> = Vec::new();
        for (kind, name) in harvested(request) {
            let manifest = (self.manifest(g, c, e, &name))
                .ok_or_else(|| format!("The origin endpoint no longer has the manifest {name}"))?;
            let container = manifest.endpoint["ContainerType"].as_str().unwrap_or_default();
            let cmaf = match (container, kind) {
                ("TS", ManifestKind::Hls) => false,
                ("CMAF", ManifestKind::Hls | ManifestKind::LowLatencyHls) => true,
                (container, kind) => {
                    return Err(format!(
                        "livestream-local harvests HLS and low-latency HLS manifests, not the {kind:?} manifest \
                         {name} of a {container} endpoint"
                    ));
                }
            };
            let p = packaging(&manifest);
            let segment_name = manifest.endpoint["Segment"]["SegmentName"]
                .as_str()
                .unwrap_or("segment")
                .to_owned();
            let (_, ladder) = (sink.media.package_ladder(&media_key)).ok_or("The channel has no media to harvest")?;
            let selected = crate::media::origin::select_renditions(&ladder, &p);
            let mut variants = Vec::new();
            for rendition in selected {
                let source = harvest_cut::Source {
                    media: &sink.media,
                    key: &media_key,
                    rendition: &rendition.name,
                    packaging: &p,
                    segment_name: &segment_name,
                    written: &written,
                };
                let cut = if cmaf {
                    harvest_cut::cmaf(&source, start, end).await?
                } else {
                    harvest_cut::ts(&source, start, end).await?
                };
                let Some(cut) = cut else { continue };
                // A segment named by two harvested manifests is read and written once.
                written.extend(cut.objects.iter().map(|(object, ..)| object.clone()));
                writes.extend(cut.objects);
                writes.push((
                    format!("{name}_{}.m3u8", rendition.name),
                    cut.playlist.into_bytes(),
                    M3U8,
                ));
                variants.push(rendition.name.clone());
            }
            if variants.is_empty() {
                return Err(format!(
                    "The origin endpoint has no segments between {} and {} to harvest for the manifest {name}",
                    harvest_rules::date_time(start),
                    harvest_rules::date_time(end)
                ));
            }
            let live = (sink.media.master_playlist(&media_key, &p)).map_err(|e| format!("{e}"))?;
            let master = vod_master(&live, |r| format!("{name}_{r}.m3u8"));
            // Keep only the variants that have segments in the range.
            let master = drop_variants(&master, |uri| {
                variants.iter().any(|v| uri == format!("{name}_{v}.m3u8"))
            });
            writes.push((format!("{name}.m3u8"), master.into_bytes(), M3U8));
        }
        // Segments first, playlists last: a player never finds a playlist before its media.
        for (file, body, content_type) in writes {
            if self.cancelled(key) {
                return Ok(());
            }
            let object_key = object_key(&base, &file);
            let object = PutObject {
                bucket: &bucket,
                key: &object_key,
                body,
                content_type,
                acl: None,
            };
            (sink.store.service_put(self.grant(arn), object, false).await)
                .map_err(|why| format!("MediaPackage couldn't write s3://{bucket}/{object_key}: {why}"))?;
        }
        Ok(())
    }
}

const M3U8: &str = "application/vnd.apple.mpegurl";

fn now() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// `{DestinationPath}/{file}` (one `/` between them).
fn object_key(base: &str, file: &str) -> String {
    format!("{}/{file}", base.trim_end_matches('/'))
}

fn exists(name: &str, channel: &str) -> ApiError {
    conflict(
        "RESOURCE_ALREADY_EXISTS",
        format!("A harvest job named {name} already exists on channel {channel}"),
    )
}

/// The job of `key` harvesting from endpoint `e` (another endpoint's job of that name: not found).
fn job_at<'a>(state: &'a State, key: &JobKey, e: &str) -> ApiResult<&'a Job> {
    super::channels::channel(state, &key.0, &key.1)?;
    (state.harvest_jobs.get(key))
        .filter(|j| j.endpoint == e)
        .ok_or_else(|| not_found("HARVEST_JOB"))
}

/// A multivariant playlist without the variants whose URI `keep` refuses (and their
/// `EXT-X-STREAM-INF` line).
fn drop_variants(master: &str, keep: impl Fn(&str) -> bool) -> String {
    let lines: Vec<&str> = master.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("#EXT-X-STREAM-INF") && i + 1 < lines.len() {
            if keep(lines[i + 1]) {
                out.extend([line, lines[i + 1]]);
            }
            i += 2;
            continue;
        }
        out.push(line);
        i += 1;
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_join_the_destination_path_once() {
        assert_eq!(object_key("clips/game1", "index.m3u8"), "clips/game1/index.m3u8");
        assert_eq!(object_key("clips/game1/", "index.m3u8"), "clips/game1/index.m3u8");
    }

    #[test]
    fn variants_without_segments_are_dropped_from_the_master() {
        let master =
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\nm_1080p.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\nm_720p.m3u8\n";
        assert_eq!(
            drop_variants(master, |u| u == "m_720p.m3u8"),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nm_720p.m3u8\n"
        );
    }
}
