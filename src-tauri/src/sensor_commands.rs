//! The sensor fleet and its actions from the window: query, start an action, follow and abort
//! it, and the actions an alert's response started. Each is a thin call into
//! `ueba_core::response::sensors`, made as the person at this machine through the desktop door.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use ueba_core::response::audit::{Actor, Door};
use ueba_core::response::sensors::actions::{self, ActionDetail, Argument, SensorAction, Timeline};
use ueba_core::response::sensors::query::OPERATORS;
use ueba_core::response::sensors::{self, SensorQuery, SensorQueryResult};

use crate::commands::blocking;
use crate::error::CommandError;
use crate::state::AppState;

fn actor() -> Actor {
    Actor::local(Door::Desktop)
}

/// One action an analyst may start, for the action form.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ActionKindInfo {
    /// What the form sends (`archive`, `isolate`).
    pub action: String,
    /// The `actionType` it reports (`Archive`).
    pub action_type: String,
    /// Whether it needs an argument.
    pub argument_required: bool,
    /// Whether it takes one at all.
    pub takes_argument: bool,
    /// The only arguments it takes (empty: free text).
    pub choices: Vec<String>,
}

/// Every action the fleet carries out, and the filter operators the query takes.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SensorVocabulary {
    /// The actions.
    pub actions: Vec<ActionKindInfo>,
    /// The filter operators.
    pub operators: Vec<String>,
}

/// The actions and operators, for the Sensors page's forms.
#[tauri::command]
pub fn sensor_vocabulary() -> SensorVocabulary {
    SensorVocabulary {
        actions: actions::KINDS
            .iter()
            .map(|k| {
                let (required, takes, choices) = match k.argument {
                    Argument::Nothing => (false, false, vec![]),
                    Argument::Text => (false, true, vec![]),
                    Argument::Required => (true, true, vec![]),
                    Argument::OneOf(words) => {
                        (true, true, words.iter().map(|w| (*w).to_owned()).collect())
                    }
                };
                ActionKindInfo {
                    action: k.path.into(),
                    action_type: k.action_type.into(),
                    argument_required: required,
                    takes_argument: takes,
                    choices,
                }
            })
            .collect(),
        operators: OPERATORS.iter().map(|o| (*o).to_owned()).collect(),
    }
}

/// One page of the sensors that pass the query's filters.
#[tauri::command]
pub async fn query_sensors(
    state: State<'_, AppState>,
    query: SensorQuery,
) -> Result<SensorQueryResult, CommandError> {
    let store = state.store()?;
    blocking(move || sensors::query(&store, &query)).await
}

/// Starts `action` on the sensors (ids, pylumIds or machine names); `None` when none is known.
#[tauri::command]
pub async fn start_sensor_action(
    state: State<'_, AppState>,
    action: String,
    sensor_ids: Vec<String>,
    argument: Option<String>,
) -> Result<Option<ActionDetail>, CommandError> {
    let store = state.store()?;
    blocking(move || actions::start_on_sensors(&store, &actor(), &action, sensor_ids, argument))
        .await
}

/// Every action with its sensors' courses, newest first, brought to the present.
#[tauri::command]
pub async fn sensor_actions(state: State<'_, AppState>) -> Result<Vec<ActionDetail>, CommandError> {
    let store = state.store()?;
    blocking(move || actions::details(&store)).await
}

/// Aborts an unfinished action (a finished one is answered as it is).
#[tauri::command]
pub async fn abort_sensor_action(
    state: State<'_, AppState>,
    batch_id: i64,
) -> Result<SensorAction, CommandError> {
    let store = state.store()?;
    blocking(move || actions::abort(&store, &actor(), batch_id)).await
}

/// The actions an alert's response started.
#[tauri::command]
pub async fn alert_sensor_actions(
    state: State<'_, AppState>,
    alert_uuid: String,
) -> Result<Vec<ActionDetail>, CommandError> {
    let store = state.store()?;
    blocking(move || actions::of_alert(&store, &alert_uuid)).await
}

/// The simulated timeline of sensor actions.
#[tauri::command]
pub async fn sensor_timeline(state: State<'_, AppState>) -> Result<Timeline, CommandError> {
    let store = state.store()?;
    blocking(move || actions::timeline(&store)).await
}

/// Sets the timeline of the actions started from now on.
#[tauri::command]
pub async fn set_sensor_timeline(
    state: State<'_, AppState>,
    timeline: Timeline,
) -> Result<Timeline, CommandError> {
    let store = state.store()?;
    blocking(move || actions::set_timeline(&store, &actor(), &timeline)).await
}
