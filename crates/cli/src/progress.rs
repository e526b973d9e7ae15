//! Progress on stderr: a bar on a terminal, JSON lines for scripts and tests.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::args::ProgressMode;

/// Shows progress of one long job.
pub struct Progress {
    bar: Option<ProgressBar>,
    json: bool,
    last_json: Mutex<Option<Instant>>,
}

impl Progress {
    /// A progress display for a job of `total` units (`bytes` says whether units are bytes).
    pub fn new(mode: ProgressMode, total: u64, bytes: bool, message: &str) -> Self {
        let show_bar = match mode {
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Bar => true,
            ProgressMode::Json | ProgressMode::None => false,
        };
        let bar = show_bar.then(|| {
            let bar = ProgressBar::new(total);
            let template = if bytes {
                "{msg} [{bar:40}] {binary_bytes}/{binary_total_bytes} {percent}% {per_sec} eta {eta}"
            } else {
                "{msg} [{bar:40}] {human_pos}/{human_len} {percent}% {per_sec} eta {eta}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(message.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            json: mode == ProgressMode::Json,
            last_json: Mutex::new(None),
        }
    }

    /// Reports the current position; `fields` is the JSON object printed in JSON mode.
    pub fn update(
        &self,
        position: u64,
        message: Option<&str>,
        fields: impl FnOnce() -> serde_json::Value,
    ) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            if let Some(m) = message {
                bar.set_message(m.to_owned());
            }
        }
        if self.json {
            // At most 10 lines a second.
            let mut last = self.last_json.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                *last = Some(Instant::now());
                eprintln!("{}", fields());
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
