//! AWS's published service models, the source of truth for what a request may hold. botocore
//! ships them (`botocore/data/<service>/<api-version>/service-2.json.gz`, installed with the AWS
//! CLI by hack/setup.sh); livestream-local reads them at startup from `--models DIR` or, by default,
//! from the botocore that `python3` imports. A missing model is a startup error: without it the
//! emulator would be silently lenient.

mod amendments;
mod validate;

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use serde_json::Value;

pub use amendments::Amendment;
pub use validate::{Kind, Located, Violation};

/// A model a service registers: botocore's folder for it, the API version the service speaks,
/// and whether requests are also checked for string patterns and for their path, header and
/// required query-string members (the older services keep the checks their refusal catalogue was
/// written against; MediaLive's and MediaPackage v1's models carry no patterns anyway).
#[derive(Clone, Copy, Debug)]
pub struct ModelSpec {
    pub service: &'static str,
    pub version: &'static str,
    pub strict: bool,
    /// Values AWS accepts that the model does not list yet.
    pub amendments: &'static [Amendment],
}

/// One service's operations and shapes.
pub struct ServiceModel {
    operations: HashMap<String, Value>,
    shapes: HashMap<String, Value>,
    strict: bool,
    /// Each string shape's `pattern`, anchored at both ends (strict models only).
    patterns: HashMap<String, regex::Regex>,
}

/// Every model livestream-local validates with, by service.
pub struct Models {
    services: HashMap<&'static str, Arc<ServiceModel>>,
}

impl Models {
    /// Reads the models of `specs` from `dir` (botocore's `data` folder), or from the botocore
    /// python3 finds.
    pub fn load(dir: Option<&Path>, specs: &[ModelSpec]) -> anyhow::Result<Self> {
        let dir = match dir {
            Some(dir) => dir.to_owned(),
            None => botocore_data()?,
        };
        let mut services = HashMap::new();
        for &ModelSpec {
            service,
            version,
            strict,
            amendments,
        } in specs
        {
            let folder = dir.join(service).join(version);
            let model = read_model(&folder, strict, amendments)
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

    /// A shape of the model, as botocore writes it (REST-XML services read and write their XML by it).
    pub(crate) fn shape_def(&self, name: &str) -> Option<&Value> {
        self.shape(name)
    }

    /// An operation of the model (`http`, `input`, `output`, `errors`).
    pub(crate) fn operation_def(&self, operation: &str) -> Option<&Value> {
        self.operations.get(operation)
    }

    pub fn has_operation(&self, operation: &str) -> bool {
        self.operations.contains_key(operation)
    }

    /// `value` (keyed by the model's member names) as `operation`'s output shape puts it on the
    /// wire: members under their `locationName`, members the shape does not have (and nulls)
    /// left out, at every depth.
    pub fn output(&self, operation: &str, value: &Value) -> Value {
        let shape = self
            .operations
            .get(operation)
            .and_then(|o| o["output"]["shape"].as_str());
        match shape {
            Some(shape) => self
                .shaped(shape, value)
                .unwrap_or_else(|| Value::Object(Default::default())),
            None => Value::Object(Default::default()),
        }
    }

    fn shaped(&self, shape_name: &str, value: &Value) -> Option<Value> {
        let shape = self.shape(shape_name)?;
        match (shape["type"].as_str()?, value) {
            (_, Value::Null) => None,
            ("structure", Value::Object(object)) => {
                let mut out = serde_json::Map::new();
                for (member, spec) in shape["members"].as_object().into_iter().flatten() {
                    if spec.get("location").is_some() {
                        continue;
                    }
                    let child = object.get(member).and_then(|v| self.shaped(spec["shape"].as_str()?, v));
                    if let Some(child) = child {
                        out.insert(spec["locationName"].as_str().unwrap_or(member).to_owned(), child);
                    }
                }
                Some(Value::Object(out))
            }
            ("list", Value::Array(items)) => {
                let member = shape["member"]["shape"].as_str()?;
                Some(Value::Array(
                    items.iter().filter_map(|i| self.shaped(member, i)).collect(),
                ))
            }
            ("map", Value::Object(entries)) => {
                let values = shape["value"]["shape"].as_str()?;
                let out = entries
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), self.shaped(values, v)?)));
                Some(Value::Object(out.collect()))
            }
            (_, scalar) => Some(scalar.clone()),
        }
    }
}

fn read_model(folder: &Path, strict: bool, amendments: &[Amendment]) -> anyhow::Result<ServiceModel> {
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
    ServiceModel::from_json(&serde_json::from_str(&text)?, strict, amendments)
}

impl ServiceModel {
    /// A model from botocore's JSON (`operations`, `shapes`), with `amendments` laid over it.
    pub(crate) fn from_json(model: &Value, strict: bool, amendments: &[Amendment]) -> anyhow::Result<Self> {
        let map = |key: &str| -> anyhow::Result<HashMap<String, Value>> {
            let object = model[key]
                .as_object()
                .with_context(|| format!("the model has no {key}"))?;
            Ok(object.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        };
        let mut shapes = map("shapes")?;
        amendments::amend(amendments, &mut shapes);
        let mut patterns = HashMap::new();
        if strict {
            for (name, shape) in &shapes {
                if let Some(pattern) = shape["pattern"].as_str() {
                    let anchored = regex::Regex::new(&format!("^(?:{pattern})$"))
                        .with_context(|| format!("the pattern of shape {name}: {pattern}"))?;
                    patterns.insert(name.clone(), anchored);
                }
            }
        }
        Ok(ServiceModel {
            operations: map("operations")?,
            shapes,
            strict,
            patterns,
        })
    }
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
