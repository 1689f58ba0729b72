//! A one-node cluster of its own (hack/node.sh: etcd, API server, controller manager, scheduler,
//! kubelet with containerd, runc and CNI, all on loopback), for the stories that run the operator
//! as pods from its image (hack/image.sh). Stopped, by process id, when dropped.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use super::{
    cluster::{apply_in, kubectl_in, succeeded},
    files::repo_root,
};

pub struct Node {
    dir: PathBuf,
    env: HashMap<String, String>,
}

fn script(name: &str, args: &[&str]) -> Output {
    Command::new(repo_root().join("hack").join(name))
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("hack/{name} runs: {e}"))
}

fn script_ok(name: &str, args: &[&str]) -> String {
    let out = script(name, args);
    assert!(
        out.status.success(),
        "hack/{name} {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Node {
    /// Starts a node; fails the story with hack/node.sh's own words when this machine cannot run
    /// containers (it names the missing piece).
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("livestream-node-{}", std::process::id()));
        let path = dir.to_str().unwrap().to_owned();
        let up = script("node.sh", &["up", "--dir", &path]);
        let mut node = Node {
            dir,
            env: HashMap::new(),
        };
        assert!(
            up.status.success(),
            "hack/node.sh up failed (the node stories need a machine that runs containers):\n{}",
            String::from_utf8_lossy(&up.stderr)
        );
        let env = script_ok("node.sh", &["env", "--dir", &path]);
        node.env = (env.lines())
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect();
        node
    }

    fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .unwrap_or_else(|| panic!("hack/node.sh env prints no {name}: {:?}", self.env))
    }

    pub fn kubeconfig(&self) -> &str {
        self.var("KUBECONFIG")
    }

    /// A URL pods reach for a server on the host's loopback at `port`.
    pub fn expose(&self, port: u16) -> String {
        let dir = self.dir.to_str().unwrap();
        script_ok("node.sh", &["expose", "--dir", dir, &port.to_string()])
            .trim()
            .to_owned()
    }

    /// Imports the operator image (built by `hack/image.sh build`) into the node's containerd,
    /// also as `extra_tags`; returns its repository and tag.
    pub fn import_operator_image(&self, extra_tags: &[&str]) -> (String, String) {
        let socket = self.var("LIVESTREAM_NODE_CONTAINERD");
        let image = script_ok("image.sh", &["import", "--address", socket])
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let (repository, tag) = image
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("hack/image.sh import printed no image name: {image}"));
        for extra in extra_tags {
            let tagged = format!("{repository}:{extra}");
            let out = Command::new("ctr")
                .args([
                    "--address",
                    socket,
                    "--namespace",
                    "k8s.io",
                    "images",
                    "tag",
                    "--force",
                    &image,
                    &tagged,
                ])
                .output()
                .expect("ctr runs");
            assert!(
                out.status.success(),
                "ctr images tag: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        (repository.to_owned(), tag.to_owned())
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        kubectl_in(Path::new(self.kubeconfig()), args)
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        succeeded("kubectl", args, self.kubectl(args))
    }

    /// `kubectl apply -f -` of a manifest written in the story, which must be accepted.
    pub fn apply(&self, manifest: &str) {
        succeeded("kubectl", &["apply"], apply_in(Path::new(self.kubeconfig()), manifest));
    }

    /// The Helm CLI the suite builds (`HELM`, from hack/control-plane.sh env) against this node.
    pub fn helm_ok(&self, args: &[&str]) -> String {
        let helm = std::env::var("HELM").expect("HELM is set by hack/control-plane.sh env");
        let out = Command::new(helm)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .current_dir(repo_root())
            .output()
            .expect("helm runs");
        succeeded("helm", args, out)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let out = script("node.sh", &["down", "--dir", self.dir.to_str().unwrap()]);
        if !out.status.success() {
            eprintln!("hack/node.sh down: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
