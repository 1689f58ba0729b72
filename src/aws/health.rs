//! Whether AWS can be reached with valid credentials, for `/readyz`: learnt from every answer the
//! SDK clients get (any success means yes), from the errors reconciles classify as credential
//! failures, and, until the first success, from a cheap probe (one ListInputSecurityGroups of one
//! item) repeated every 30 s.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::AwsClients;
use crate::error::Error;

#[derive(Clone, Debug, PartialEq)]
pub enum Health {
    /// Nothing answered yet.
    Unknown,
    Valid,
    /// AWS refused the credentials, or could not be reached; the message says which and why.
    Failing(String),
}

static HEALTH: Mutex<Health> = Mutex::new(Health::Unknown);
/// `HEALTH == Valid`, read without the lock: every successful AWS call asks.
static VALID: AtomicBool = AtomicBool::new(false);

pub fn current() -> Health {
    HEALTH.lock().unwrap().clone()
}

/// An AWS call succeeded.
pub fn answered() {
    if !VALID.load(Ordering::Relaxed) {
        *HEALTH.lock().unwrap() = Health::Valid;
        VALID.store(true, Ordering::Relaxed);
    }
}

fn failing(why: String) {
    let mut health = HEALTH.lock().unwrap();
    VALID.store(false, Ordering::Relaxed);
    *health = Health::Failing(why);
}

/// A reconcile failed; credential failures and unreachable endpoints make the operator unready.
pub fn failed(error: &Error) {
    if error.is_credentials() {
        failing(error.to_string());
    }
}

/// Probes until a call succeeds, and again whenever a failure was recorded since.
pub fn spawn_probe(aws: AwsClients) {
    tokio::spawn(async move {
        loop {
            if current() != Health::Valid {
                let probe = aws.medialive.list_input_security_groups().max_results(1).send().await;
                match probe {
                    Ok(_) => answered(),
                    Err(e) => {
                        let error = Error::aws("ListInputSecurityGroups", e);
                        let why = if error.is_credentials() || error.is_access_denied() {
                            error.to_string()
                        } else {
                            format!("AWS cannot be reached: {error}")
                        };
                        tracing::warn!(%why, "AWS probe failed");
                        // Permission to list is not needed to be ready: the credentials work.
                        if error.is_access_denied() {
                            answered();
                        } else {
                            failing(why);
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    });
}
