//! The operations: requests read (already checked against the model) and answered in the model's
//! output members. Timestamps are epoch seconds, as the JSON protocol carries them.

use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::store::{self, Secret, Tags, Write, invalid_parameter};
use super::{SecretsManager, json11};
use crate::protocol::{ApiResult, paginate};

fn seconds(t: Timestamp) -> Value {
    json!(t.as_millisecond() as f64 / 1000.0)
}

fn tags_member(body: &Value) -> Tags {
    (body["Tags"].as_array().into_iter().flatten())
        .map(|t| {
            let text = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            (text("Key"), text("Value"))
        })
        .collect()
}

/// DescribeSecret's answer, and a ListSecrets entry.
fn described(secret: &Secret) -> Value {
    let stages: serde_json::Map<String, Value> = (secret.versions.iter())
        .map(|v| (v.id.clone(), json!(v.stages)))
        .collect();
    let tags: Vec<Value> = (secret.tags.iter())
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let mut value = json!({
        "ARN": secret.arn,
        "Name": secret.name,
        "Tags": tags,
        "VersionIdsToStages": stages,
        "CreatedDate": seconds(secret.created),
        "LastChangedDate": seconds(secret.changed),
    });
    if let Some(description) = &secret.description {
        value["Description"] = json!(description);
    }
    if let Some((asked, _)) = secret.deletion {
        value["DeletedDate"] = seconds(asked);
    }
    value
}

/// ListSecrets `Filters`: every filter holds (values of one filter: any), each value a prefix,
/// `!` negating it; `name`, `tag-key`, `tag-value` case-sensitive, `description` not (the
/// model's `Filter.Key` documentation).
fn matches(secret: &Secret, filters: &[Value]) -> bool {
    filters.iter().all(|filter| {
        let key = filter["Key"].as_str().unwrap_or_default();
        let values = filter["Values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        let candidates: Vec<String> = match key {
            "name" => vec![secret.name.clone()],
            "description" => secret.description.iter().map(|d| d.to_lowercase()).collect(),
            "tag-key" => secret.tags.iter().map(|(k, _)| k.clone()).collect(),
            "tag-value" => secret.tags.iter().map(|(_, v)| v.clone()).collect(),
            "all" => {
                let mut all = vec![secret.name.clone()];
                all.extend(secret.tags.iter().flat_map(|(k, v)| [k.clone(), v.clone()]));
                all
            }
            _ => Vec::new(),
        };
        values.into_iter().any(|value| {
            let (negated, prefix) = match value.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, value),
            };
            let prefix = if key == "description" {
                prefix.to_lowercase()
            } else {
                prefix.to_owned()
            };
            candidates.iter().any(|c| c.starts_with(&prefix)) != negated
        })
    })
}

impl SecretsManager {
    pub(super) fn handle(&self, operation: &str, body: &Value) -> ApiResult<Response> {
        let now = Timestamp::now();
        let id = body["SecretId"].as_str().unwrap_or_default();
        let write = || {
            body["SecretString"].as_str().map(|value| Write {
                value,
                token: body["ClientRequestToken"].as_str(),
            })
        };
        let answer = match operation {
            "CreateSecret" => {
                let name = body["Name"].as_str().unwrap_or_default();
                let arn = self.new_arn(name);
                let description = body["Description"].as_str().map(str::to_owned);
                let mut store = self.store();
                let (secret, version) = store.create(arn, name, write(), description, tags_member(body), now)?;
                let mut answer = json!({"ARN": secret.arn, "Name": secret.name});
                if let Some(version) = version {
                    answer["VersionId"] = json!(version);
                }
                answer
            }
            "DescribeSecret" => described(self.store().find(id).ok_or_else(store::not_found)?),
            "GetSecretValue" => {
                let store = self.store();
                let secret = store.live(id)?;
                let wanted_id = body["VersionId"].as_str();
                let stage = body["VersionStage"].as_str().unwrap_or(store::CURRENT);
                let version = (secret.versions.iter())
                    .find(|v| match wanted_id {
                        Some(wanted) => v.id == wanted,
                        None => v.stages.contains(&stage),
                    })
                    .ok_or_else(|| {
                        // API reference, GetSecretValue: a secret without that version answers
                        // ResourceNotFoundException.
                        store::error(
                            "ResourceNotFoundException",
                            "Secrets Manager can't find the specified secret value for staging label: ".to_owned()
                                + stage,
                        )
                    })?;
                json!({
                    "ARN": secret.arn, "Name": secret.name, "VersionId": version.id,
                    "SecretString": version.value, "VersionStages": version.stages,
                    "CreatedDate": seconds(version.created),
                })
            }
            "PutSecretValue" => {
                let Some(write) = write() else {
                    // API reference, PutSecretValue: "You must include SecretBinary or SecretString".
                    return Err(invalid_parameter(
                        "You must provide either SecretString or SecretBinary.",
                    ));
                };
                let mut store = self.store();
                let (secret, version) = store.put(id, write, now)?;
                let stages = (secret.versions.iter().find(|v| v.id == version)).map(|v| v.stages.clone());
                json!({"ARN": secret.arn, "Name": secret.name, "VersionId": version, "VersionStages": stages})
            }
            "DeleteSecret" => {
                let force = body["ForceDeleteWithoutRecovery"].as_bool() == Some(true);
                let window = body["RecoveryWindowInDays"].as_i64();
                // API reference, DeleteSecret: "You can't use both this parameter and the
                // RecoveryWindowInDays parameter"; "RecoveryWindowInDays ... from 7 to 30",
                // default 30. The wording is moto's (moto/secretsmanager/models.py), which copies AWS's.
                let window = match (force, window) {
                    (true, Some(_)) => {
                        return Err(invalid_parameter(
                            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
                        ));
                    }
                    (true, None) => None,
                    (false, Some(days)) if !(7..=30).contains(&days) => {
                        return Err(invalid_parameter(
                            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
                        ));
                    }
                    (false, days) => Some(days.unwrap_or(30)),
                };
                let (arn, name, at) = self.store().delete(id, window, now)?;
                json!({"ARN": arn, "Name": name, "DeletionDate": seconds(at)})
            }
            "RestoreSecret" => {
                let mut store = self.store();
                let secret = store.restore(id)?;
                json!({"ARN": secret.arn, "Name": secret.name})
            }
            "ListSecrets" => {
                let filters = body["Filters"].as_array().cloned().unwrap_or_default();
                let planned = body["IncludePlannedDeletion"].as_bool() == Some(true);
                let max = body["MaxResults"].as_u64().unwrap_or(100) as usize;
                let store = self.store();
                let all = (store.all())
                    .filter(|s| planned || s.deletion.is_none())
                    .filter(|s| matches(s, &filters))
                    .map(|s| {
                        // A list entry names the map `SecretVersionsToStages` (the model's SecretListEntry).
                        let mut entry = described(s);
                        entry["SecretVersionsToStages"] = entry["VersionIdsToStages"].take();
                        (s.name.clone(), entry)
                    })
                    .collect();
                let (page, next) = paginate(all, max, body["NextToken"].as_str());
                let mut answer = json!({"SecretList": page});
                if let Some(next) = next {
                    answer["NextToken"] = json!(next);
                }
                answer
            }
            "TagResource" => {
                self.store().tag(id, tags_member(body))?;
                json!({})
            }
            "UntagResource" => {
                let keys: Vec<String> = serde_json::from_value(body["TagKeys"].clone()).unwrap_or_default();
                self.store().untag(id, &keys)?;
                json!({})
            }
            _ => return Err(store::error("UnknownOperationException", "")),
        };
        Ok(json11(answer))
    }
}
