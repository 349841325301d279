//! EventBridge schedule expressions: `cron(min hour dom month dow year)`
//! with AWS's field rules (1 = Sunday, `?`, `L`, `#`), `rate(n unit)` and
//! `at(...)`. Evaluated in UTC, one minute at a time.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schedule expression {expression:?}: {problem}")]
pub struct ExpressionError {
    pub expression: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(Cron),
    Rate(Duration),
    At(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayRule {
    Any,
    Days(BTreeSet<u32>),
    LastDayOfMonth,
    /// Weekday (1 = Sunday) and its occurrence in the month (`6#3`).
    Nth(u32, u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    day_of_month: DayRule,
    months: BTreeSet<u32>,
    day_of_week: DayRule,
    years: BTreeSet<u32>,
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, ExpressionError> {
        let err = |problem: &str| ExpressionError {
            expression: expression.to_owned(),
            problem: problem.to_owned(),
        };
        let e = expression.trim();
        if let Some(body) = e.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')) {
            return Cron::parse(body).map(Schedule::Cron).map_err(|p| err(&p));
        }
        if let Some(body) = e.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')) {
            let mut parts = body.split_whitespace();
            let n: u64 = parts
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| err("rate needs a positive number"))?;
            let unit = match parts.next() {
                Some("minute" | "minutes") => 60,
                Some("hour" | "hours") => 3600,
                Some("day" | "days") => 86_400,
                _ => return Err(err("rate unit must be minutes, hours or days")),
            };
            return Ok(Schedule::Rate(Duration::from_secs(n * unit)));
        }
        if let Some(body) = e.strip_prefix("at(").and_then(|b| b.strip_suffix(')')) {
            let t = NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S")
                .map_err(|_| err("at() needs yyyy-mm-ddThh:mm:ss"))?;
            return Ok(Schedule::At(t.and_utc()));
        }
        Err(err("expected cron(...), rate(...) or at(...)"))
    }
}

impl Cron {
    fn parse(body: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [min, hour, dom, month, dow, year] = fields.as_slice() else {
            return Err(
                "cron needs six fields: minutes hours day-of-month month day-of-week year"
                    .to_owned(),
            );
        };
        let day_of_month = match *dom {
            "?" => DayRule::Any,
            "L" => DayRule::LastDayOfMonth,
            f if f.contains('W') => {
                return Err("W in day-of-month is not supported locally".to_owned());
            }
            f => DayRule::Days(field(f, 1, 31, &[])?),
        };
        let day_of_week = match *dow {
            "?" => DayRule::Any,
            f if f.contains('#') => {
                let (day, nth) = f.split_once('#').ok_or("bad #")?;
                let day = value(day, 1, 7, &DAYS)?;
                let nth: u32 = nth
                    .parse()
                    .ok()
                    .filter(|n| (1..=5).contains(n))
                    .ok_or("# needs 1-5")?;
                DayRule::Nth(day, nth)
            }
            f if f.contains('L') => {
                return Err("L in day-of-week is not supported locally".to_owned());
            }
            f => DayRule::Days(field(f, 1, 7, &DAYS)?),
        };
        if day_of_month != DayRule::Any && day_of_week != DayRule::Any && *dom != "*" && *dow != "*"
        {
            return Err("one of day-of-month and day-of-week must be ?".to_owned());
        }
        Ok(Cron {
            minutes: field(min, 0, 59, &[])?,
            hours: field(hour, 0, 23, &[])?,
            day_of_month,
            months: field(month, 1, 12, &MONTHS)?,
            day_of_week,
            years: field(year, 1970, 2199, &[])?,
        })
    }

    /// Whether the schedule fires in the minute that contains `t`.
    pub fn matches(&self, t: DateTime<Utc>) -> bool {
        let dow = t.weekday().num_days_from_sunday() + 1;
        let dom_ok = match &self.day_of_month {
            DayRule::Any => true,
            DayRule::Days(d) => d.contains(&t.day()),
            DayRule::LastDayOfMonth => (t + chrono::Duration::days(1)).month() != t.month(),
            DayRule::Nth(..) => false,
        };
        let dow_ok = match &self.day_of_week {
            DayRule::Any => true,
            DayRule::Days(d) => d.contains(&dow),
            DayRule::Nth(day, nth) => dow == *day && (t.day() - 1) / 7 + 1 == *nth,
            DayRule::LastDayOfMonth => false,
        };
        self.minutes.contains(&t.minute())
            && self.hours.contains(&t.hour())
            && self.months.contains(&t.month())
            && self.years.contains(&(t.year() as u32))
            && dom_ok
            && dow_ok
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(text: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    let v = match names.iter().position(|n| *n == upper) {
        Some(i) => i as u32 + min,
        None => text
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?,
    };
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside {min}-{max}"))
    }
}

fn field(text: &str, min: u32, max: u32, names: &[&str]) -> Result<BTreeSet<u32>, String> {
    let mut out = BTreeSet::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>().ok().filter(|s| *s > 0).ok_or("bad step")?,
            ),
            None => (part, 1),
        };
        let (lo, hi) = match range {
            "*" | "?" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a, min, max, names)?, value(b, min, max, names)?),
                None if part.contains('/') => (value(r, min, max, names)?, max),
                None => {
                    let v = value(r, min, max, names)?;
                    (v, v)
                }
            },
        };
        if lo > hi {
            return Err(format!("range {lo}-{hi} is empty"));
        }
        out.extend((lo..=hi).step_by(step as usize));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn cron(e: &str) -> Cron {
        match Schedule::parse(e).unwrap() {
            Schedule::Cron(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_daily_cron_fires_once_a_day_at_its_minute() {
        let c = cron("cron(15 3 * * ? *)");
        assert!(c.matches(at(2026, 11, 22, 3, 15)));
        assert!(!c.matches(at(2026, 11, 22, 3, 16)));
        assert!(!c.matches(at(2026, 11, 22, 4, 15)));
    }

    #[test]
    fn day_of_week_counts_from_sunday_and_accepts_names_ranges_and_nth() {
        // 2026-11-23 is a Monday.
        let weekdays = cron("cron(0 9 ? * MON-FRI *)");
        assert!(weekdays.matches(at(2026, 11, 23, 9, 0)));
        assert!(!weekdays.matches(at(2026, 11, 22, 9, 0)));
        assert!(cron("cron(0 9 ? * 2 *)").matches(at(2026, 11, 23, 9, 0)));
        let second_monday = cron("cron(0 9 ? * 2#2 *)");
        assert!(second_monday.matches(at(2026, 11, 9, 9, 0)));
        assert!(!second_monday.matches(at(2026, 11, 16, 9, 0)));
    }

    #[test]
    fn steps_lists_and_last_day_of_month() {
        let c = cron("cron(0/15 1,13 L * ? 2026)");
        assert!(c.matches(at(2026, 2, 28, 13, 45)));
        assert!(!c.matches(at(2026, 2, 27, 13, 45)));
        assert!(!c.matches(at(2026, 2, 28, 13, 50)));
        assert!(!c.matches(at(2027, 2, 28, 13, 45)));
    }

    #[test]
    fn rates_and_bad_expressions() {
        assert_eq!(
            Schedule::parse("rate(5 minutes)").unwrap(),
            Schedule::Rate(Duration::from_secs(300))
        );
        assert!(Schedule::parse("rate(0 minutes)").is_err());
        assert!(Schedule::parse("cron(0 3 * * *)").is_err());
        assert!(Schedule::parse("cron(0 3 1 * 2 *)").is_err());
        assert!(Schedule::parse("cron(61 3 * * ? *)").is_err());
        assert!(Schedule::parse("every day").is_err());
    }
}
