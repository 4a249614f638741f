//! Placeholder for the inspections module of supervision (filled in by its own change).
