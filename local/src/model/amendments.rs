//! Values AWS accepts that the bundled models do not list yet. botocore's models trail the
//! services: a value AWS added since the model was cut is refused by an emulator that trusts the
//! model alone. Each service registers its amendments with its model ([`super::ModelSpec`]), each
//! naming the public configuration that ran against AWS with it.

use std::collections::HashMap;

use serde_json::Value;

/// Values a string shape accepts besides its model's enum.
#[derive(Clone, Copy, Debug)]
pub struct Amendment {
    pub shape: &'static str,
    pub values: &'static [&'static str],
    /// The public configuration that ran against AWS with the values.
    pub evidence: &'static str,
}

/// Lays `amendments` over `shapes`.
pub fn amend(amendments: &[Amendment], shapes: &mut HashMap<String, Value>) {
    for amendment in amendments {
        if let Some(Value::Array(allowed)) = shapes.get_mut(amendment.shape).and_then(|s| s.get_mut("enum")) {
            for value in amendment.values {
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
            "SigningProtocols".to_owned(),
            serde_json::json!({"type": "string", "enum": ["sigv4"]}),
        )]);
        let amendments = [Amendment {
            shape: "SigningProtocols",
            values: &["sigv4a"],
            evidence: "a test",
        }];
        amend(&[], &mut shapes);
        assert_eq!(shapes["SigningProtocols"]["enum"], serde_json::json!(["sigv4"]));
        amend(&amendments, &mut shapes);
        amend(&amendments, &mut shapes);
        assert_eq!(
            shapes["SigningProtocols"]["enum"],
            serde_json::json!(["sigv4", "sigv4a"])
        );
    }
}
