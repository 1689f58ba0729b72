//! Files of the repository the stories read (fixtures, the shipped IAM policy), wherever the test
//! binary's package is: the operator's (the root) or livestream-local's (`local/`).

use std::path::{Path, PathBuf};

/// The repository's root: the package's directory or the nearest above it with the workspace's
/// Cargo.lock.
pub fn repo_root() -> PathBuf {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    package
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .unwrap_or(package)
        .to_owned()
}

/// A file of the repository, by its path from the root.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}
