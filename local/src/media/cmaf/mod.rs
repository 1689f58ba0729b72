//! CMAF media of MediaPackage v2 channels: besides its HLS MPEG-TS ladder, the ffmpeg of a
//! channel writing to a v2 channel muxes each packaged rendition as fragmented MP4 (H.264+AAC)
//! onto a TCP socket the server listens on, one fragment per ~1/3 s part ([`ingest`]). The server
//! splits the box stream ([`boxes`]), writes each part to
//! `{channel_dir}/cmaf/{rendition}/{run}-{n}.m4s` and indexes it in memory ([`index`]); origin
//! requests wait on the channel's [`CmafChannel::subscribe`] for parts to land. [`hls`] and
//! [`dash`] render the manifests.

pub mod boxes;
pub mod dash;
pub mod hls;
pub mod index;
pub mod ingest;
pub mod split;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::sync::watch;

use index::{Part, RenditionMedia, RunStart};

pub const CMAF_DIR: &str = "cmaf";

/// One v2 channel's CMAF renditions.
pub struct CmafChannel {
    dir: PathBuf,
    renditions: Mutex<HashMap<String, RenditionMedia>>,
    /// Bumped on every new part, init segment or end of a run.
    changed: watch::Sender<u64>,
}

impl CmafChannel {
    pub fn new(channel_dir: &Path) -> Self {
        Self {
            dir: channel_dir.join(CMAF_DIR),
            renditions: Mutex::default(),
            changed: watch::channel(0).0,
        }
    }

    /// Where a rendition's part files go.
    pub fn rendition_dir(&self, rendition: &str) -> PathBuf {
        self.dir.join(rendition)
    }

    pub fn begin_run(&self, rendition: &str, gop_seconds: f64, fps: f64, start: RunStart) {
        let mut renditions = self.renditions.lock().unwrap();
        let media = renditions
            .entry(rendition.to_owned())
            .or_insert_with(|| RenditionMedia::new(gop_seconds, fps));
        media.begin_run(start);
        drop(renditions);
        self.bump();
    }

    /// Indexes a part already on disk; deletes the files of parts pruned beyond the retention.
    pub fn add_part(&self, rendition: &str, run_id: u32, part: Part) {
        let removed = match self.renditions.lock().unwrap().get_mut(rendition) {
            Some(media) => media.add_part(run_id, part, super::layout::RETENTION_SECONDS),
            None => vec![part.path],
        };
        for path in removed {
            let _ = std::fs::remove_file(path);
        }
        self.bump();
    }

    pub fn end_run(&self, rendition: &str, run_id: u32) {
        if let Some(media) = self.renditions.lock().unwrap().get_mut(rendition) {
            media.end_run(run_id);
        }
        self.bump();
    }

    /// Reads a rendition's index under the lock (keep `f` short: ingest waits on it).
    pub fn with_rendition<T>(&self, rendition: &str, f: impl FnOnce(&RenditionMedia) -> T) -> Option<T> {
        self.renditions.lock().unwrap().get(rendition).map(f)
    }

    /// Reads every rendition's index under the lock.
    pub fn with_renditions<T>(&self, f: impl FnOnce(&HashMap<String, RenditionMedia>) -> T) -> T {
        f(&self.renditions.lock().unwrap())
    }

    /// Changes whenever the index does: what blocking requests wait on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

/// Every v2 channel's CMAF index, by media key.
#[derive(Default)]
pub struct CmafStore {
    channels: Mutex<HashMap<String, std::sync::Arc<CmafChannel>>>,
}

impl CmafStore {
    pub fn get(&self, key: &str) -> Option<std::sync::Arc<CmafChannel>> {
        self.channels.lock().unwrap().get(key).cloned()
    }

    /// The channel's index, created (with an emptied part folder) on its first run.
    pub fn get_or_create(&self, key: &str, channel_dir: &Path) -> std::sync::Arc<CmafChannel> {
        let mut channels = self.channels.lock().unwrap();
        channels
            .entry(key.to_owned())
            .or_insert_with(|| {
                // Parts of a previous server process are not indexed: nothing would delete them.
                let _ = std::fs::remove_dir_all(channel_dir.join(CMAF_DIR));
                std::sync::Arc::new(CmafChannel::new(channel_dir))
            })
            .clone()
    }

    pub fn remove(&self, key: &str) {
        self.channels.lock().unwrap().remove(key);
    }
}
