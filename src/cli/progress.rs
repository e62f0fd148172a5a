//! Progress on a terminal: a spinner with elapsed time for queries, a bar for
//! generation. Nothing is drawn when stderr is not a terminal (scripts, CI).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress is worth drawing.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// A spinner that shows `message` and the elapsed time until dropped.
pub fn spinner(message: &str) -> ProgressBar {
    if !interactive() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar counting to `total` `unit`s.
pub fn bar(total: u64, unit: &str) -> ProgressBar {
    if !interactive() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    let template = format!("{{bar:40}} {{pos}}/{{len}} {unit} {{elapsed}} (eta {{eta}})");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
