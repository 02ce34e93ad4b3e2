//! Live charts of the last minute of simulated time (placeholder, being written).
