//! The REPORT line Lambda writes after each invocation: duration, billed
//! duration, memory size, peak memory (VmHWM of the process) and, on a
//! process's first invocation, the init duration.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub function: String,
    pub request_id: String,
    pub duration: Duration,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: Option<u64>,
    pub init_duration: Option<Duration>,
    /// `None` on success; `timeout` or `error` as Lambda's own REPORT adds.
    pub status: Option<String>,
}

impl Report {
    /// Lambda's own format, prefixed with the function for a shared console.
    pub fn line(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let billed = ms(self.duration).ceil().max(1.0) as u64;
        let memory = self
            .max_memory_used_mb
            .map(|m| m.to_string())
            .unwrap_or_else(|| "?".to_owned());
        let mut line = format!(
            "[{}] REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {memory} MB",
            self.function,
            self.request_id,
            ms(self.duration),
            self.memory_size_mb,
        );
        if let Some(init) = self.init_duration {
            line.push_str(&format!("\tInit Duration: {:.2} ms", ms(init)));
        }
        if let Some(status) = &self.status {
            line.push_str(&format!("\tStatus: {status}"));
        }
        line
    }
}

/// Peak resident memory of a process in MB, from `/proc/<pid>/status`.
pub fn max_memory_used_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.div_ceil(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_has_lambdas_fields_and_init_only_when_given() {
        let mut r = Report {
            function: "echo".to_owned(),
            request_id: "r-1".to_owned(),
            duration: Duration::from_micros(1_500),
            memory_size_mb: 128,
            max_memory_used_mb: Some(9),
            init_duration: Some(Duration::from_millis(20)),
            status: None,
        };
        let line = r.line();
        assert!(
            line.contains("REPORT RequestId: r-1\tDuration: 1.50 ms\tBilled Duration: 2 ms"),
            "{line}"
        );
        assert!(
            line.contains("Memory Size: 128 MB\tMax Memory Used: 9 MB\tInit Duration: 20.00 ms"),
            "{line}"
        );
        r.init_duration = None;
        assert!(!r.line().contains("Init Duration"));
    }

    #[test]
    fn peak_memory_of_this_process_is_readable() {
        assert!(max_memory_used_mb(std::process::id()).is_some_and(|mb| mb > 0));
    }
}
