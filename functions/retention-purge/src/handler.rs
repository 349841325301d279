//! retention-purge's translation: a scheduled event -> one purge run within
//! the invocation's deadline (less a margin to save progress) -> a summary.
//! A run that runs out of time succeeds: the next schedule continues it.
//! A failure is returned so Lambda records it and the schedule retries.

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use zerodesk_crypto::ConnectionSecrets;
use zerodesk_events::Publisher;
use zerodesk_retention::{Budget, Deadline, PurgeError, PurgeReport, Purger};
use zerodesk_store::TenantDb;

pub type Event = EventBridgeEvent<serde_json::Value>;

/// Time kept back from the deadline to save the cursor and answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

pub trait Purge: Send + Sync {
    fn run(
        &self,
        now: DateTime<Utc>,
        budget: &Deadline,
    ) -> impl Future<Output = Result<PurgeReport, PurgeError>> + Send;
}

impl<V: ConnectionSecrets, P: Publisher, D: TenantDb> Purge for Purger<V, P, D> {
    fn run(
        &self,
        now: DateTime<Utc>,
        budget: &Deadline,
    ) -> impl Future<Output = Result<PurgeReport, PurgeError>> + Send {
        Purger::run(self, now, budget)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("the event is not the retention schedule")]
    NotSchedule,
    #[error("the purge failed; the next run continues from the saved cursor")]
    Purge(#[from] PurgeError),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::NotSchedule => "NotSchedule",
            HandlerError::Purge(p) if p.is_transient() => "PurgeRetryable",
            HandlerError::Purge(_) => "PurgeFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

pub async fn handle<P: Purge>(
    purger: &P,
    event: Event,
    deadline: SystemTime,
    now: DateTime<Utc>,
) -> Result<PurgeReport, HandlerError> {
    // The daily schedule is an EventBridge Scheduler schedule whose target
    // input the template fixes (`source: aws.scheduler`); an EventBridge
    // rule's scheduled event (`aws.events`) is the same thing.
    let from_a_schedule = matches!(event.source.as_str(), "aws.events" | "aws.scheduler");
    if !from_a_schedule || event.detail_type != "Scheduled Event" {
        tracing::error!("refused an event that is not the schedule");
        return Err(HandlerError::NotSchedule);
    }
    let budget = Deadline::new(deadline, DEADLINE_MARGIN);
    if budget.exhausted() {
        tracing::warn!("no time left for a purge run");
    }
    let report = purger.run(now, &budget).await.inspect_err(
        |e| tracing::error!(retryable = e.is_transient(), error = %e, "purge failed"),
    )?;
    tracing::info!(
        complete = report.complete,
        tenants_purged = report.tenants_purged.len(),
        expired_deleted = report.expired_deleted.values().sum::<u64>(),
        "purge run"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    const SCHEDULE: &str = include_str!("../../../events/schedule-retention.json");

    #[derive(Default)]
    struct Fake {
        budgets_left: Mutex<Vec<bool>>,
    }

    impl Purge for Fake {
        async fn run(
            &self,
            _now: DateTime<Utc>,
            budget: &Deadline,
        ) -> Result<PurgeReport, PurgeError> {
            self.budgets_left.lock().unwrap().push(!budget.exhausted());
            Ok(PurgeReport {
                complete: !budget.exhausted(),
                ..Default::default()
            })
        }
    }

    fn schedule() -> Event {
        serde_json::from_str(SCHEDULE).unwrap()
    }

    #[tokio::test]
    async fn the_schedule_runs_the_purge_within_the_deadline_less_the_margin() {
        let fake = Fake::default();
        let later = SystemTime::now() + Duration::from_secs(600);
        let r = handle(&fake, schedule(), later, Utc::now()).await.unwrap();
        assert!(r.complete);
        let soon = SystemTime::now() + DEADLINE_MARGIN / 2;
        let r = handle(&fake, schedule(), soon, Utc::now()).await.unwrap();
        assert!(!r.complete, "inside the margin the budget is already spent");
        assert_eq!(*fake.budgets_left.lock().unwrap(), vec![true, false]);
    }

    #[tokio::test]
    async fn the_schedulers_input_from_the_template_runs_the_purge() {
        let fake = Fake::default();
        let input =
            r#"{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}}"#;
        let template = include_str!("../../../template.yaml");
        assert!(
            template.contains(&format!("Input: '{input}'")),
            "the template's schedule sends this input"
        );
        let e: Event = serde_json::from_str(input).unwrap();
        let later = SystemTime::now() + Duration::from_secs(600);
        assert!(handle(&fake, e, later, Utc::now()).await.unwrap().complete);
    }

    #[tokio::test]
    async fn other_events_are_refused() {
        let fake = Fake::default();
        let mut e = schedule();
        e.source = "zerodesk".into();
        let later = SystemTime::now() + Duration::from_secs(600);
        assert!(matches!(
            handle(&fake, e, later, Utc::now()).await,
            Err(HandlerError::NotSchedule)
        ));
        assert!(fake.budgets_left.lock().unwrap().is_empty());
    }

    #[test]
    fn a_transient_purge_failure_is_reported_as_retryable_and_a_corrupt_one_is_not() {
        let transient: lambda_runtime::Diagnostic =
            HandlerError::Purge(PurgeError::Unprocessed).into();
        assert_eq!(transient.error_type, "PurgeRetryable");
        let corrupt: lambda_runtime::Diagnostic = HandlerError::Purge(PurgeError::Corrupt).into();
        assert_eq!(corrupt.error_type, "PurgeFailed");
    }
}
