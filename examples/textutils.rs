//! Small text helpers: the Rust example for swarm-lsp.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Counter {
    counts: HashMap<String, usize>,
}

impl Counter {
    pub fn add(&mut self, text: &str) -> usize {
        let mut added = 0;
        for word in text.split_whitespace() {
            *self.counts.entry(word.to_lowercase()).or_insert(0) += 1;
            added += 1;
        }
        added
    }
}

pub fn truncate(text: &str, width: usize) -> Result<String, String> {
    if width < 3 {
        return Err(format!("width {} is too small", width));
    }
    if text.chars().count() <= width {
        return Ok(text.to_string());
    }
    let kept: String = text.chars().take(width - 3).collect();
    Ok(kept + "...")
}
