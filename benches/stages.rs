//! Per-stage benchmarks with criterion (being written).
fn main() {}
