//! Integration tests: a real kube-apiserver + etcd (hack/control-plane.sh), driven through kubectl
//! as a user would and through kube-rs as the operator does. Run them with `hack/test.sh`, which
//! starts the control plane and stops it afterwards. The stories of livestream-local alone (the
//! AWS CLI, fidelity, its API and media, encoders) are its own: local/tests/stories.

mod support;

mod admission;
mod cli;
mod clips;
mod cloudfront;
mod credentials;
mod deploy;
mod event_ops;
mod gitops;
mod hostile;
mod kubectl_ux;
mod leader;
mod least_privilege;
mod overrides;
mod packaging_v2;
mod pods;
mod pull_inputs;
mod quotas;
mod reconcile;
mod recording;
mod redundancy;
mod resilience;
mod srt;
mod stream_key;
mod website;
