//! Placeholder for the summaries of supervision (filled in by its own change).
