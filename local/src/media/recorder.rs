//! MediaLive's HLS and Archive output groups whose destination is an S3 URL
//! (`s3ssl://bucket/path/base`, or `s3://`): the ladder segments the transcoder writes are copied
//! into livestream-local's S3 under the names MediaLive gives them, so a recording works locally.
//!
//! - HLS: `{base}{nameModifier}_{sequence:05}.ts`, a media playlist `{base}{nameModifier}.m3u8`
//!   per output (the newest `indexNSegments` in LIVE mode, every segment in VOD mode) and a master
//!   playlist `{base}.m3u8`. Segments are not deleted after `keepSegments`.
//! - Archive: `{base}{nameModifier}.{counter:06}.{extension}`, one MPEG-TS file per
//!   `rolloverInterval` seconds (GOP-aligned), the last one closed when the publisher leaves.
//!
//! `$dt$`, `$d$`, `$t$` in the destination URL resolve to the channel's start
//! ([`resolve_identifiers`]).
//!
//! A write the bucket refuses (no such bucket, an ACL under BucketOwnerEnforced) is logged and
//! counted, as MediaLive raises an alert and keeps encoding.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;

use super::Media;
use super::layout::{self, InputPlaylist, Ladder, Run};

/// Where recordings go: livestream-local's S3, as MediaLive's role would write them.
pub trait ObjectStore: Send + Sync {
    /// PutObject; `acl` is the group's canned ACL (`hlsS3Settings.cannedAcl`), if any.
    fn put<'a>(&'a self, object: PutObject<'a>) -> BoxFuture<'a, Result<(), String>>;

    /// PutObject by an AWS service principal on its own behalf (MediaPackage v2's harvest jobs):
    /// allowed only where the bucket policy grants `grant.service` `s3:PutObject` on the key, its
    /// conditions evaluated with `aws:SourceArn` / `aws:SourceAccount`. `dry_run`: only decide.
    /// Err: S3's error code and message.
    fn service_put<'a>(
        &'a self,
        grant: ServiceGrant<'a>,
        object: PutObject<'a>,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// The file holding an object, for a reader (ffmpeg) that reads it in place: MediaLive's file
    /// inputs name S3 sources as `s3://` / `s3ssl://` URLs. None: no such object.
    fn object_file(&self, bucket: &str, key: &str) -> Option<std::path::PathBuf>;
}

/// Who a service principal's request is for.
#[derive(Clone, Copy, Debug)]
pub struct ServiceGrant<'a> {
    pub service: &'a str,
    pub source_arn: &'a str,
    pub source_account: &'a str,
}

pub struct PutObject<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub acl: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum S3GroupKind {
    Hls {
        segment_seconds: f64,
        vod: bool,
        index_segments: usize,
    },
    Archive {
        rollover_seconds: f64,
    },
}

/// One output group writing to S3.
#[derive(Clone, Debug, PartialEq)]
pub struct S3Group {
    pub kind: S3GroupKind,
    pub bucket: String,
    /// The URL's path without its leading `/`: `path/base`.
    pub base_key: String,
    pub acl: Option<String>,
    pub outputs: Vec<S3Output>,
}

/// One output of an S3 group: which ladder rendition, and its file names.
#[derive(Clone, Debug, PartialEq)]
pub struct S3Output {
    pub rendition: String,
    pub name_modifier: String,
    pub extension: String,
}

/// `s3ssl://bucket/path/base` → (`bucket`, `path/base`).
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3ssl://").or_else(|| url.strip_prefix("s3://"))?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

/// MediaLive's identifiers for variable data in an S3 destination (user guide, "Identifiers for
/// variable data"), resolved with the UTC time the channel started: `$dt$` →
/// `YYYYMMDDTHHMMSS`, `$d$` → `YYYYMMDD`, `$t$` → `HHMMSS`, `$$` → `$`. Others (`$rv$`, `$w$`
/// …, per output) are left as written. So each run of a channel records under its own prefix.
pub fn resolve_identifiers(text: &str, started: jiff::Timestamp) -> String {
    let utc = started.to_zoned(jiff::tz::TimeZone::UTC);
    let (date, time) = (utc.strftime("%Y%m%d").to_string(), utc.strftime("%H%M%S").to_string());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let (value, len) = if after.starts_with("$$") {
            ("$".to_owned(), 2)
        } else if after.starts_with("$dt$") {
            (format!("{date}T{time}"), 4)
        } else if after.starts_with("$d$") {
            (date.clone(), 3)
        } else if after.starts_with("$t$") {
            (time.clone(), 3)
        } else {
            ("$".to_owned(), 1)
        };
        out.push_str(&value);
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Copies a channel's segments into S3 while it is published; [`Recorder::finish`] ends it.
pub(super) struct Recorder {
    runs: Arc<Mutex<Vec<Run>>>,
    finish: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// None when the job has no S3 group or no store is configured.
    pub(super) fn start(media: &Media, dir: PathBuf, groups: Vec<S3Group>, ladder: Ladder) -> Option<Self> {
        if groups.is_empty() {
            return None;
        }
        let Some(store) = media.inner.object_store.get().cloned() else {
            tracing::warn!("a channel writes to S3 but this server has no S3 store; nothing is recorded");
            return None;
        };
        let runs = Arc::new(Mutex::new(Vec::new()));
        let (finish, mut finished) = watch::channel(false);
        let mut copier = Copier {
            media: media.clone(),
            dir,
            store,
            runs: runs.clone(),
            ladder,
            sinks: groups.into_iter().map(Sink::new).collect(),
            copied: HashMap::new(),
        };
        let task = tokio::spawn(async move {
            loop {
                let done = tokio::time::timeout(Duration::from_millis(500), finished.wait_for(|f| *f))
                    .await
                    .is_ok();
                copier.copy_new_segments().await;
                if done {
                    return copier.close().await;
                }
            }
        });
        Some(Self { runs, finish, task })
    }

    pub(super) fn add_run(&self, run: Run) {
        self.runs.lock().unwrap().push(run);
    }

    /// Copies what is left, ends the playlists and closes the archive files.
    pub(super) async fn finish(self) {
        self.finish.send_replace(true);
        let _ = self.task.await;
    }
}

/// One segment, once read from disk.
struct Segment {
    duration: f64,
    /// The first segment of a later ffmpeg run.
    discontinuity: bool,
    bytes: Arc<Vec<u8>>,
}

struct Copier {
    media: Media,
    dir: PathBuf,
    store: Arc<dyn ObjectStore>,
    runs: Arc<Mutex<Vec<Run>>>,
    ladder: Ladder,
    sinks: Vec<Sink>,
    /// Per rendition, the highest sequence number copied.
    copied: HashMap<String, u64>,
}

impl Copier {
    async fn copy_new_segments(&mut self) {
        let runs = self.runs.lock().unwrap().clone();
        let renditions: Vec<String> = self.sinks.iter().flat_map(|s| s.renditions()).collect();
        for rendition in renditions {
            let mut writes = Vec::new();
            for segment in self.new_segments(&runs, &rendition) {
                for sink in &mut self.sinks {
                    writes.extend(sink.accept(&rendition, &segment));
                }
            }
            for sink in &mut self.sinks {
                writes.extend(sink.playlists(&rendition, &self.ladder, false));
            }
            for write in writes {
                self.put(write).await;
            }
        }
    }

    /// Segments of `rendition` that ffmpeg finished and that were not copied yet, in order.
    fn new_segments(&mut self, runs: &[Run], rendition: &str) -> Vec<Segment> {
        let mut found = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            let path = layout::run_playlist(&self.dir, rendition, run.id);
            let Ok(Some(playlist)) = InputPlaylist::read(&path) else {
                continue;
            };
            for s in playlist.segments {
                if self.copied.get(rendition).is_some_and(|&last| s.seq <= last) {
                    continue;
                }
                let Ok(bytes) = std::fs::read(self.dir.join(rendition).join(&s.uri)) else {
                    break;
                };
                self.copied.insert(rendition.to_owned(), s.seq);
                found.push(Segment {
                    duration: s.duration,
                    discontinuity: i > 0 && s.seq == run.start_seq,
                    bytes: Arc::new(bytes),
                });
            }
        }
        found
    }

    async fn close(mut self) {
        let mut writes = Vec::new();
        for sink in &mut self.sinks {
            writes.extend(sink.close_all());
            for rendition in sink.renditions() {
                writes.extend(sink.playlists(&rendition, &self.ladder, true));
            }
        }
        for write in writes {
            self.put(write).await;
        }
    }

    async fn put(&self, write: Write) {
        let object = PutObject {
            bucket: &write.bucket,
            key: &write.key,
            body: Arc::unwrap_or_clone(write.body),
            content_type: write.content_type,
            acl: write.acl.as_deref(),
        };
        match self.store.put(object).await {
            Ok(()) => {
                self.media
                    .inner
                    .counters
                    .recorded_objects
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.media
                    .inner
                    .counters
                    .recording_errors
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(bucket = write.bucket, key = write.key, error = %e, "cannot write to S3");
            }
        }
    }
}

/// An object to put.
struct Write {
    bucket: String,
    key: String,
    body: Arc<Vec<u8>>,
    content_type: &'static str,
    acl: Option<String>,
}

/// An output's file being filled: MPEG-TS segments concatenate into one valid stream.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    seconds: f64,
    /// It starts a later ffmpeg run.
    discontinuity: bool,
}

/// One S3 group's state: per output, the file being filled and (HLS) the segments listed.
struct Sink {
    group: S3Group,
    /// The next file number per output (HLS segments from 1, archive files from 1).
    counters: BTreeMap<usize, u64>,
    open: BTreeMap<usize, Pending>,
    /// HLS: per output, (number, seconds, discontinuity) of every segment written.
    listed: BTreeMap<usize, Vec<(u64, f64, bool)>>,
    /// HLS: outputs whose playlist changed since it was last written.
    dirty: Vec<usize>,
}

impl Sink {
    fn new(group: S3Group) -> Self {
        Self {
            group,
            counters: BTreeMap::new(),
            open: BTreeMap::new(),
            listed: BTreeMap::new(),
            dirty: Vec::new(),
        }
    }

    fn renditions(&self) -> Vec<String> {
        let mut names: Vec<String> = self.group.outputs.iter().map(|o| o.rendition.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    fn write(&self, key: String, body: Vec<u8>, content_type: &'static str) -> Write {
        Write {
            bucket: self.group.bucket.clone(),
            key,
            body: Arc::new(body),
            content_type,
            acl: self.group.acl.clone(),
        }
    }

    fn name(&self, output: &S3Output) -> String {
        format!("{}{}", self.group.base_key, output.name_modifier)
    }

    /// How long a file of this group lasts: HLS `segmentLength`, archive `rolloverInterval`.
    fn file_seconds(&self) -> f64 {
        match self.group.kind {
            S3GroupKind::Hls { segment_seconds, .. } => segment_seconds,
            S3GroupKind::Archive { rollover_seconds } => rollover_seconds,
        }
    }

    /// The objects one new segment of `rendition` completes.
    fn accept(&mut self, rendition: &str, segment: &Segment) -> Vec<Write> {
        let mut writes = Vec::new();
        let outputs: Vec<usize> = (self.group.outputs.iter().enumerate())
            .filter(|(_, o)| o.rendition == rendition)
            .map(|(i, _)| i)
            .collect();
        for i in outputs {
            let pending = self.open.entry(i).or_default();
            // A new run starts a new file, so a file never spans a timestamp reset.
            let restart = segment.discontinuity && !pending.bytes.is_empty();
            if restart {
                writes.extend(self.close(i));
            }
            let pending = self.open.entry(i).or_default();
            pending.discontinuity |= segment.discontinuity;
            pending.bytes.extend_from_slice(&segment.bytes);
            pending.seconds += segment.duration;
            if pending.seconds + 1e-3 >= self.file_seconds() {
                writes.extend(self.close(i));
            }
        }
        writes
    }

    /// Writes output `i`'s open file, if it holds anything.
    fn close(&mut self, i: usize) -> Option<Write> {
        let pending = self.open.remove(&i).filter(|p| !p.bytes.is_empty())?;
        let counter = self.counters.entry(i).or_insert(1);
        let number = *counter;
        *counter += 1;
        let output = &self.group.outputs[i];
        let key = match self.group.kind {
            S3GroupKind::Hls { .. } => format!("{}_{number:05}.{}", self.name(output), output.extension),
            S3GroupKind::Archive { .. } => format!("{}.{number:06}.{}", self.name(output), output.extension),
        };
        if matches!(self.group.kind, S3GroupKind::Hls { .. }) {
            let entry = (number, pending.seconds, pending.discontinuity);
            self.listed.entry(i).or_default().push(entry);
            self.dirty.push(i);
        }
        Some(self.write(key, pending.bytes, "video/MP2T"))
    }

    /// HLS: the media playlists of `rendition`'s outputs that changed (all of them when
    /// `ended`), and the master playlist.
    fn playlists(&mut self, rendition: &str, ladder: &Ladder, ended: bool) -> Vec<Write> {
        let S3GroupKind::Hls {
            vod, index_segments, ..
        } = self.group.kind
        else {
            return Vec::new();
        };
        let mut writes = Vec::new();
        for (i, output) in self.group.outputs.iter().enumerate() {
            if output.rendition != rendition || !(ended || self.dirty.contains(&i)) {
                continue;
            }
            let entries = self.listed.get(&i).map_or(&[][..], Vec::as_slice);
            let shown = if vod {
                entries
            } else {
                &entries[entries.len().saturating_sub(index_segments)..]
            };
            let text = media_playlist(&self.name(output), &output.extension, shown, vod, ended);
            writes.push(self.write(format!("{}.m3u8", self.name(output)), text.into_bytes(), M3U8));
        }
        self.dirty.retain(|i| self.group.outputs[*i].rendition != rendition);
        if !writes.is_empty() {
            let master = master_playlist(&self.group, ladder);
            writes.push(self.write(format!("{}.m3u8", self.group.base_key), master.into_bytes(), M3U8));
        }
        writes
    }

    /// The files still open, when the publisher has left.
    fn close_all(&mut self) -> Vec<Write> {
        let open: Vec<usize> = self.open.keys().copied().collect();
        open.into_iter().filter_map(|i| self.close(i)).collect()
    }
}

const M3U8: &str = "application/vnd.apple.mpegurl";

/// The last path segment of a key: playlists refer to objects beside them.
fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn media_playlist(name: &str, extension: &str, entries: &[(u64, f64, bool)], vod: bool, ended: bool) -> String {
    let target = entries.iter().map(|e| e.1).fold(1.0_f64, f64::max).round() as u64;
    let first = entries.first().map_or(1, |e| e.0);
    let mut text =
        format!("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
    if vod {
        text += "#EXT-X-PLAYLIST-TYPE:EVENT\n";
    }
    for (i, (number, duration, discontinuity)) in entries.iter().enumerate() {
        if *discontinuity && i > 0 {
            text += "#EXT-X-DISCONTINUITY\n";
        }
        let _ = writeln!(
            text,
            "#EXTINF:{duration:.3},\n{}_{number:05}.{extension}",
            file_name(name)
        );
    }
    if ended {
        text += "#EXT-X-ENDLIST\n";
    }
    text
}

fn master_playlist(group: &S3Group, ladder: &Ladder) -> String {
    let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for output in &group.outputs {
        let Some(r) = ladder.renditions.iter().find(|r| r.name == output.rendition) else {
            continue;
        };
        let bandwidth = (r.video_bitrate + r.audio_bitrate) * 11 / 10;
        let fps = f64::from(r.framerate_numerator) / f64::from(r.framerate_denominator.max(1));
        let _ = writeln!(
            text,
            "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={}x{},FRAME-RATE={fps:.3},CODECS=\"{}\"\n{}{}.m3u8",
            r.width,
            r.height,
            r.codecs,
            file_name(&group.base_key),
            output.name_modifier
        );
    }
    text
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
