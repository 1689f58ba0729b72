//! What the stories share: the control plane and kubectl (`cluster`), a live livestream-local
//! and its AWS clients (`cloud`), the repository's files (`files`), the AWS CLI, curl, ffprobe and
//! the encoders (`tools`), the operator under test (`operator`), a one-node cluster the
//! operator runs on as pods (`node`), a clock burnt into the pushed
//! picture (`clock`), and the checks several stories make (an inventory of AWS resources, RBAC
//! questions). `cloud`, `files` and `tools` need no Kubernetes: livestream-local's own stories
//! (local/tests/stories) share them.

pub mod checks;
pub mod clock;
// Shared with livestream-local's stories: what only they use is dead code here.
#[allow(dead_code)]
pub mod cloud;
pub mod cluster;
pub mod files;
pub mod node;
pub mod operator;
#[allow(dead_code)]
pub mod tools;
