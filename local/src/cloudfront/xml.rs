//! CloudFront's REST-XML bodies, read and written by the service model (botocore's
//! `cloudfront/2020-05-31`): a request's payload element becomes JSON keyed by the model's member
//! names (lists of `<Items><Origin>…</Origin></Items>` become arrays, numbers and booleans typed),
//! so the model validator checks it as it checks the JSON services; an answer is written back from
//! JSON by its output shape, in the service's namespace. Elements the shape does not know are
//! refused, as CloudFront's schema validation refuses them.

use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::model::ServiceModel;

pub const NAMESPACE: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// One parsed element: its local name (namespace prefix dropped), children and text.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub children: Vec<Element>,
    pub text: String,
}

/// How deep a document may nest. CloudFront's deepest request (a distribution's
/// `…/Origins/Items/Origin/OriginGroups/…/Members/Items/OriginGroupMember`) is about 12 levels;
/// everything after parsing (the model walk, JSON, drop) recurses, so depth is bounded here.
pub const MAX_DEPTH: usize = 64;

/// The document's root element, or why the bytes are not XML.
pub fn parse(bytes: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let local = |raw: &[u8]| {
        let name = String::from_utf8_lossy(raw).into_owned();
        name.rsplit(':').next().unwrap_or_default().to_owned()
    };
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(_) if stack.len() >= MAX_DEPTH => {
                return Err(format!("the document nests deeper than {MAX_DEPTH} elements"));
            }
            Event::Start(start) => stack.push(Element {
                name: local(start.name().as_ref()),
                ..Default::default()
            }),
            Event::Empty(start) => {
                let element = Element {
                    name: local(start.name().as_ref()),
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    let decoded = text.decode().map_err(|e| e.to_string())?;
                    let unescaped = quick_xml::escape::unescape(&decoded).map_err(|e| e.to_string())?;
                    current.text.push_str(&unescaped);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let name = reference.decode().map_err(|e| e.to_string())?;
                    let entity = format!("&{name};");
                    let unescaped = quick_xml::escape::unescape(&entity).map_err(|e| e.to_string())?;
                    current.text.push_str(&unescaped);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::Eof => return Err("the document ends before its root element does".into()),
            _ => {}
        }
    }
}

/// `element` read as the model's shape `shape_name`.
pub fn to_json(model: &ServiceModel, shape_name: &str, element: &Element) -> Result<Value, String> {
    let Some(shape) = model.shape_def(shape_name) else {
        return Ok(Value::String(element.text.clone()));
    };
    Ok(match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            let mut out = Map::new();
            let members = shape["members"].as_object().cloned().unwrap_or_default();
            for child in &element.children {
                let found = members.iter().find(|(member, spec)| {
                    spec.get("location").is_none() && spec["locationName"].as_str().unwrap_or(member) == child.name
                });
                let Some((member, spec)) = found else {
                    return Err(format!("Unexpected element {} in {}", child.name, element.name));
                };
                let key = spec["locationName"].as_str().unwrap_or(member).to_owned();
                out.insert(key, to_json(model, spec["shape"].as_str().unwrap_or_default(), child)?);
            }
            Value::Object(out)
        }
        "list" => {
            let member = &shape["member"];
            let item_name = member["locationName"].as_str().unwrap_or("member");
            let item_shape = member["shape"].as_str().unwrap_or_default();
            let mut items = Vec::new();
            for child in &element.children {
                if child.name != item_name {
                    return Err(format!("Unexpected list element {} (expected {item_name})", child.name));
                }
                items.push(to_json(model, item_shape, child)?);
            }
            Value::Array(items)
        }
        // Numbers and booleans that do not parse stay text: the validator names them.
        "integer" | "long" => element
            .text
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::String(element.text.clone()), Value::from),
        "boolean" => match element.text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_owned()),
        },
        _ => Value::String(element.text.clone()),
    })
}

/// `value` written as the element `name` of shape `shape_name`; nulls and members the shape does
/// not have are left out.
pub fn write(model: &ServiceModel, shape_name: &str, name: &str, value: &Value, out: &mut String) {
    if value.is_null() {
        return;
    }
    let Some(shape) = model.shape_def(shape_name) else {
        return;
    };
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            out.push_str(&format!("<{name}>"));
            for (member, spec) in shape["members"].as_object().into_iter().flatten() {
                if spec.get("location").is_some() {
                    continue;
                }
                let key = spec["locationName"].as_str().unwrap_or(member);
                if let Some(child) = value.get(member).or_else(|| value.get(key)) {
                    write(model, spec["shape"].as_str().unwrap_or_default(), key, child, out);
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        "list" => {
            let member = &shape["member"];
            let item_name = member["locationName"].as_str().unwrap_or("member");
            let item_shape = member["shape"].as_str().unwrap_or_default();
            out.push_str(&format!("<{name}>"));
            for item in value.as_array().into_iter().flatten() {
                write(model, item_shape, item_name, item, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        _ => {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!("<{name}>{}</{name}>", quick_xml::escape::escape(&text)));
        }
    }
}

/// A whole answer: the payload member of `operation`'s output shape as the root element, in the
/// service's namespace; None when the output has no payload.
pub fn document(model: &ServiceModel, operation: &str, payload: &Value) -> Option<String> {
    let output = model.operation_def(operation)?["output"]["shape"].as_str()?;
    let shape = model.shape_def(output)?;
    let member = shape["payload"].as_str()?;
    let spec = &shape["members"][member];
    let name = spec["locationName"].as_str().unwrap_or(member);
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(model, spec["shape"].as_str()?, name, payload, &mut body);
    // The namespace goes on the root element.
    let root = format!("<{name}>");
    Some(body.replacen(&root, &format!("<{name} xmlns=\"{NAMESPACE}\">"), 1))
}

/// The payload member of `operation`'s input: its element name and shape.
pub fn input_payload(model: &ServiceModel, operation: &str) -> Option<(String, String)> {
    let input = model.operation_def(operation)?["input"]["shape"].as_str()?;
    let shape = model.shape_def(input)?;
    let member = shape["payload"].as_str()?;
    let spec = &shape["members"][member];
    let name = spec["locationName"].as_str().unwrap_or(member).to_owned();
    Some((name, spec["shape"].as_str()?.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_elements_and_entities() {
        let doc = parse(
            br#"<?xml version="1.0"?><a:Tags xmlns:a="x"><a:Items><a:Tag><a:Key>k</a:Key><a:Value>1 &amp; 2</a:Value></a:Tag></a:Items><Empty/></a:Tags>"#,
        )
        .unwrap();
        assert_eq!(doc.name, "Tags");
        assert_eq!(doc.children[0].children[0].children[1].text, "1 & 2");
        assert_eq!(doc.children[1].name, "Empty");
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a>").is_err());
    }
}
