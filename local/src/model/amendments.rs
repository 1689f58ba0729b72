//! Values AWS accepts that the bundled models do not list yet. botocore's models trail the
//! services: a value AWS added since the model was cut is refused by an emulator that trusts the
//! model alone. Each amendment names the public configuration that ran against AWS with it.

use std::collections::HashMap;

use serde_json::Value;

/// (service, string shape, values to accept besides the model's enum, evidence)
const EXTRA_ENUM_VALUES: [(&str, &str, &[&str], &str); 1] = [(
    "cloudfront",
    "OriginAccessControlSigningProtocols",
    &["sigv4a"],
    "hashicorp/terraform-provider-aws internal/service/cloudfront/origin_access_control_test.go \
     @077d7ac061ecf91eb4ae36b3a4e00701c9078f3f: an acceptance test (run against AWS) creates an OAC \
     with signing_protocol = \"sigv4a\" and reads it back",
)];

/// Lays the amendments for `service` over its shapes.
pub fn amend(service: &str, shapes: &mut HashMap<String, Value>) {
    for (_, shape, values, _) in EXTRA_ENUM_VALUES.iter().filter(|(s, ..)| *s == service) {
        if let Some(Value::Array(allowed)) = shapes.get_mut(*shape).and_then(|s| s.get_mut("enum")) {
            for value in *values {
                if !allowed.iter().any(|a| a == value) {
                    allowed.push(Value::from(*value));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amended_enum_accepts_the_value_aws_took_and_keeps_the_models() {
        let mut shapes = HashMap::from([(
            "OriginAccessControlSigningProtocols".to_owned(),
            serde_json::json!({"type": "string", "enum": ["sigv4"]}),
        )]);
        amend("s3", &mut shapes);
        assert_eq!(
            shapes["OriginAccessControlSigningProtocols"]["enum"],
            serde_json::json!(["sigv4"])
        );
        amend("cloudfront", &mut shapes);
        amend("cloudfront", &mut shapes);
        assert_eq!(
            shapes["OriginAccessControlSigningProtocols"]["enum"],
            serde_json::json!(["sigv4", "sigv4a"])
        );
    }
}
