//! The REST listener's commands: `serve`, `user`, `oauth-client`, `tls` and `journal`.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use ueba_api::{ListenerConfig, RunningListener};
use ueba_core::auth;
use ueba_core::journal::{self, JournalFilter};
use ueba_core::model::format_timestamp;
use ueba_core::{tls, CancelToken, Store};

use crate::args::{ClientCommand, JournalArgs, ServeArgs, TlsCommand, UserCommand};
use crate::exit::Failure;
use crate::run::print_json;

/// Runs the listener until Ctrl-C or SIGTERM, then stops it gracefully.
pub fn serve(
    json: bool,
    store: Store,
    args: &ServeArgs,
    cancel: &CancelToken,
) -> Result<(), Failure> {
    let config = ListenerConfig {
        port: args.port,
        bind: args.bind.clone(),
        tls: args.tls,
    };
    if config.beyond_loopback() {
        eprintln!(
            "warning: listening on {} exposes the listener to other machines; anyone who can \
             reach it can try the credentials",
            args.bind
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let store = Arc::new(store);
    if auth::list_accounts(&store)?.is_empty() {
        eprintln!(
            "note: no accounts yet; create one with `ueba-workbench user add NAME --role admin \
             --password-stdin` and a client with `ueba-workbench oauth-client add NAME`"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ueba-api")
        .build()
        .map_err(|e| Failure::Output(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let listener: RunningListener = ueba_api::start(Arc::clone(&store), &config).await?;
        let info = listener.info().clone();
        if json {
            print_json(&json!({"url": info.url, "addresses": info.addresses, "tls": info.tls}));
        } else {
            println!("listening on {}", info.url);
            for extra in info.addresses.iter().skip(1) {
                eprintln!("also listening on {extra}");
            }
        }
        let _ = std::io::stdout().flush();
        wait_for_stop(cancel).await;
        eprintln!("stopping: letting open requests finish");
        listener.stop(true).await;
        Ok::<(), Failure>(())
    })
}

async fn wait_for_stop(cancel: &CancelToken) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        #[cfg(unix)]
        if let Some(term) = term.as_mut() {
            tokio::select! {
                _ = term.recv() => return,
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        #[cfg(not(unix))]
        tokio::time::sleep(Duration::from_millis(100)).await;
        if cancel.is_cancelled() {
            return;
        }
    }
}

fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Usage(format!("cannot read the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// `user add|list|remove`.
pub fn user(json: bool, store: &Store, command: &UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add { name, role, .. } => {
            let password = read_password()?;
            let account = auth::add_account(store, name, *role, &password)?;
            if json {
                print_json(&json!(account));
            } else {
                println!("account {} added (role {})", account.name, account.role);
            }
        }
        UserCommand::List => {
            let accounts = auth::list_accounts(store)?;
            if json {
                print_json(&json!(accounts));
            } else {
                for a in accounts {
                    println!(
                        "{:<24} {:<22} created {}",
                        a.name,
                        a.role.scope(),
                        format_timestamp(a.created)
                    );
                }
            }
        }
        UserCommand::Remove { name } => {
            auth::remove_account(store, name)?;
            if json {
                print_json(&json!({"removed": name}));
            } else {
                println!("account {name} removed; its tokens are revoked");
            }
        }
    }
    Ok(())
}

/// `oauth-client add|list|remove`.
pub fn client(json: bool, store: &Store, command: &ClientCommand) -> Result<(), Failure> {
    match command {
        ClientCommand::Add { name, role } => {
            let new = auth::add_client(store, name, *role)?;
            if json {
                print_json(&json!({
                    "name": new.client.name,
                    "client_id": new.client.client_id,
                    "client_secret": new.client_secret,
                    "role": new.client.role,
                }));
            } else {
                println!("client_id: {}", new.client.client_id);
                println!("client_secret: {}", new.client_secret);
                eprintln!("the secret is shown only now; store it safely");
            }
        }
        ClientCommand::List => {
            let clients = auth::list_clients(store)?;
            if json {
                print_json(&json!(clients));
            } else {
                for c in clients {
                    println!(
                        "{:<24} {}  {:<18} created {}",
                        c.name,
                        c.client_id,
                        c.role.map_or("(password grant only)", |r| r.scope()),
                        format_timestamp(c.created)
                    );
                }
            }
        }
        ClientCommand::Remove { name } => {
            auth::remove_client(store, name)?;
            if json {
                print_json(&json!({"removed": name}));
            } else {
                println!("client {name} removed; its tokens are revoked");
            }
        }
    }
    Ok(())
}

/// `tls export-ca|reset`.
pub fn tls_command(json: bool, store: &Store, command: &TlsCommand) -> Result<(), Failure> {
    match command {
        TlsCommand::ExportCa { file } => {
            tls::export_ca(store, file)?;
            if json {
                print_json(&json!({"ca_certificate": file}));
            } else {
                println!("CA certificate written to {}", file.display());
            }
        }
        TlsCommand::Reset => {
            tls::reset(store)?;
            if json {
                print_json(&json!({"reset": true}));
            } else {
                println!("TLS material removed; the next HTTPS start makes a new CA");
            }
        }
    }
    Ok(())
}

/// `journal`.
pub fn journal_command(json: bool, store: &Store, args: &JournalArgs) -> Result<(), Failure> {
    let page = journal::query(
        store,
        &JournalFilter {
            method: args.method.clone(),
            path: args.path.clone(),
            status_min: args.status_min,
            caller: args.caller.clone(),
            limit: Some(args.limit),
            ..JournalFilter::default()
        },
    )?;
    if json {
        print_json(&json!(page));
    } else {
        println!("{} matching request(s)", page.total);
        for r in page.items {
            let e = r.entry;
            println!(
                "{}  {:<6} {:>3} {:>8.1} ms  {:<20} {}",
                format_timestamp(e.time),
                e.method,
                e.status,
                e.latency_us as f64 / 1000.0,
                e.caller,
                e.path
            );
        }
    }
    Ok(())
}
