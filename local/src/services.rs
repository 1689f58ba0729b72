//! The local cloud as the dispatcher sees it: the services `main` registers, each a room of its
//! own behind [`Service`], and what they all share ([`Shared`]). Routing, `/metrics` and reset
//! iterate the [`Registry`]; nothing here names a service.

use std::{collections::HashMap, pin::Pin, sync::Arc};

use axum::{extract::Request, response::Response};

use crate::{
    auth::Keys,
    faults::Faults,
    media::Media,
    model::Models,
    protocol::{ApiRequest, Routed, Routes},
};

/// A response on its way.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// What every service's calls run with: fault injection and call accounting, the access keys,
/// AWS's service models, the media pipeline and the account the cloud plays.
pub struct Shared {
    pub faults: Arc<Faults>,
    /// The access keys whose signatures are accepted, with their IAM policies.
    pub keys: Arc<Keys>,
    /// AWS's service models: requests are checked against them.
    pub models: Models,
    /// Each service's operations, routed by its model.
    pub routing: Routing,
    pub media: Media,
    pub region: String,
    pub account_id: String,
}

/// One service: the requests signed for its SigV4 name, the unsigned ones it serves, its reset
/// and its metrics. How it checks a call (signature, IAM, model) is its protocol's chain.
pub trait Service: Send + Sync {
    /// The SigV4 service name of the requests it answers.
    fn signing_name(&self) -> &'static str;

    /// The operations of its AWS model it serves (named as the model names them): its calls are
    /// routed to them by the model's `http.method` and `http.requestUri` ([`Routing`]).
    fn operations(&self) -> &'static [&'static str] {
        &[]
    }

    /// Answers a request signed (or claiming to be) for [`Self::signing_name`].
    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a>;

    /// Answers an unsigned request that is its (an origin's media, a public object), or hands it
    /// back (boxed: it is large) for the next service.
    fn unsigned<'a>(&'a self, _shared: &'a Shared, req: Request) -> Result<Answer<'a>, Box<Request>> {
        Err(Box::new(req))
    }

    /// Forgets every resource (the admin API's reset).
    fn reset(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Its lines of the Prometheus `/metrics` text.
    fn metrics_text(&self) -> String {
        String::new()
    }
}

/// The services, in the order unsigned requests are offered to them and reset runs.
pub struct Registry(Vec<Arc<dyn Service>>);

impl Registry {
    /// Panics on two services with one signing name (a wiring mistake in `main`).
    pub fn new(services: Vec<Arc<dyn Service>>) -> Self {
        for (i, service) in services.iter().enumerate() {
            let name = service.signing_name();
            assert!(
                services[..i].iter().all(|s| s.signing_name() != name),
                "two services signed {name}"
            );
        }
        Self(services)
    }

    /// The service requests signed for `name` go to.
    pub fn signed_for(&self, name: &str) -> Option<&dyn Service> {
        self.0.iter().find(|s| s.signing_name() == name).map(|s| &**s)
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Service> {
        self.0.iter().map(|s| &**s)
    }

    /// Each service's routes, from its model and the operations it registers. Panics on a
    /// service registering operations without a model, or operations its model lacks.
    pub fn routing(&self, models: &Models) -> Routing {
        let routes = self.iter().filter(|s| !s.operations().is_empty()).map(|service| {
            let name = service.signing_name();
            let model = models
                .service(name)
                .unwrap_or_else(|| panic!("{name} registers operations but no model"));
            (name, Routes::new(model, service.operations()))
        });
        Routing(routes.collect())
    }
}

/// The routes of every registered service, by signing name.
#[derive(Default)]
pub struct Routing(HashMap<&'static str, Routes>);

impl Routing {
    /// The operation of `service` that `req` reaches, if any.
    pub fn route(&self, service: &str, req: &ApiRequest) -> Option<Routed> {
        self.0.get(service)?.route(req)
    }
}
