//! The template's schedules, run locally: each minute the cron expressions
//! are checked (rates count from start-up) and the target function gets
//! the scheduled event. `event_for` builds the same event for `invoke`.

pub mod cron;

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;
use zerodesk_template::{ScheduleDef, ScheduleKind};

use crate::console::Console;
use crate::runtime::Invoker;
pub use cron::{ExpressionError, Schedule};

/// One schedule and the function it fires.
#[derive(Clone)]
pub struct Scheduled {
    pub def: ScheduleDef,
    pub schedule: Schedule,
    pub invoker: Invoker,
    pub label: String,
}

/// The event the target receives: the schedule's `Input` when it has one,
/// otherwise EventBridge's "Scheduled Event".
pub fn event_for(def: &ScheduleDef, region: &str, account: &str, time: DateTime<Utc>) -> Value {
    if let Some(input) = &def.input {
        return serde_json::from_str(input).unwrap_or_else(|_| Value::String(input.clone()));
    }
    let (source, resource) = match def.kind {
        ScheduleKind::Rule => (
            "aws.events",
            format!(
                "arn:aws:events:{region}:{account}:rule/{}-{}",
                def.function, def.event
            ),
        ),
        ScheduleKind::Scheduler => (
            "aws.scheduler",
            format!(
                "arn:aws:scheduler:{region}:{account}:schedule/default/{}-{}",
                def.function, def.event
            ),
        ),
    };
    json!({
        "version": "0",
        "id": crate::runtime::new_request_id(),
        "detail-type": "Scheduled Event",
        "source": source,
        "account": account,
        "time": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": region,
        "resources": [resource],
        "detail": {}
    })
}

/// Fires the schedules until shutdown; a firing never blocks the clock.
pub async fn run(
    schedules: Vec<Scheduled>,
    region: String,
    account: String,
    console: Console,
    mut shutdown: watch::Receiver<bool>,
) {
    let started = Utc::now();
    let mut last_rate_fire: Vec<DateTime<Utc>> = vec![started; schedules.len()];
    loop {
        let now = Utc::now();
        let next_minute = 60 - u64::from(now.second());
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(next_minute)) => {}
            _ = crate::stopped(&mut shutdown) => return,
        }
        let tick = Utc::now()
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or_else(Utc::now);
        for (i, s) in schedules.iter().enumerate() {
            if is_due(&s.schedule, tick, &mut last_rate_fire[i]) {
                fire(s, &region, &account, tick, &console);
            }
        }
    }
}

/// Whether a schedule fires at the minute `tick`; a rate counts from
/// `last_fire`, which is moved on when it fires.
pub fn is_due(schedule: &Schedule, tick: DateTime<Utc>, last_fire: &mut DateTime<Utc>) -> bool {
    match schedule {
        Schedule::Cron(c) => c.matches(tick),
        Schedule::Rate(period) => {
            let elapsed = (tick - *last_fire).to_std().unwrap_or_default();
            // A second of slack: ticks land a little after the minute.
            let due = elapsed + Duration::from_secs(1) >= *period;
            if due {
                *last_fire = tick;
            }
            due
        }
        Schedule::At(at) => at.with_second(0) == Some(tick),
    }
}

fn fire(s: &Scheduled, region: &str, account: &str, time: DateTime<Utc>, console: &Console) {
    let event = event_for(&s.def, region, account, time);
    let invoker = s.invoker.clone();
    let console = console.clone();
    let name = format!("{}.{} ({})", s.def.function, s.def.event, s.def.expression);
    console.line(&format!("[schedule] {name} fires"));
    tokio::spawn(async move {
        if let Err(e) = invoker.invoke(event.to_string().into_bytes()).await {
            console.line(&format!("[schedule] {name} failed: {e}"));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use zerodesk_template::ScheduleKind;

    #[test]
    fn a_rate_fires_once_per_period_from_its_last_firing() {
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        let every_5 = Schedule::parse("rate(5 minutes)").unwrap();
        let mut last = start;
        let fired: Vec<i64> = (1..=15)
            .filter(|m| is_due(&every_5, start + chrono::Duration::minutes(*m), &mut last))
            .collect();
        assert_eq!(fired, [5, 10, 15]);
    }

    #[test]
    fn the_template_cron_is_due_only_at_its_minute() {
        let nightly = Schedule::parse("cron(15 3 * * ? *)").unwrap();
        let mut unused = Utc::now();
        assert!(is_due(
            &nightly,
            Utc.with_ymd_and_hms(2026, 11, 22, 3, 15, 0).unwrap(),
            &mut unused
        ));
        assert!(!is_due(
            &nightly,
            Utc.with_ymd_and_hms(2026, 11, 22, 3, 14, 0).unwrap(),
            &mut unused
        ));
    }

    #[test]
    fn the_event_is_the_input_or_a_scheduled_event() {
        let mut def = ScheduleDef {
            function: "RetentionPurgeFunction".to_owned(),
            event: "DailyRetention".to_owned(),
            kind: ScheduleKind::Scheduler,
            expression: "cron(15 3 * * ? *)".to_owned(),
            timezone: None,
            input: None,
            enabled: true,
        };
        let e = event_for(&def, "us-east-1", "123456789012", Utc::now());
        assert_eq!(e["detail-type"], "Scheduled Event");
        assert_eq!(e["source"], "aws.scheduler");
        def.input = Some(r#"{"mode":"purge"}"#.to_owned());
        assert_eq!(
            event_for(&def, "us-east-1", "1", Utc::now()),
            serde_json::json!({"mode": "purge"})
        );
    }
}
