//! Operation routing from the service model: each operation a service serves is reached by its
//! model's `http.method` and `http.requestUri` (`/channelGroup/{ChannelGroupName}/channel`,
//! `/2020-05-31/tagging?Operation=Tag`): literal segments, `{Label}`s, a greedy `{Label+}`, and
//! the query-string words a template names (`?WithTags`, `?Operation=Tag`). One router for every
//! protocol; the service dispatches on the operation's name.

use std::collections::HashMap;

use axum::http::Method;

use crate::{model::ServiceModel, protocol::request::ApiRequest};

/// The operation a request reaches, and the values of its template's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub operation: &'static str,
    pub labels: HashMap<String, String>,
}

/// The routes of one service's operations.
#[derive(Debug, Default)]
pub struct Routes(Vec<Route>);

#[derive(Debug)]
struct Route {
    operation: &'static str,
    method: Method,
    segments: Vec<Part>,
    /// Query-string names the template requires, each with the value it must have (if any).
    query: Vec<(String, Option<String>)>,
}

#[derive(Debug)]
enum Part {
    Literal(String),
    Label(String),
    /// `{Label+}`: one or more segments, the rest of the path.
    Greedy(String),
}

impl Routes {
    /// The routes of `served`, each as `model` binds it to HTTP. Panics on an operation the model
    /// does not have or binds to no method and URI (a service registering what its model lacks).
    pub fn new(model: &ServiceModel, served: &[&'static str]) -> Self {
        let mut routes: Vec<Route> = served
            .iter()
            .map(|&operation| {
                let http = model
                    .operation_def(operation)
                    .map(|o| &o["http"])
                    .unwrap_or_else(|| panic!("the service model has no operation {operation}"));
                let (Some(method), Some(uri)) = (http["method"].as_str(), http["requestUri"].as_str()) else {
                    panic!("the service model binds {operation} to no method and requestUri");
                };
                Route::parse(operation, method, uri)
            })
            .collect();
        // A template that asks more of the query string, then one with more literal segments,
        // is tried first (`POST /distribution?WithTags` before `POST /distribution`).
        routes.sort_by_key(|r| {
            let literals = r.segments.iter().filter(|p| matches!(p, Part::Literal(_))).count();
            (std::cmp::Reverse(r.query.len()), std::cmp::Reverse(literals))
        });
        Self(routes)
    }

    /// The operation `req` reaches by its method, decoded path segments and query; None when it
    /// reaches none of the served ones.
    pub fn route(&self, req: &ApiRequest) -> Option<Routed> {
        let path = req.path();
        self.0.iter().find_map(|route| route.matches(req, &path))
    }
}

impl Route {
    fn parse(operation: &'static str, method: &str, uri: &str) -> Self {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(label) => match label.strip_suffix('+') {
                    Some(greedy) => Part::Greedy(greedy.to_owned()),
                    None => Part::Label(label.to_owned()),
                },
                None => Part::Literal(s.to_owned()),
            })
            .collect();
        let query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (kv.to_owned(), None),
            })
            .collect();
        Self {
            operation,
            method: Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET),
            segments,
            query,
        }
    }

    fn matches(&self, req: &ApiRequest, path: &[&str]) -> Option<Routed> {
        if req.method != self.method {
            return None;
        }
        for (name, value) in &self.query {
            let given = req.query.get(name)?;
            if value.as_ref().is_some_and(|v| !given.iter().any(|g| g == v)) {
                return None;
            }
        }
        let mut labels = HashMap::new();
        let mut rest = path;
        for part in &self.segments {
            match part {
                Part::Greedy(name) => {
                    if rest.is_empty() {
                        return None;
                    }
                    labels.insert(name.clone(), rest.join("/"));
                    rest = &[];
                }
                Part::Label(name) => {
                    let (first, tail) = rest.split_first()?;
                    labels.insert(name.clone(), (*first).to_owned());
                    rest = tail;
                }
                Part::Literal(literal) => {
                    let (first, tail) = rest.split_first()?;
                    if first != literal {
                        return None;
                    }
                    rest = tail;
                }
            }
        }
        rest.is_empty().then_some(Routed {
            operation: self.operation,
            labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(operations: serde_json::Value) -> ServiceModel {
        ServiceModel::from_json(&serde_json::json!({"operations": operations, "shapes": {}}), false, &[]).unwrap()
    }

    fn route(routes: &Routes, method: Method, path: &str, query: &str) -> Option<&'static str> {
        routes
            .route(&ApiRequest::new(method, path, query, Default::default()))
            .map(|r| r.operation)
    }

    #[test]
    fn routes_by_method_path_labels_and_query() {
        let model = model(serde_json::json!({
            "Create": {"http": {"method": "POST", "requestUri": "/v1/thing"}},
            "CreateWithTags": {"http": {"method": "POST", "requestUri": "/v1/thing?WithTags"}},
            "Get": {"http": {"method": "GET", "requestUri": "/v1/thing/{Id}/"}},
            "Tag": {"http": {"method": "POST", "requestUri": "/v1/tagging?Operation=Tag"}},
            "Object": {"http": {"method": "GET", "requestUri": "/v1/object/{Key+}"}},
            "Unserved": {"http": {"method": "GET", "requestUri": "/v1/thing"}},
        }));
        let routes = Routes::new(&model, &["Create", "CreateWithTags", "Get", "Tag", "Object"]);
        assert_eq!(route(&routes, Method::POST, "/v1/thing", ""), Some("Create"));
        assert_eq!(
            route(&routes, Method::POST, "/v1/thing", "WithTags"),
            Some("CreateWithTags")
        );
        assert_eq!(route(&routes, Method::GET, "/v1/thing/a%2Fb", ""), Some("Get"));
        assert_eq!(route(&routes, Method::GET, "/v1/thing/a/", ""), Some("Get"));
        assert_eq!(route(&routes, Method::GET, "/v1/thing", ""), None, "not served");
        assert_eq!(route(&routes, Method::PUT, "/v1/thing/a", ""), None);
        assert_eq!(route(&routes, Method::GET, "/v1/thing/a/b", ""), None);
        assert_eq!(
            route(&routes, Method::POST, "/v1/tagging", "Operation=Tag"),
            Some("Tag")
        );
        assert_eq!(route(&routes, Method::POST, "/v1/tagging", "Operation=Untag"), None);
        assert_eq!(route(&routes, Method::POST, "/v1/tagging", ""), None);
        let get = routes.route(&ApiRequest::new(Method::GET, "/v1/thing/a%2Fb", "", Default::default()));
        assert_eq!(
            get.unwrap().labels,
            HashMap::from([("Id".to_owned(), "a/b".to_owned())])
        );
        let object = routes.route(&ApiRequest::new(
            Method::GET,
            "/v1/object/a/b/c",
            "",
            Default::default(),
        ));
        assert_eq!(object.unwrap().labels["Key"], "a/b/c");
        assert_eq!(route(&routes, Method::GET, "/v1/object", ""), None);
    }
}
