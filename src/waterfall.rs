//! A request's hop-by-hop waterfall (placeholder, being written).
