//! Runs one parsed command against the engine.

use std::path::PathBuf;

use serde_json::json;
use ueba_core::connections::{self, ConnectionFilter, PageRequest};
use ueba_core::demo::{self, AttackWindow, DemoConfig};
use ueba_core::ingest::{self, ImportOptions, ImportReport};
use ueba_core::model::format_timestamp;
use ueba_core::store::{self, Store};
use ueba_core::{stats, CancelToken};

use crate::args::{
    Cli, Command, ConnectionsCommand, DemoArgs, FilterArgs, ImportArgs, ImportsCommand,
};
use crate::exit::Failure;
use crate::progress::Progress;

/// Runs the command and prints its result.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let db_path = match &cli.db {
        Some(path) => path.clone(),
        None => store::default_db_path()?,
    };
    let cancel = CancelToken::new();
    {
        // Ctrl-C asks long work to stop; it rolls back and the command exits with 130.
        let cancel = cancel.clone();
        let _ = ctrlc::set_handler(move || cancel.cancel());
    }
    match cli.command {
        Command::Demo(ref args) if args.out.is_some() => return demo_to_file(&cli, args, &cancel),
        // Needs no database.
        Command::Enums { markdown } => {
            crate::response::enums(cli.json, markdown);
            return Ok(());
        }
        _ => {}
    }
    let store = Store::open(&db_path)?;
    match &cli.command {
        Command::Init => {
            let version = store::latest_schema_version();
            if cli.json {
                print_json(&json!({"db": db_path, "schema_version": version}));
            } else {
                println!(
                    "database ready: {} (schema version {version})",
                    db_path.display()
                );
            }
        }
        Command::Import(args) => import(&cli, &store, args, &cancel)?,
        Command::Demo(args) => demo_to_store(&cli, &store, args, &cancel)?,
        Command::Connections(ConnectionsCommand::Count(filter)) => {
            let n = connections::count(&store, &to_filter(filter))?;
            if cli.json {
                print_json(&json!({ "count": n }));
            } else {
                println!("{n}");
            }
        }
        Command::Connections(ConnectionsCommand::List {
            filter,
            limit,
            cursor,
        }) => {
            let page = connections::list(
                &store,
                &to_filter(filter),
                &PageRequest {
                    limit: *limit,
                    cursor: cursor.clone(),
                    ..PageRequest::default()
                },
            )?;
            if cli.json {
                print_json(&json!(page));
            } else {
                print_connections(&page);
            }
        }
        Command::Imports(ImportsCommand::List) => {
            let imports = ingest::history::list(&store)?;
            if cli.json {
                print_json(&json!(imports));
            } else {
                println!(
                    "{:>5}  {:<24}  {:<6} {:>10} {:>10} {:>8}  file",
                    "id", "finished", "format", "inserted", "duplicates", "invalid"
                );
                for i in imports {
                    println!(
                        "{:>5}  {:<24}  {:<6} {:>10} {:>10} {:>8}  {}",
                        i.id,
                        format_timestamp(i.finished_at),
                        i.format,
                        i.inserted,
                        i.duplicates,
                        i.invalid,
                        i.file
                    );
                }
            }
        }
        Command::Imports(ImportsCommand::Errors { id }) => {
            let errors = ingest::history::errors(&store, *id)?;
            if cli.json {
                print_json(&json!(errors));
            } else {
                for e in errors {
                    println!("{e}");
                }
            }
        }
        Command::Backup { path } => {
            store.backup_to(path)?;
            if cli.json {
                print_json(&json!({"backup": path}));
            } else {
                println!("backup written to {}", path.display());
            }
        }
        Command::Dataset(cmd) => crate::ueba::dataset(cli.json, &store, cmd)?,
        Command::Settings(cmd) => crate::ueba::settings(cli.json, &store, cmd)?,
        Command::Analyze(cmd) => crate::ueba::analyze(cli.json, &store, cmd)?,
        Command::Status => crate::ueba::print_status(cli.json, &store)?,
        Command::Train(args) => {
            crate::engine::train(cli.json, cli.progress, &store, args, &cancel)?
        }
        Command::Anomalies(cmd) => crate::engine::anomalies(cli.json, &store, cmd)?,
        Command::Score(args) => crate::engine::score(cli.json, &store, args)?,
        Command::Evaluate(args) => crate::engine::evaluate(cli.json, &store, &args.source)?,
        Command::Serve(args) => return crate::listener::serve(cli.json, store, args, &cancel),
        Command::User(cmd) => crate::listener::user(cli.json, &store, cmd)?,
        Command::OauthClient(cmd) => crate::listener::client(cli.json, &store, cmd)?,
        Command::Tls(cmd) => crate::listener::tls_command(cli.json, &store, cmd)?,
        Command::Journal(args) => crate::listener::journal_command(cli.json, &store, args)?,
        Command::Alerts(cmd) => crate::response::alerts(cli.json, &store, cmd)?,
        Command::Policies(cmd) => crate::response::policies(cli.json, &store, cmd)?,
        Command::Audit(args) => crate::response::audit(cli.json, &store, args)?,
        Command::Catalog(cmd) => crate::response::catalog(cli.json, &store, cmd)?,
        Command::Groups(cmd) => crate::response::groups(&store, cmd)?,
        Command::Sensors(cmd) => crate::sensors::sensors(cli.json, &store, cmd)?,
        // Answered before the database is opened.
        Command::Enums { .. } => {}
        Command::Stats => {
            let o = stats::overview(&store)?;
            if cli.json {
                print_json(&json!(o));
            } else {
                print_overview(&o, &db_path);
            }
        }
    }
    Ok(())
}

/// Prints one JSON document on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

fn import(
    cli: &Cli,
    store: &Store,
    args: &ImportArgs,
    cancel: &CancelToken,
) -> Result<(), Failure> {
    let total: u64 = args
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let progress = Progress::new(cli.progress, total, true, "importing");
    let opts = ImportOptions {
        format: args.format,
        skip_invalid: args.skip_invalid,
    };
    let result = ingest::import_files(
        store,
        &args.files,
        &opts,
        &|p| {
            progress.update(
                p.bytes,
                Some(&format!("importing {} ({} rows)", p.file, p.rows)),
                || json!(p),
            );
        },
        cancel,
    );
    progress.finish();
    match result {
        Ok(reports) => {
            if cli.json {
                print_json(&json!({ "ok": true, "files": reports }));
            } else {
                for r in &reports {
                    print_report(r);
                }
            }
            Ok(())
        }
        Err(e) => {
            if let Some(report) = e.report() {
                if cli.json {
                    print_json(&json!({ "ok": false, "error": e.to_string(), "files": [report] }));
                } else {
                    print_report(report);
                }
            } else if cli.json {
                print_json(&json!({ "ok": false, "error": e.to_string() }));
            }
            Err(e.into())
        }
    }
}

fn print_report(r: &ImportReport) {
    println!(
        "{}: {} rows read as {}, {} imported, {} already present, {} invalid",
        r.file,
        r.rows_read,
        r.format.name(),
        r.inserted,
        r.duplicates,
        r.invalid
    );
    if !r.ignored_columns.is_empty() {
        println!("  ignored columns: {}", r.ignored_columns.join(", "));
    }
    for e in &r.errors {
        println!("  {e}");
    }
    if r.errors_truncated {
        match r.import_id {
            Some(id) if r.invalid > 0 => println!(
                "  ... and {} more; all are listed by `ueba-workbench imports errors {id}`",
                r.invalid - r.errors.len() as u64
            ),
            _ => println!("  ... and {} more", r.invalid - r.errors.len() as u64),
        }
    }
}

fn demo_config(args: &DemoArgs) -> Result<DemoConfig, Failure> {
    let end_ms = args.end.unwrap_or_else(demo::today_midnight_ms);
    let config = DemoConfig {
        connections: args.connections,
        days: args.days,
        seed: args.seed,
        attack_rate: args.attack_rate,
        end_ms,
        attack_window: match (args.attack_start, args.attack_end) {
            (Some(start_ms), Some(end_ms)) => Some(AttackWindow { start_ms, end_ms }),
            _ => None,
        },
    };
    config
        .validate()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(config)
}

fn demo_to_store(
    cli: &Cli,
    store: &Store,
    args: &DemoArgs,
    cancel: &CancelToken,
) -> Result<(), Failure> {
    let config = demo_config(args)?;
    let progress = Progress::new(cli.progress, config.connections, false, "generating");
    let summary = demo::generate_into_store(
        store,
        &config,
        &|done, total| progress.update(done, None, || json!({"rows": done, "total": total})),
        cancel,
    );
    progress.finish();
    let summary = summary?;
    if cli.json {
        print_json(&json!(summary));
    } else {
        println!(
            "{} demo connections generated ({} new) into {}",
            summary.connections,
            summary.inserted,
            store.path().display()
        );
    }
    Ok(())
}

fn demo_to_file(cli: &Cli, args: &DemoArgs, cancel: &CancelToken) -> Result<(), Failure> {
    let config = demo_config(args)?;
    let path: PathBuf = args.out.clone().unwrap_or_default();
    let progress = Progress::new(cli.progress, config.connections, false, "generating");
    let written = demo::write_file(
        &path,
        &config,
        &|done, total| progress.update(done, None, || json!({"rows": done, "total": total})),
        cancel,
    );
    progress.finish();
    let written = written.map_err(|e| Failure::Output(e.to_string()))?;
    if cli.json {
        print_json(&json!({"file": path, "connections": written}));
    } else {
        println!("{written} demo connections written to {}", path.display());
    }
    Ok(())
}

fn to_filter(f: &FilterArgs) -> ConnectionFilter {
    ConnectionFilter {
        from: f.from,
        to: f.to,
        user: f.user.clone(),
        host: f.host.clone(),
        conn_type: f.conn_type.clone(),
        search: f.search.clone(),
    }
}

fn print_connections(page: &connections::Page) {
    println!(
        "{:<24}  {:<16} {:<4} {:<15} {:<16} {:<12} {:>9} {:>12} {:<12} label",
        "connected",
        "user",
        "type",
        "source",
        "target",
        "account",
        "duration",
        "bytes_out",
        "status"
    );
    for c in &page.rows {
        println!(
            "{:<24}  {:<16} {:<4} {:<15} {:<16} {:<12} {:>9} {:>12} {:<12} {}",
            format_timestamp(c.connected),
            c.user,
            c.conn_type,
            c.remote_address,
            c.target_host,
            c.target_host_account.as_deref().unwrap_or("-"),
            c.duration
                .map(|d| format!("{d:.0}s"))
                .unwrap_or_else(|| "-".into()),
            c.bytes_out
                .map(|b| b.to_string())
                .unwrap_or_else(|| "-".into()),
            c.status.as_deref().unwrap_or("-"),
            c.label.as_deref().unwrap_or("")
        );
    }
    match (&page.next_cursor, page.complete) {
        (Some(next), true) => println!("more: --cursor {next}"),
        (Some(next), false) => println!(
            "the search stopped after {} ms with {} match(es) so far; search further back with --cursor {next}",
            connections::SCAN_BUDGET.as_millis(),
            page.rows.len()
        ),
        (None, _) => {}
    }
}

fn print_overview(o: &stats::Overview, db: &std::path::Path) {
    println!("database     {}", db.display());
    println!("connections  {}", o.connections);
    println!("users        {}", o.users);
    println!("hosts        {}", o.hosts);
    println!("sources      {}", o.sources);
    println!("imports      {}", o.imports);
    if let (Some(first), Some(last)) = (o.first_ms, o.last_ms) {
        println!(
            "time span    {} .. {}",
            format_timestamp(first),
            format_timestamp(last)
        );
    }
    let list = |title: &str, items: &[stats::NameCount]| {
        if !items.is_empty() {
            println!("{title}");
            for i in items {
                println!("  {:<24} {:>10}", i.name, i.count);
            }
        }
    };
    list("top users", &o.top_users);
    list("top hosts", &o.top_hosts);
    list("by type", &o.by_type);
    list("by label", &o.by_label);
}
