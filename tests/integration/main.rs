//! Integration tests: a real kube-apiserver + etcd (hack/control-plane.sh), driven through kubectl
//! as a user would and through kube-rs as the operator does. Run them with `hack/test.sh`, which
//! starts the control plane and stops it afterwards.

mod support;

mod admission;
mod aws_cli;
mod cli;
mod clips;
mod cloudfront;
mod credentials;
mod deploy;
mod encoders;
mod event_ops;
mod fidelity;
mod gitops;
mod hostile;
mod kubectl_ux;
mod leader;
mod least_privilege;
mod local_api;
mod local_media;
mod packaging_v2;
mod pull_inputs;
mod quotas;
mod reconcile;
mod recording;
mod resilience;
mod stream_key;
mod website;
