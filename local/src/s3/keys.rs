//! Object keys are opaque strings, as on S3 (any UTF-8, at most 1,024 bytes): `..`, a leading
//! `/` or a NUL are characters of a key, never path syntax. The file store (s3s-fs) is handed the
//! SHA-256 of a key instead of the key, so whatever it does with paths, an object lives in one
//! flat file of its own bucket's directory and no key can name another bucket's objects or the
//! server's settings. The keys themselves are kept in an index beside the buckets
//! (`.keys/<bucket>/<digest>` holds the key), read into memory once per bucket, for listing.

use std::collections::{BTreeSet, HashMap};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use s3s::{S3Result, s3_error};
use sha2::{Digest, Sha256};

/// S3's limit on a key's length, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;
/// Where the index lives under the store's root: a leading dot is no valid bucket name.
const INDEX_DIR: &str = ".keys";

/// The name the file store keeps `key`'s object under; refused as S3 refuses an over-long key.
pub fn stored_name(key: &str) -> S3Result<String> {
    // "up to 1,024 bytes long" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html);
    // AWS's answer quoted whole in https://github.com/basho/riak_cs/pull/1233.
    if key.len() > MAX_KEY_BYTES {
        return Err(s3_error!(KeyTooLongError, "Your key is too long"));
    }
    // The model: ObjectKey has "min": 1.
    if key.is_empty() {
        return Err(s3_error!(InvalidArgument, "The key must not be empty"));
    }
    Ok(digest(key))
}

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Every bucket's keys, each bucket read from disk on first use.
pub struct KeyIndex {
    root: PathBuf,
    loaded: Mutex<HashMap<String, BTreeSet<String>>>,
}

impl KeyIndex {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.join(INDEX_DIR),
            loaded: Mutex::default(),
        }
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// Runs `f` on `bucket`'s keys, reading them from disk first if this is their first use.
    fn with<T>(&self, bucket: &str, f: impl FnOnce(&mut BTreeSet<String>) -> T) -> std::io::Result<T> {
        let mut loaded = self.loaded.lock().unwrap();
        if !loaded.contains_key(bucket) {
            let keys = read_keys(&self.bucket_dir(bucket))?;
            loaded.insert(bucket.to_owned(), keys);
        }
        Ok(f(loaded.get_mut(bucket).expect("just inserted")))
    }

    /// Records that `bucket` holds `key` (after its object was written). An overwrite (a
    /// playlist rewritten every segment) finds the key indexed and touches no file.
    pub fn insert(&self, bucket: &str, key: &str) -> std::io::Result<()> {
        if self.with(bucket, |keys| keys.contains(key))? {
            return Ok(());
        }
        let dir = self.bucket_dir(bucket);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(digest(key)), key)?;
        self.with(bucket, |keys| {
            keys.insert(key.to_owned());
        })
    }

    /// Forgets `key` (before its object is deleted).
    pub fn remove(&self, bucket: &str, key: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.bucket_dir(bucket).join(digest(key))) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.with(bucket, |keys| {
            keys.remove(key);
        })
    }

    /// `bucket`'s keys that start with `prefix`, in S3's order (bytes of UTF-8).
    pub fn keys_from(&self, bucket: &str, prefix: &str) -> std::io::Result<Vec<String>> {
        self.with(bucket, |keys| {
            keys.range(prefix.to_owned()..)
                .take_while(|k| k.starts_with(prefix))
                .cloned()
                .collect()
        })
    }

    /// Forgets a deleted bucket.
    pub fn drop_bucket(&self, bucket: &str) -> std::io::Result<()> {
        self.loaded.lock().unwrap().remove(bucket);
        match std::fs::remove_dir_all(self.bucket_dir(bucket)) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Forgets everything (the store's root was emptied).
    pub fn clear(&self) {
        self.loaded.lock().unwrap().clear();
    }
}

fn read_keys(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(BTreeSet::new()),
        other => other?,
    };
    let mut keys = BTreeSet::new();
    for entry in entries {
        let key = std::fs::read_to_string(entry?.path())?;
        keys.insert(key);
    }
    Ok(keys)
}

/// One page of a listing: objects and common prefixes in key order.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub keys: Vec<String>,
    pub common_prefixes: Vec<String>,
    /// The last key or common prefix of the page, when more follow.
    pub next_marker: Option<String>,
}

/// S3's listing over `keys` (sorted, all starting with `prefix`): keys after `after`, those with
/// `delimiter` past the prefix rolled up into common prefixes, at most `max` entries.
pub fn page(keys: &[String], prefix: &str, delimiter: Option<&str>, after: Option<&str>, max: usize) -> Page {
    let mut page = Page::default();
    let mut last: Option<String> = None;
    for key in keys {
        let entry = match delimiter.filter(|d| !d.is_empty()) {
            Some(d) => match key[prefix.len()..].find(d) {
                Some(at) => Entry::Prefix(key[..prefix.len() + at + d.len()].to_owned()),
                None => Entry::Key(key.clone()),
            },
            None => Entry::Key(key.clone()),
        };
        let name = entry.name();
        if after.is_some_and(|after| name <= after) || last.as_deref() == Some(name) {
            continue;
        }
        if page.keys.len() + page.common_prefixes.len() == max {
            page.next_marker = last;
            return page;
        }
        last = Some(name.to_owned());
        match entry {
            Entry::Key(key) => page.keys.push(key),
            Entry::Prefix(prefix) => page.common_prefixes.push(prefix),
        }
    }
    page
}

enum Entry {
    Key(String),
    Prefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Self::Key(name) | Self::Prefix(name) => name,
        }
    }
}

/// A key or prefix as `EncodingType=url` answers it (the AWS CLI asks for it and decodes with
/// `unquote_plus`): every byte but the unreserved ones and `/` percent-encoded.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = list.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn a_key_is_a_digest_whatever_it_spells() {
        for key in ["../private/secret", "/etc/passwd", "a\0b", "..", "%2e%2e/x", "a//b"] {
            let name = stored_name(key).unwrap();
            assert_eq!(name.len(), 64);
            assert!(name.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        }
        assert_ne!(stored_name("a//b").unwrap(), stored_name("a/b").unwrap());
        assert_eq!(stored_name(&"k".repeat(1024)).unwrap().len(), 64);
        let long = stored_name(&"k".repeat(1025)).unwrap_err();
        assert_eq!(long.code().as_str(), "KeyTooLongError");
    }

    #[test]
    fn lists_with_a_delimiter_and_pages_after_a_common_prefix() {
        let all = keys(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let first = page(&all, "", Some("/"), None, 2);
        assert_eq!(first.common_prefixes, ["a/"]);
        assert_eq!(first.keys, ["b"]);
        assert_eq!(first.next_marker.as_deref(), Some("b"));
        let second = page(&all, "", Some("/"), Some("a/"), 10);
        assert_eq!(second.keys, ["b", "d"]);
        assert_eq!(second.common_prefixes, ["c/"]);
        assert_eq!(second.next_marker, None);
        let under_c: Vec<String> = all.iter().filter(|k| k.starts_with("c/")).cloned().collect();
        let nested = page(&under_c, "c/", Some("/"), None, 10);
        assert_eq!(
            (nested.keys, nested.common_prefixes),
            (vec!["c/y".to_owned()], vec!["c/x/".to_owned()])
        );
    }

    #[test]
    fn a_full_page_says_where_the_next_starts_only_when_more_follow() {
        let all = keys(&["a", "b", "c"]);
        assert_eq!(page(&all, "", None, None, 3).next_marker, None);
        let two = page(&all, "", None, None, 2);
        assert_eq!((two.keys.len(), two.next_marker.as_deref()), (2, Some("b")));
        assert_eq!(page(&all, "", None, Some("b"), 2).keys, ["c"]);
    }

    #[test]
    fn url_encoding_keeps_slashes_and_escapes_plus() {
        assert_eq!(url_encode("a b+c/é.ts"), "a%20b%2Bc/%C3%A9.ts");
    }

    #[test]
    fn the_index_survives_a_restart_and_forgets_deleted_keys() {
        let dir = std::env::temp_dir().join(format!("keys-test-{}", uuid::Uuid::new_v4()));
        let index = KeyIndex::new(&dir);
        index.insert("b", "../x").unwrap();
        index.insert("b", "y").unwrap();
        index.remove("b", "y").unwrap();
        let again = KeyIndex::new(&dir);
        assert_eq!(again.keys_from("b", "").unwrap(), ["../x"]);
        again.drop_bucket("b").unwrap();
        assert!(KeyIndex::new(&dir).keys_from("b", "").unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
