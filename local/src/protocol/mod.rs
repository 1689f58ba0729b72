//! The protocol toolkit every service builds on, importing no service: reading a REST-JSON request
//! ([`request`]), answering it ([`response`]), AWS's error shapes and each service's [`Dialect`]
//! of them ([`error`]), the model step of the chain ([`model_check`]), operation routing by the model's
//! `requestUri` ([`routing`]) and HLS's HTTP answers ([`hls`]).

pub mod error;
pub mod hls;
pub mod model_check;
pub mod request;
pub mod response;
pub mod routing;

pub use error::{ApiError, ApiResult, Dialect, parse_body};
pub use request::{ApiRequest, percent_decode, query_params};
pub use response::{empty_response, json_response, page_response, paginate};
pub use routing::{Routed, Routes};
