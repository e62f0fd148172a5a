//! `plinkdb serve`: the engine's session over Arrow Flight SQL for BI tools.

use std::io::BufRead;
use std::net::SocketAddr;

use clap::Args;

use super::Source;
use crate::error::{Error, Result};
use crate::flight_sql::auth::{HASH_ITERATIONS, PasswordHash};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub source: Source,
    /// Address to listen on (default: server.addr of the config, else 127.0.0.1:50051;
    /// port 0 picks a free port).
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Read a password from stdin, print its hash for [[server.users]] and exit.
    #[arg(long)]
    pub hash_password: bool,
}

pub async fn run(args: ServeArgs) -> Result<()> {
    if args.hash_password {
        return hash_password();
    }
    let mut config = args.source.config()?;
    // Clients must not read the server's files by path.
    config.engine.url_tables = false;
    let addr = match args.addr {
        Some(addr) => addr,
        None => config
            .server
            .addr
            .parse()
            .map_err(|e| Error::Usage(format!("server.addr '{}': {e}", config.server.addr)))?,
    };
    let engine = super::open_engine(config).await?;
    crate::flight_sql::serve(engine, addr, |bound| {
        println!("plinkdb Flight SQL server listening on {bound}");
    })
    .await
}

fn hash_password() -> Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("<stdin>", e))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(Error::Usage(
            "give the password on stdin, e.g. `read -rs PW; printf '%s' \"$PW\" | plinkdb \
             serve --hash-password`"
                .into(),
        ));
    }
    println!("{}", PasswordHash::new(password, HASH_ITERATIONS)?);
    Ok(())
}
