//! Integration tests: the `plinkdb` binary and library against generated data, local
//! files and a real S3 server (moto_server on 127.0.0.1).

mod cli;
mod contact;
mod errors;
mod flight_sql;
mod funnel_chdb;
mod funnel_examples;
mod identity;
mod jobs;
mod pruning;
mod s3;
mod support;
mod tags;
