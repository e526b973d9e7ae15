//! The sensor fleet and its actions from the command line: a thin door onto
//! `ueba_core::response::sensors`.

use serde_json::json;
use ueba_core::model::format_timestamp;
use ueba_core::response::audit::{Actor, Door};
use ueba_core::response::sensors::actions::{self, SensorAction};
use ueba_core::response::sensors::{self, FieldFilter, NewSensor, Sensor, SensorQuery};
use ueba_core::Store;

use crate::args::SensorsCommand;
use crate::exit::Failure;
use crate::run::print_json;

fn sensor_line(s: &Sensor) -> String {
    format!(
        "{:<28} {:<8} {:<8} {:<9} {:<15} {}",
        s.machine_name,
        s.os_type,
        s.status,
        if s.isolated { "isolated" } else { "-" },
        s.internal_ip_address,
        s.pylum_id
    )
}

fn action_line(a: &SensorAction) -> String {
    let counts: Vec<String> = a
        .global_stats
        .stats
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    format!(
        "{:>12}  {}  {:<17} {:<6} {}",
        a.batch_id,
        format_timestamp(a.start_time),
        a.action_type,
        if a.final_state { "done" } else { "active" },
        counts.join(", ")
    )
}

fn show_action(json: bool, action: &SensorAction) {
    if json {
        print_json(&serde_json::to_value(action).unwrap_or_default());
    } else {
        println!("{}", action_line(action));
    }
}

fn equals_filters(filters: &[String]) -> Result<Vec<FieldFilter>, Failure> {
    filters
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(field, value)| FieldFilter {
                    field_name: field.to_owned(),
                    operator: "Equals".into(),
                    values: vec![value.into()],
                })
                .ok_or_else(|| Failure::Usage(format!("--where {f:?}: write FIELD=VALUE")))
        })
        .collect()
}

/// `sensors ...`.
pub fn sensors(json: bool, store: &Store, cmd: &SensorsCommand) -> Result<(), Failure> {
    let actor = Actor::local(Door::Cli);
    match cmd {
        SensorsCommand::List { filters } => {
            let found = sensors::query(
                store,
                &SensorQuery {
                    limit: sensors::query::MAX_LIMIT,
                    filters: equals_filters(filters)?,
                    ..SensorQuery::default()
                },
            )?;
            if json {
                print_json(&serde_json::to_value(&found).unwrap_or_default());
            } else {
                println!("{} sensor(s)", found.total_results);
                for s in &found.sensors {
                    println!("{}", sensor_line(s));
                }
            }
        }
        SensorsCommand::Show { sensor } => {
            actions::advance(store)?;
            print_json(&serde_json::to_value(sensors::get(store, sensor)?).unwrap_or_default());
        }
        SensorsCommand::Add {
            machine_name,
            ip,
            os,
            disconnected,
        } => {
            let added = sensors::add(
                store,
                &actor,
                &NewSensor {
                    machine_name: machine_name.clone(),
                    internal_ip_address: ip.clone(),
                    os_type: os.clone(),
                    disconnected: *disconnected,
                },
            )?;
            print_json(&serde_json::to_value(added).unwrap_or_default());
        }
        SensorsCommand::Disconnect { sensor, connected } => {
            let changed = sensors::set_disconnected(store, &actor, sensor, !connected)?;
            print_json(&serde_json::to_value(changed).unwrap_or_default());
        }
        SensorsCommand::Act {
            action,
            sensors: ids,
            argument,
        } => {
            let started =
                actions::start_on_sensors(store, &actor, action, ids.clone(), argument.clone())?;
            let detail = started.ok_or_else(|| {
                Failure::Usage(format!("no known sensor among {}", ids.join(", ")))
            })?;
            show_action(json, &detail.action);
        }
        SensorsCommand::Actions => {
            let all = actions::all_actions(store)?;
            if json {
                print_json(&json!({ "actions": all }));
            } else {
                println!("{} action(s)", all.len());
                for a in &all {
                    println!("{}", action_line(a));
                }
            }
        }
        SensorsCommand::Abort { batch_id } => {
            show_action(json, &actions::abort(store, &actor, *batch_id)?);
        }
        SensorsCommand::Timeline {
            pending_ms,
            progress_ms,
            jitter_ms,
            timeout_ms,
        } => {
            let mut t = actions::timeline(store)?;
            if [pending_ms, progress_ms, jitter_ms, timeout_ms]
                .iter()
                .any(|v| v.is_some())
            {
                t.pending_ms = pending_ms.unwrap_or(t.pending_ms);
                t.progress_ms = progress_ms.unwrap_or(t.progress_ms);
                t.jitter_ms = jitter_ms.unwrap_or(t.jitter_ms);
                t.timeout_ms = timeout_ms.unwrap_or(t.timeout_ms);
                t = actions::set_timeline(store, &actor, &t)?;
            }
            print_json(&serde_json::to_value(t).unwrap_or_default());
        }
    }
    Ok(())
}
