//! AWS's published service models, the source of truth for what a request may hold. botocore
//! ships them (`botocore/data/<service>/<api-version>/service-2.json.gz`, installed with the AWS
//! CLI by hack/setup.sh); livestream-local reads them at startup from `--models DIR` or, by default,
//! from the botocore that `python3` imports. A missing model is a startup error: without it the
//! emulator would be silently lenient.

mod validate;

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use serde_json::Value;

pub use validate::Violation;

/// The services livestream-local serves through the models, and the API version it speaks.
pub const SERVICES: [(&str, &str); 3] = [
    ("medialive", "2017-10-14"),
    ("mediapackage", "2017-10-12"),
    ("s3", "2006-03-01"),
];

/// One service's operations and shapes.
pub struct ServiceModel {
    operations: HashMap<String, Value>,
    shapes: HashMap<String, Value>,
}

/// Every model livestream-local validates with, by service.
pub struct Models {
    services: HashMap<&'static str, Arc<ServiceModel>>,
}

impl Models {
    /// Reads the models from `dir` (botocore's `data` folder), or from the botocore python3 finds.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let dir = match dir {
            Some(dir) => dir.to_owned(),
            None => botocore_data()?,
        };
        let mut services = HashMap::new();
        for (service, version) in SERVICES {
            let folder = dir.join(service).join(version);
            let model = read_model(&folder)
                .with_context(|| format!("reading the {service} {version} service model in {}", folder.display()))?;
            services.insert(service, Arc::new(model));
        }
        Ok(Self { services })
    }

    pub fn service(&self, service: &str) -> Option<&ServiceModel> {
        self.services.get(service).map(Arc::as_ref)
    }

    /// A service's model, to keep (S3 checks requests in its own access hook).
    pub fn shared(&self, service: &str) -> Option<Arc<ServiceModel>> {
        self.services.get(service).cloned()
    }

    /// How many operations of the served services the models describe.
    pub fn operations(&self) -> usize {
        self.services.values().map(|s| s.operations.len()).sum()
    }
}

impl ServiceModel {
    fn shape(&self, name: &str) -> Option<&Value> {
        self.shapes.get(name)
    }

    /// The input shape of `operation`, if it has one.
    fn input(&self, operation: &str) -> Option<&Value> {
        let name = self.operations.get(operation)?["input"]["shape"].as_str()?;
        self.shape(name)
    }

    pub fn has_operation(&self, operation: &str) -> bool {
        self.operations.contains_key(operation)
    }
}

fn read_model(folder: &Path) -> anyhow::Result<ServiceModel> {
    let gz = folder.join("service-2.json.gz");
    let plain = folder.join("service-2.json");
    let text = if gz.exists() {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&gz)?).read_to_string(&mut text)?;
        text
    } else if plain.exists() {
        std::fs::read_to_string(&plain)?
    } else {
        bail!("neither service-2.json.gz nor service-2.json is there");
    };
    let model: Value = serde_json::from_str(&text)?;
    let map = |key: &str| -> anyhow::Result<HashMap<String, Value>> {
        let object = model[key]
            .as_object()
            .with_context(|| format!("the model has no {key}"))?;
        Ok(object.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    Ok(ServiceModel {
        operations: map("operations")?,
        shapes: map("shapes")?,
    })
}

/// botocore's `data` folder, as the python3 on PATH imports it.
fn botocore_data() -> anyhow::Result<PathBuf> {
    let found = std::process::Command::new("python3")
        .args([
            "-c",
            "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))",
        ])
        .output();
    match found {
        Ok(out) if out.status.success() => Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())),
        _ => bail!(
            "cannot find AWS's service models: install botocore (hack/setup.sh installs it with the AWS CLI) \
             or pass --models DIR (botocore's data folder)"
        ),
    }
}
