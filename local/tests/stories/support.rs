//! What the stories use of the operator's test support (tests/integration/support), shared by
//! path: the parts that need no Kubernetes.

// What only the operator's stories use of it is dead code here.
#[allow(dead_code)]
#[path = "../../../tests/integration/support/cloud.rs"]
pub mod cloud;
#[path = "../../../tests/integration/support/files.rs"]
pub mod files;
#[path = "../../../tests/integration/support/tools.rs"]
pub mod tools;
