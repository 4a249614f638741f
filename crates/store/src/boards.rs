//! Placeholder for the boards module of supervision (filled in by its own change).
