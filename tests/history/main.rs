//! Tests of the results history's library parts: change points on synthetic series, the SQLite
//! store, the OpenMetrics and BMF exports read back by real parsers and schemas. One binary, so
//! it builds once; the command line is tested in tests/cli/history.rs.

mod bmf;
mod changepoint;
mod exports;
mod openmetrics;
mod store;
mod synthetic;
