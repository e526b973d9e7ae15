//! Customer datasets (the Lacework Edge `CustomerDataset` model): named lists that policy
//! filters use through `list:NAME` terms, such as an allow-list of admin hosts or the VPN's exit
//! networks.
//!
//! The vendor documents no body for "Creates a new customer dataset", so this workbench takes
//! the dataset's own fields plus `items`, the list's values. Posting a dataset whose name exists
//! replaces its items and raises `current_version`. An item matches a subject's user or host by
//! case-insensitive equality; an item that is an IP address or a CIDR network matches a source
//! address inside it.

use std::collections::HashMap;

use ipnet::IpNet;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::audit::{self, Actor, Change};
use super::filter::ListLookup;
use super::{now_ms, stored, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// Most items one list may hold.
pub const MAX_ITEMS: usize = 100_000;

/// `CustomerDatasetConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct CustomerDatasetConfig {
    /// Stored as given.
    pub description: String,
    /// Stored as given.
    pub icon: i64,
}

/// A customer dataset: the seed's `CustomerDataset` fields this workbench keeps (`properties`
/// are stored as given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct CustomerDataset {
    /// This workbench.
    pub account_name: String,
    /// Stored as given.
    pub config: CustomerDatasetConfig,
    /// Stored as given.
    pub content_type: i64,
    /// Stored as given.
    pub content_types: Vec<i64>,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Who created it.
    pub creator_display_name: String,
    /// Their uuid.
    pub creator_uuid: String,
    /// Raised each time its items are replaced.
    pub current_version: i64,
    /// Its name: what `list:NAME` terms use (letters, digits, `-`, `_`, `.`).
    pub dataset_name: String,
    /// Stored as given.
    pub dataset_type: i64,
    /// What it holds.
    pub description: String,
    /// Stored as given.
    pub entity_type: i64,
    /// Stored as given.
    pub icon: i64,
    /// How many items it holds.
    pub num_items: i64,
    /// Stored as given.
    pub parent_uuid: String,
    /// Stored as given (an object; empty when not given).
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Stored as given.
    pub scenario: i64,
    /// EnumStatus (ACTIVE).
    pub status: i64,
    /// Last change (epoch ms).
    #[ts(type = "number")]
    pub update_time: i64,
    /// Who changed it last.
    pub updater_display_name: String,
    /// Their uuid.
    pub updater_uuid: String,
    /// Its uuid.
    pub uuid: String,
}

/// `ListItem`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ListItem {
    /// How it is shown.
    pub display_name: String,
    /// Stored as 0.
    pub entity_type: i64,
    /// The value matched against users, hosts and source addresses.
    pub value: String,
    /// Stored as 0.
    pub value_type: i64,
}

/// `CustomerDatasetItem`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct CustomerDatasetItem {
    /// This workbench.
    pub account_name: String,
    /// Who added it.
    pub creator_uuid: String,
    /// Its dataset.
    pub dataset_uuid: String,
    /// Its position in the list.
    pub item_id: String,
    /// The value.
    pub list_item: ListItem,
    /// ACTIVE.
    pub status: i64,
    /// The dataset version it belongs to.
    pub version: i64,
}

/// Body of "Creates a new customer dataset" (the vendor documents none): the dataset's name,
/// description and settings, plus its items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct CreateListRequest {
    /// Ignored (this workbench is the account).
    pub account_name: String,
    /// Its name: what `list:NAME` terms use (letters, digits, `-`, `_`, `.`); required.
    pub dataset_name: String,
    /// What it holds.
    pub description: String,
    /// Stored as given.
    pub config: CustomerDatasetConfig,
    /// Stored as given (an object; empty when not given).
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The list's values: user names, host names, IP addresses or CIDR networks.
    pub items: Vec<String>,
}

/// A dataset with its items (the answer of "Get a customer dataset and its items").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ListWithItems {
    /// Always empty: every item is in this answer.
    pub continuation_token: String,
    /// The items.
    pub customer_dataset_items: Vec<CustomerDatasetItem>,
    /// The dataset.
    pub dataset: CustomerDataset,
}

fn invalid(field: &str, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Creates a list, or replaces the items of the list with that name.
pub fn create(
    store: &Store,
    actor: &Actor,
    request: &CreateListRequest,
) -> Result<CustomerDataset, ResponseError> {
    let name = request.dataset_name.trim().to_owned();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(invalid(
            "dataset_name",
            format!("{name:?}: use letters, digits, '-', '_' or '.' (it is written list:NAME in policies)"),
        ));
    }
    if request.items.len() > MAX_ITEMS {
        return Err(invalid(
            "items",
            format!("at most {MAX_ITEMS} items per list"),
        ));
    }
    let mut items: Vec<String> = Vec::with_capacity(request.items.len());
    for (i, item) in request.items.iter().enumerate() {
        let item = item.trim();
        if item.is_empty() {
            return Err(invalid(&format!("items[{i}]"), "an item cannot be empty"));
        }
        if item.contains('/') && item.parse::<IpNet>().is_err() {
            return Err(invalid(
                &format!("items[{i}]"),
                format!("{item:?} is not a CIDR network (e.g. 10.0.0.0/8)"),
            ));
        }
        items.push(item.to_owned());
    }
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read_by_name(&tx, &name)?;
        let now = now_ms();
        let mut list = CustomerDataset {
            description: request.description.clone(),
            config: request.config.clone(),
            properties: request.properties.clone(),
            ..CustomerDataset::default()
        };
        list.account_name = ACCOUNT_NAME.into();
        list.dataset_name = name.clone();
        list.num_items = items.len() as i64;
        list.status = 2;
        list.updater_uuid = actor.uuid.clone();
        list.updater_display_name = actor.display_name.clone();
        match &before {
            Some(old) => {
                list.uuid = old.uuid.clone();
                list.create_time = old.create_time;
                list.creator_uuid = old.creator_uuid.clone();
                list.creator_display_name = old.creator_display_name.clone();
                list.current_version = old.current_version + 1;
                list.update_time = now.max(old.update_time + 1);
            }
            None => {
                list.uuid = uuid::Uuid::new_v4().to_string();
                list.create_time = now;
                list.update_time = now;
                list.creator_uuid = actor.uuid.clone();
                list.creator_display_name = actor.display_name.clone();
                list.current_version = 1;
            }
        }
        tx.execute(
            "INSERT INTO customer_datasets (uuid, name, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (uuid) DO UPDATE SET body = excluded.body",
            params![list.uuid, list.dataset_name, serde_json::to_string(&list).unwrap_or_default()],
        )?;
        tx.execute("DELETE FROM customer_dataset_items WHERE dataset_uuid = ?1", [&list.uuid])?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO customer_dataset_items (dataset_uuid, position, value) VALUES (?1, ?2, ?3)",
            )?;
            for (i, item) in items.iter().enumerate() {
                insert.execute(params![list.uuid, i as i64, item])?;
            }
        }
        let (b, a, asked) = (
            before.as_ref().and_then(|x| serde_json::to_value(x).ok()),
            serde_json::to_value(&list).ok(),
            serde_json::to_value(request).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: if before.is_some() { "list.replace" } else { "list.create" },
                object_type: "customer_dataset",
                object_uuid: &list.uuid,
                request: asked.as_ref(),
                before: b.as_ref(),
                after: a.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(list)
    })
}

fn read_by_name(
    c: &rusqlite::Connection,
    name: &str,
) -> Result<Option<CustomerDataset>, ResponseError> {
    stored::one(
        c,
        "SELECT body FROM customer_datasets WHERE name = ?1",
        name,
    )
}

/// Every list, by name.
pub fn list(store: &Store) -> Result<Vec<CustomerDataset>, ResponseError> {
    store.read(|c| stored::all(c, "SELECT body FROM customer_datasets ORDER BY name", []))
}

/// One list and its items.
pub fn get(store: &Store, name: &str) -> Result<ListWithItems, ResponseError> {
    store.read(|c| {
        let dataset = read_by_name(c, name)?.ok_or_else(|| ResponseError::NotFound {
            kind: "customer dataset",
            id: name.to_owned(),
        })?;
        let mut stmt = c.prepare_cached(
            "SELECT position, value FROM customer_dataset_items WHERE dataset_uuid = ?1 ORDER BY position",
        )?;
        let items = stmt
            .query_map([&dataset.uuid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|(position, value)| CustomerDatasetItem {
                account_name: ACCOUNT_NAME.into(),
                creator_uuid: dataset.updater_uuid.clone(),
                dataset_uuid: dataset.uuid.clone(),
                item_id: position.to_string(),
                list_item: ListItem {
                    display_name: value.clone(),
                    value,
                    ..ListItem::default()
                },
                status: 2,
                version: dataset.current_version,
            })
            .collect();
        Ok(ListWithItems {
            continuation_token: String::new(),
            customer_dataset_items: items,
            dataset,
        })
    })
}

/// The lists as policy filters see them (loaded once per evaluation).
#[derive(Debug, Default)]
pub struct Lists {
    by_name: HashMap<String, (std::collections::HashSet<String>, Vec<IpNet>)>,
}

impl Lists {
    /// Loads every list.
    pub fn load(c: &rusqlite::Connection) -> rusqlite::Result<Lists> {
        let mut by_name: HashMap<String, (std::collections::HashSet<String>, Vec<IpNet>)> =
            HashMap::new();
        let mut names = c.prepare_cached("SELECT name FROM customer_datasets")?;
        for name in names.query_map([], |r| r.get::<_, String>(0))? {
            by_name.entry(name?).or_default();
        }
        let mut stmt = c.prepare_cached(
            "SELECT d.name, i.value FROM customer_dataset_items i
             JOIN customer_datasets d ON d.uuid = i.dataset_uuid",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (name, value) = row?;
            let entry = by_name.entry(name).or_default();
            let network = value
                .parse::<IpNet>()
                .ok()
                .or_else(|| value.parse::<std::net::IpAddr>().ok().map(IpNet::from));
            if let Some(net) = network {
                entry.1.push(net);
            }
            entry.0.insert(value.to_ascii_lowercase());
        }
        Ok(Lists { by_name })
    }

    /// Whether a list of this name exists.
    pub fn exists(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}

impl ListLookup for Lists {
    fn list_contains(&self, list: &str, value: &str) -> Option<bool> {
        let (values, networks) = self.by_name.get(list)?;
        if values.contains(&value.to_ascii_lowercase()) {
            return Some(true);
        }
        let ip = value.parse::<std::net::IpAddr>().ok();
        Some(ip.is_some_and(|ip| networks.iter().any(|n| n.contains(&ip))))
    }
}
