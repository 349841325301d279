//! Where the stack's own lines go: the terminal, or a buffer that tests
//! read. Lines are whole and never interleave; nothing here formats secrets.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub enum Console {
    #[default]
    Stdout,
    /// Keeps every line, for tests to assert on (REPORT lines, restarts).
    Capture(Arc<Mutex<Vec<String>>>),
}

impl Console {
    pub fn capture() -> Console {
        Console::Capture(Arc::new(Mutex::new(Vec::new())))
    }

    pub fn line(&self, text: &str) {
        match self {
            Console::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
            }
            Console::Capture(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(text.to_owned());
                }
            }
        }
    }

    /// The captured lines (empty for the terminal).
    pub fn lines(&self) -> Vec<String> {
        match self {
            Console::Stdout => Vec::new(),
            Console::Capture(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
        }
    }
}
