//! The response loop from the command line: alerts and their investigation, policies, the audit
//! trail and the enumeration names. Each command is a thin door onto `ueba_core::response`.

use std::io::Read;
use std::path::Path;

use serde_json::json;
use ueba_core::model::format_timestamp;
use ueba_core::response::alerts::{self, Alert, AlertFilter};
use ueba_core::response::audit::{self, account_uuid, Actor, AuditFilter, Door};
use ueba_core::response::catalog::{self, directory};
use ueba_core::response::enums::{
    self, ALERT_SEVERITY, ALERT_STATUS, INCIDENT_STATUS, POLICY_ACTION,
};
use ueba_core::response::investigation::{
    self, AlertStatusChange, CloseWithReason, InvestigationAction, InvestigationNote,
    PerformInvestigationActionRequest, UpdateOwner,
};
use ueba_core::response::policies::{self, Policy, PolicyUpdate};
use ueba_core::Store;

use crate::args::{
    ActArgs, AlertsCommand, AuditArgs, CatalogCommand, GroupsCommand, PoliciesCommand,
};
use crate::exit::Failure;
use crate::run::print_json;

fn name(table: &enums::EnumDef, value: i64) -> String {
    table
        .name_of(value)
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn alert_line(a: &Alert) -> String {
    format!(
        "{}  {}  {:<11} {:<8} {:.3}  {}",
        a.uuid,
        format_timestamp(a.start_time),
        name(&ALERT_STATUS, a.status),
        name(&ALERT_SEVERITY, a.severity),
        a.score.unwrap_or(0.0),
        a.description
    )
}

/// `alerts ...`.
pub fn alerts(json: bool, store: &Store, cmd: &AlertsCommand) -> Result<(), Failure> {
    let actor = Actor::local(Door::Cli);
    match cmd {
        AlertsCommand::List {
            from,
            to,
            status,
            user,
            limit,
        } => {
            let found = alerts::query(
                store,
                &AlertFilter {
                    start_time: *from,
                    end_time: *to,
                    statuses: alerts::parse_status_filter(status)?,
                    user: user.clone(),
                    limit: Some(*limit),
                    offset: None,
                },
            )?;
            if json {
                print_json(&json!({ "alerts": found }));
            } else {
                println!("{} alert(s)", found.len());
                for a in &found {
                    println!("{}", alert_line(a));
                }
            }
        }
        AlertsCommand::Show { uuid } => {
            let alert = alerts::get(store, uuid)?;
            let history = investigation::history(store, uuid)?;
            if json {
                print_json(&json!({ "alert": alert, "investigation_actions": history }));
            } else {
                println!("{}", alert_line(&alert));
                println!(
                    "  owner {}  incident {}  policy action {}  update_time {}",
                    if alert.owner_display_name.is_empty() {
                        "-"
                    } else {
                        &alert.owner_display_name
                    },
                    name(&INCIDENT_STATUS, alert.incident_status),
                    name(&POLICY_ACTION, alert.policy_action_taken),
                    alert.update_time
                );
                for reason in &alert.explanation {
                    println!("  - {reason}");
                }
                for h in &history {
                    println!(
                        "  {}  {:<16} {}",
                        format_timestamp(h.timestamp),
                        h.actor_display_name,
                        serde_json::to_string(&h.action).unwrap_or_default()
                    );
                }
            }
        }
        AlertsCommand::Promote { event } => {
            let alert = alerts::promote(
                store,
                &actor,
                &alerts::PromoteRequest {
                    event_id: Some(event.clone()),
                    ..Default::default()
                },
            )?;
            if json {
                print_json(&json!(alert));
            } else {
                println!("{}", alert_line(&alert));
            }
        }
        AlertsCommand::Act(args) => {
            let response = investigation::perform(store, &actor, &args.uuid, &action_of(args)?)?;
            if json {
                print_json(&json!(response));
            } else {
                let alert = alerts::get(store, &args.uuid)?;
                println!("{}", alert_line(&alert));
            }
        }
    }
    Ok(())
}

/// The one investigation action `alerts act` was given.
fn action_of(args: &ActArgs) -> Result<PerformInvestigationActionRequest, Failure> {
    let parse = |table: &enums::EnumDef, text: &str, what: &str| {
        table.parse(text).ok_or_else(|| {
            Failure::Usage(format!("{what} {text:?} is not one of {}", table.names()))
        })
    };
    let mut action = InvestigationAction::default();
    match (&args.status, &args.close, &args.note, &args.owner) {
        (Some(status), None, None, None) => {
            action.alert_status_change = Some(AlertStatusChange {
                new_status: parse(&ALERT_STATUS, status, "--status")?,
            })
        }
        (None, Some(reason), note, None) => {
            action.close_with_reason = Some(CloseWithReason {
                incident_status: parse(&INCIDENT_STATUS, reason, "--close")?,
                note_text: note.clone().unwrap_or_default(),
            })
        }
        (None, None, Some(note), None) => {
            action.note = Some(InvestigationNote {
                card_id: String::new(),
                note_text: note.clone(),
            })
        }
        (None, None, None, Some(owner)) => {
            action.update_owner = Some(UpdateOwner {
                owner_uuid: if owner.is_empty() {
                    String::new()
                } else {
                    account_uuid(owner)
                },
                owner_display_name: String::new(),
            })
        }
        _ => return Err(Failure::Usage(
            "give exactly one of --status, --close (with an optional --note), --note or --owner"
                .into(),
        )),
    }
    Ok(PerformInvestigationActionRequest {
        action: Some(action),
        alert_update_time: args.expect_update_time.unwrap_or(0),
        ..Default::default()
    })
}

fn catalog_kind(name: &str) -> Result<&'static catalog::Kind, Failure> {
    catalog::kind(name).ok_or_else(|| {
        let kinds: Vec<&str> = catalog::KINDS.iter().map(|k| k.name).collect();
        Failure::Usage(format!(
            "unknown kind {name:?}; kinds: {}",
            kinds.join(", ")
        ))
    })
}

/// `catalog ...`.
pub fn catalog(json: bool, store: &Store, cmd: &CatalogCommand) -> Result<(), Failure> {
    match cmd {
        CatalogCommand::Kinds => {
            let kinds: Vec<serde_json::Value> = catalog::KINDS
                .iter()
                .map(|kind| {
                    let routes: Vec<String> = kind
                        .routes
                        .iter()
                        .filter_map(|(id, _)| catalog::contract::operation(id))
                        .map(|op| format!("{} {}", op.method, op.path))
                        .collect();
                    json!({"kind": kind.name, "schema": kind.schema, "key": kind.key, "routes": routes})
                })
                .collect();
            if json {
                print_json(&json!({ "kinds": kinds }));
            } else {
                for k in &kinds {
                    let routes: Vec<&str> = k["routes"]
                        .as_array()
                        .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
                        .unwrap_or_default();
                    println!(
                        "{:<22} {:<26} key {:<14} {}",
                        k["kind"].as_str().unwrap_or(""),
                        k["schema"].as_str().unwrap_or(""),
                        k["key"].as_str().unwrap_or(""),
                        routes.join(", ")
                    );
                }
            }
        }
        CatalogCommand::List { kind, filters } => {
            let kind = catalog_kind(kind)?;
            let pairs = filters
                .iter()
                .map(|f| {
                    f.split_once('=')
                        .map(|(p, v)| (p.to_owned(), v.to_owned()))
                        .ok_or_else(|| Failure::Usage(format!("--where {f:?}: write PARAM=VALUE")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let query = catalog::filters(kind, pairs)?;
            let objects = catalog::list(store, kind, &query)?;
            if json {
                print_json(&json!({ kind.list_field: objects }));
            } else {
                println!("{} {}(s)", objects.len(), kind.name);
                for o in &objects {
                    println!("{}", serde_json::to_string(o).unwrap_or_default());
                }
            }
        }
        CatalogCommand::Show { kind, key } => {
            let object = catalog::get(store, catalog_kind(kind)?, key)?;
            print_json(&object);
        }
        CatalogCommand::Put { kind, file } => {
            let kind = catalog_kind(kind)?;
            let object: serde_json::Value = read_json(file)?;
            let stored = catalog::put(store, &Actor::local(Door::Cli), kind, &object)?;
            if json {
                print_json(&stored);
            } else {
                println!(
                    "stored {} {}",
                    kind.name,
                    serde_json::to_string(&stored).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// `groups ...`.
pub fn groups(store: &Store, cmd: &GroupsCommand) -> Result<(), Failure> {
    let actor = Actor::local(Door::Cli);
    let (group, user, member) = match cmd {
        GroupsCommand::AddMember { group, user } => (group, user, true),
        GroupsCommand::RemoveMember { group, user } => (group, user, false),
    };
    let answer = directory::set_member(store, &actor, group, user, member)?;
    print_json(&answer);
    Ok(())
}

/// Reads a JSON document from a file, or stdin for `-`.
fn read_json<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, Failure> {
    let mut text = String::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    read.map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::Usage(format!(
            "{}: not a valid JSON document: {e}",
            file.display()
        ))
    })
}

fn policy_line(p: &Policy) -> String {
    format!(
        "{}  {:<9} priority {:<4} {:<14} {}",
        p.uuid,
        name(&enums::ENUM_STATUS, p.status),
        p.priority,
        name(&POLICY_ACTION, p.action),
        p.name
    )
}

/// `policies ...`.
pub fn policies(json: bool, store: &Store, cmd: &PoliciesCommand) -> Result<(), Failure> {
    let actor = Actor::local(Door::Cli);
    let show = |p: &Policy| {
        if json {
            print_json(&json!(p));
        } else {
            println!("{}", policy_line(p));
        }
    };
    match cmd {
        PoliciesCommand::List => {
            let all = policies::list(store)?;
            if json {
                print_json(&json!({ "policies": all }));
            } else {
                println!("{} polic(ies)", all.len());
                for p in &all {
                    println!("{}", policy_line(p));
                }
            }
        }
        PoliciesCommand::Show { uuid } => show(&policies::get(store, uuid)?),
        PoliciesCommand::Create { file } => {
            let input: Policy = read_json(file)?;
            show(&policies::create(store, &actor, &input)?);
        }
        PoliciesCommand::Update { uuid, file, delete } => {
            let fields: serde_json::Map<String, serde_json::Value> = read_json(file)?;
            let update = PolicyUpdate {
                policy: fields,
                attributes_to_delete: delete.clone(),
                ..PolicyUpdate::default()
            };
            show(&policies::update(store, &actor, uuid, &update)?);
        }
        PoliciesCommand::Preview { file, limit } => {
            let input: Policy = read_json(file)?;
            let hits = policies::preview(store, &input, *limit)?;
            if json {
                print_json(&json!({ "alerts": hits }));
            } else {
                println!("{} past alert(s) match", hits.len());
                for a in &hits {
                    println!("{}", alert_line(a));
                }
            }
        }
    }
    Ok(())
}

/// `audit`.
pub fn audit(json: bool, store: &Store, args: &AuditArgs) -> Result<(), Failure> {
    let events = audit::query(
        store,
        &AuditFilter {
            start_time: args.from,
            end_time: args.to,
            object_uuid: args.object.clone(),
            limit: Some(args.limit),
        },
    )?;
    if json {
        print_json(&json!({ "audit_events": events }));
    } else {
        println!("{} event(s)", events.len());
        for e in &events {
            println!(
                "{}  {:<8} {:<16} {:<18} {} {}",
                format_timestamp(e.create_time),
                e.protocol,
                e.user_login,
                e.op,
                e.object_type,
                e.object_uuid
            );
        }
    }
    Ok(())
}

/// `enums`.
pub fn enums(json: bool, markdown: bool) {
    if markdown {
        print!("{}", enums::markdown());
    } else if json {
        print_json(&json!(enums::ALL));
    } else {
        for e in enums::ALL {
            println!("{} ({})", e.name, e.used_by);
            for v in e.values {
                println!("  {:>4}  {:<26} {}", v.value, v.name, v.meaning);
            }
        }
    }
}
