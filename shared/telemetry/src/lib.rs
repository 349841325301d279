//! Logging for every function: JSON lines through `tracing`, with the
//! function name on every line and the request span's correlation id, tenant
//! id and ticket id flattened in. Secrets never reach a log: values that may
//! hold one are wrapped in `Redacted`, and requests are never logged whole.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Crates that log raw requests, events, headers or bodies below `info`
/// (the Lambda runtime logs whole invocation events at trace, bearer tokens
/// and `PUT /connection` credentials among them; HTTP and SDK clients log
/// headers). They are held at `info` whatever `RUST_LOG` says.
const PAYLOAD_LOGGERS: [&str; 12] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_sigv4",
];

/// The filter for `rust_log` (default `info`): its directives, except any
/// that names a payload logger, then every payload logger at `info`.
pub fn filter_directives(rust_log: Option<&str>) -> String {
    let asked = rust_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("info");
    let names_payload_logger = |directive: &str| {
        let target = directive
            .split(['=', '['])
            .next()
            .unwrap_or_default()
            .trim();
        PAYLOAD_LOGGERS
            .iter()
            .any(|p| target == *p || target.starts_with(&format!("{p}::")))
    };
    asked
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !names_payload_logger(d))
        .map(str::to_owned)
        .chain(PAYLOAD_LOGGERS.iter().map(|p| format!("{p}=info")))
        .collect::<Vec<_>>()
        .join(",")
}

fn filter() -> EnvFilter {
    let rust_log = std::env::var("RUST_LOG").ok();
    EnvFilter::try_new(filter_directives(rust_log.as_deref()))
        .unwrap_or_else(|_| EnvFilter::new(filter_directives(None)))
}

/// Installs the JSON subscriber. `RUST_LOG` filters (default `info`); the
/// crates that log payloads never go below `info`.
pub fn init(function_name: &'static str) {
    let filter = filter();
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .without_time()
        .try_init();
    tracing::info!(function = function_name, "started");
}

/// The span every request runs in; its fields appear on each log line.
#[macro_export]
macro_rules! request_span {
    ($function:expr, $correlation_id:expr) => {
        tracing::info_span!(
            "request",
            function = $function,
            correlation_id = %$correlation_id,
            tenant_id = tracing::field::Empty,
            ticket_id = tracing::field::Empty,
        )
    };
}

/// A value that prints as `[redacted]` in Debug and Display.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An email address shown as `a***@domain` in logs: enough to correlate, not to identify.
pub fn mask_account(account: &str) -> String {
    match account.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// Captured log output for tests that assert what was (not) logged.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn contents(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Installs the capturing subscriber on this thread until the guard drops.
    ///
    /// While only one dispatcher is registered, tracing decides a callsite's
    /// interest from the default of whichever thread reaches it first, so a
    /// test running in parallel could cache "nobody listens" for a callsite
    /// this test must see. A second, silent dispatcher kept alive for the
    /// process makes every callsite ask all dispatchers instead.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        static SILENT: OnceLock<tracing::Dispatch> = OnceLock::new();
        SILENT.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        let guard = tracing::subscriber::set_default(self.subscriber());
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    /// A JSON subscriber writing here, to install with `tracing::subscriber::set_default`
    /// or `with_default` around the code under test.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(self.clone())
            .finish()
    }
}

pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_values_never_print() {
        let secret = Redacted("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
    }

    #[test]
    fn span_fields_appear_on_every_line() {
        let logs = CapturedLogs::default();
        tracing::subscriber::with_default(logs.subscriber(), || {
            let span = request_span!("tickets", "corr-1");
            span.record("tenant_id", "demo");
            let _g = span.enter();
            tracing::info!("one");
            tracing::warn!("two");
        });
        let out = logs.contents();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["span"]["correlation_id"], "corr-1", "{line}");
            assert_eq!(v["span"]["tenant_id"], "demo", "{line}");
            assert_eq!(v["span"]["function"], "tickets", "{line}");
        }
    }

    #[test]
    fn accounts_are_masked() {
        assert_eq!(mask_account("alice@demo.example"), "a***@demo.example");
        assert_eq!(mask_account("nope"), "***");
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn logged_at(rust_log: &str) -> String {
        let captured = CapturedLogs::default();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(filter_directives(Some(rust_log))))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(captured.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime", "raw event Bearer secret-event-token");
            tracing::debug!(target: "lambda_runtime::layers", "raw payload secret-payload");
            tracing::trace!(target: "hyper::proto", "header secret-header");
            tracing::trace!(target: "zerodesk_workflow", "our own trace line");
        });
        captured.contents()
    }

    #[test]
    fn no_level_lets_the_runtime_or_clients_log_payloads() {
        for rust_log in ["trace", "lambda_runtime=trace,trace", "debug,hyper=trace"] {
            let out = logged_at(rust_log);
            assert!(!out.contains("secret-"), "{rust_log}: {out}");
        }
        assert!(logged_at("trace").contains("our own trace line"));
    }

    #[test]
    fn the_default_is_info() {
        assert!(filter_directives(None).starts_with("info,"));
        assert!(filter_directives(Some("")).starts_with("info,"));
    }
}
