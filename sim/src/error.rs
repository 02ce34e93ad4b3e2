//! Errors for bad input from outside the simulated world (never for failures inside it, which are data).

use std::fmt;

/// What went wrong with input given to the simulator. Every variant is
/// recoverable: the simulation (if one exists) is left unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The scenario JSON is malformed, has an unknown field or a bad value.
    Scenario(String),
    /// A command names a node that does not exist.
    UnknownNode(String),
    /// A command names a region that does not exist.
    UnknownRegion(String),
    /// A command cannot be carried out as given.
    BadCommand(String),
    /// No preset has this name.
    UnknownPreset(String),
    /// A run file is not one, or not one this build reads.
    RunFile(String),
    /// A lesson file is not one, or cannot be played as written.
    Lesson(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Scenario(m) => write!(f, "bad scenario: {}", one_line(m)),
            Error::UnknownNode(n) => write!(f, "unknown node {n:?}"),
            Error::UnknownRegion(r) => write!(f, "unknown region {r:?}"),
            Error::BadCommand(m) => write!(f, "bad command: {}", one_line(m)),
            Error::RunFile(m) => write!(f, "bad run file: {}", one_line(m)),
            Error::Lesson(m) => write!(f, "bad lesson: {}", one_line(m)),
            Error::UnknownPreset(p) => write!(
                f,
                "unknown preset {p:?} (known: {})",
                crate::presets::NAMES
                    .iter()
                    .chain(&crate::presets::BENCH_NAMES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for Error {}

/// `text` with line breaks, tabs and other control characters escaped
/// (`\n`, `\t`, `\u{1b}`), so that a message quoting what it was given
/// always stays on one line.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_quoting_a_line_break_stays_on_one_line() {
        let e = Error::Scenario("unknown field `a\nb`".into());
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("a\\nb"), "{text}");
        assert_eq!(one_line("tab\there\u{1b}"), "tab\\there\\u{1b}");
    }
}
