//! The policy filter language: which alerts a response policy applies to.
//!
//! Lacework Edge policies carry a `proto.Filter`, two lists of clauses whose terms are plain
//! strings. The vendor does not say what a term means, so this module defines a small term
//! language and evaluates a filter against each new alert and the connection behind it.
//!
//! # Filters and clauses
//!
//! ```json
//! {
//!   "include_any": [ { "all": ["type:SSH", "host:db-*"] }, { "all": ["severity:>=4"] } ],
//!   "exclude_any": [ { "all": ["user:svc-*"] } ]
//! }
//! ```
//!
//! - A **clause** (`{"all": [...]}`) matches when **all** of its terms match. A clause with an
//!   empty `all` matches everything.
//! - A **filter** matches when (`include_any` is empty **or** at least one include clause
//!   matches) **and** no `exclude_any` clause matches. Exclusion always wins.
//! - An absent filter, or one whose two lists are both empty, matches every alert.
//!
//! The example above applies to SSH connections to `db-…` hosts and to every alert of
//! severity 4 or 5, except when the user's name starts with `svc-`.
//!
//! # Terms
//!
//! A term is `key:value`. Whitespace around the term, the key and the value is ignored, and the
//! key is case-insensitive (`User:alice` is `user:alice`). Only the first `:` separates key and
//! value, so values may contain colons (`source:2001:db8::/32`).
//!
//! | Key | Matches when | Example |
//! |-----|--------------|---------|
//! | `user:NAME` | the connection's user is NAME | `user:svc-*` |
//! | `group:NAME` | the user belongs to a group named NAME | `group:domain-admins` |
//! | `role:NAME` | one of the connection's user roles is NAME | `role:dba` |
//! | `host:NAME` | the target host name is NAME | `host:db-*` |
//! | `account:NAME` | the account used on the target host is NAME | `account:root` |
//! | `type:PROTO` | the connection type (protocol) is PROTO: SSH, RDP, VNC, WEB, DB, ... | `type:SSH` |
//! | `source:ADDR` | the client's source IP address is ADDR or lies in network ADDR | `source:10.0.0.0/8` |
//! | `feature:NAME` | the anomaly was flagged by feature config NAME | `feature:time_of_use` |
//! | `severity:N` | the alert severity (1–5) compares with N | `severity:>=4` |
//! | `score:X` | the anomaly score (0–1) compares with X | `score:>0.8` |
//! | `list:NAME` | the customer dataset (named list) NAME holds the user, the target host or the source address | `list:vpn-exits` |
//!
//! Details per key:
//!
//! - `user`, `group`, `role`, `host`, `account` compare names case-insensitively (ASCII letters)
//!   and accept globs (below). `group` and `role` match when **any** of the user's groups or
//!   roles matches. A user's groups are the Lacework groups (`/api/v1/groups`) of the Lacework
//!   user whose `source_user_id` is the connection's user: the groups analysts manage, and one
//!   group per connection role holding the users seen with it (see `catalog::directory`).
//!   `account` never matches a connection without a target account.
//! - `type` is an exact, case-insensitive comparison (`type:ssh` matches `SSH`); no globs.
//! - `source` takes an IPv4 or IPv6 address (`source:192.0.2.7`, `source:2001:db8::1`, the same
//!   as a `/32` or `/128` network) or a network in CIDR notation (`source:10.0.0.0/8`,
//!   `source:2001:db8::/32`). An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) counts as its IPv4
//!   address.
//! - `feature` is one of `time_of_use`, `source`, `access_pattern`, `volume`
//!   (case-insensitive); any other name is refused when the policy is saved.
//! - `severity` takes an integer from 1 to 5 and `score` a number from 0 to 1, each optionally
//!   preceded by a comparison: `<`, `<=`, `=` (the default when none is given), `>=`, `>`.
//!   `severity:4` means exactly 4; `score:>=0.9` means 0.9 or more.
//! - `list` names a customer dataset. The list name is passed on as written; its entries are
//!   compared by the list's owner. A policy naming a list that does not exist is refused when it
//!   is saved; if the list is deleted later, the term no longer matches.
//!
//! # Globs
//!
//! The name keys accept globs that must match the whole value: `*` (any run of characters,
//! including none), `?` (exactly one character), `[abc]`, `[a-z]` and `[!abc]` (one character
//! from, or not from, a set) and `{a,b}` (either alternative). `svc-*` matches `svc-backup` and
//! `SVC-web`; `db-??` matches `db-01`. To match a literal `*`, `?`, `[`, `]`, `{` or `}` put it in
//! brackets: `[*]`. A backslash is an ordinary character, so `user:CORP\alice` works as written.
//!
//! # Negation
//!
//! A leading `!` negates a term: `!type:SSH` matches every connection that is not SSH, and
//! `!group:admins` every user outside that group. Two kinds of term that cannot be decided never
//! match, negated or not, so that a broken reference never widens a policy silently:
//! `source:...` when the stored source address is not an IP address, and `list:...` when the
//! list does not exist.
//!
//! # Errors
//!
//! [`compile`] refuses a filter with a term it cannot read and says where and why, e.g.
//! `include_any[0].all[1] "source:10.0.0/8": not an IP address or network (e.g. 10.0.0.0/8)`.

use std::cell::OnceCell;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use globset::{GlobBuilder, GlobMatcher};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `proto.Filter` as on the wire: which alerts a policy applies to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Filter {
    /// The filter matches when any of these clauses matches (or when this is empty).
    #[serde(default)]
    pub include_any: Vec<FilterClause>,
    /// The filter never matches when any of these clauses matches.
    #[serde(default)]
    pub exclude_any: Vec<FilterClause>,
}

/// One clause of a [`Filter`]: it matches when all of its terms match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct FilterClause {
    /// Terms of the filter language (see the module documentation); empty matches everything.
    #[serde(default)]
    pub all: Vec<String>,
}

/// What a filter is evaluated against: one alert and its connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// The connection's user.
    pub user: &'a str,
    /// Names of the groups the user belongs to.
    pub groups: &'a [String],
    /// The connection's user roles.
    pub roles: &'a [String],
    /// Target host name.
    pub host: &'a str,
    /// Account used on the target host, if known.
    pub account: Option<&'a str>,
    /// Connection type (protocol): SSH, RDP, VNC, WEB, DB, ...
    pub conn_type: &'a str,
    /// Source (client) address as stored; parsed only when a `source:` term needs it.
    pub source: &'a str,
    /// Names of the feature configs that flagged the anomaly.
    pub features: &'a [String],
    /// Alert severity, 1 to 5.
    pub severity: i64,
    /// Anomaly score, 0 to 1.
    pub score: f64,
}

/// Access to the customer datasets (named lists), provided by the caller so that evaluating a
/// filter never touches the database.
pub trait ListLookup {
    /// Whether list `list` holds `value`; `None` when no list of that name exists.
    fn list_contains(&self, list: &str, value: &str) -> Option<bool>;
}

/// A [`ListLookup`] that knows no lists, for filters evaluated without datasets.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLists;

impl ListLookup for NoLists {
    fn list_contains(&self, _list: &str, _value: &str) -> Option<bool> {
        None
    }
}

/// One key of the term language, described for the docs, the editor help and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TermKey {
    /// The key as written before the `:`.
    pub key: &'static str,
    /// What a term with this key matches, in one line.
    pub description: &'static str,
    /// A complete term using this key.
    pub example: &'static str,
}

/// Every key of the language with a one-line description and an example.
pub const TERM_KEYS: &[TermKey] = &[
    TermKey {
        key: "user",
        description: "the connection's user (case-insensitive, globs allowed)",
        example: "user:svc-*",
    },
    TermKey {
        key: "group",
        description: "the user belongs to this group (case-insensitive, globs allowed)",
        example: "group:domain-admins",
    },
    TermKey {
        key: "role",
        description: "one of the connection's user roles (case-insensitive, globs allowed)",
        example: "role:dba",
    },
    TermKey {
        key: "host",
        description: "the target host name (case-insensitive, globs allowed)",
        example: "host:db-*",
    },
    TermKey {
        key: "account",
        description: "the account used on the target host (case-insensitive, globs allowed)",
        example: "account:root",
    },
    TermKey {
        key: "type",
        description: "the connection type: SSH, RDP, VNC, WEB, DB, ... (case-insensitive)",
        example: "type:SSH",
    },
    TermKey {
        key: "source",
        description: "the source IP address equals this address or lies in this network",
        example: "source:10.0.0.0/8",
    },
    TermKey {
        key: "feature",
        description: "the anomaly was flagged by this feature config: time_of_use, source, \
                      access_pattern or volume",
        example: "feature:time_of_use",
    },
    TermKey {
        key: "severity",
        description: "the alert severity (1-5), optionally with <, <=, =, >= or >",
        example: "severity:>=4",
    },
    TermKey {
        key: "score",
        description: "the anomaly score (0-1), optionally with <, <=, =, >= or >",
        example: "score:>0.8",
    },
    TermKey {
        key: "list",
        description: "the named list holds the user, the target host or the source address",
        example: "list:vpn-exits",
    },
];

/// Names accepted by `feature:`, the feature configs that can flag an anomaly.
pub const FEATURE_NAMES: &[&str] = &["time_of_use", "source", "access_pattern", "volume"];

/// Which list of a [`Filter`] an error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseList {
    /// `include_any`.
    IncludeAny,
    /// `exclude_any`.
    ExcludeAny,
}

impl fmt::Display for ClauseList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClauseList::IncludeAny => "include_any",
            ClauseList::ExcludeAny => "exclude_any",
        })
    }
}

/// A term [`compile`] cannot read, with its position so the editor can point at it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{list}[{clause}].all[{term}] {text:?}: {kind}")]
pub struct FilterError {
    /// The list holding the clause.
    pub list: ClauseList,
    /// Index of the clause in that list.
    pub clause: usize,
    /// Index of the term in the clause's `all`.
    pub term: usize,
    /// The term as written.
    pub text: String,
    /// What is wrong with it.
    pub kind: FilterErrorKind,
}

/// Why a term was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterErrorKind {
    /// Nothing but whitespace (or a lone `!`).
    #[error("empty term (expected key:value, e.g. user:alice)")]
    EmptyTerm,
    /// No `:` between key and value.
    #[error("missing ':' between key and value (e.g. user:alice)")]
    MissingColon,
    /// The key is not one of [`TERM_KEYS`].
    #[error("unknown key {key:?} (known keys: {})", known_keys())]
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// Nothing after the `:`.
    #[error("empty value after \"{key}:\" (e.g. {example})")]
    EmptyValue {
        /// The (lower-case) key.
        key: &'static str,
        /// An example of a complete term with that key.
        example: &'static str,
    },
    /// `source:` with something that is neither an IP address nor a CIDR network.
    #[error("not an IP address or network (e.g. 10.0.0.0/8)")]
    BadAddress,
    /// `severity:` or `score:` with a value that is not a number in range.
    #[error("{value:?} is not {expected}")]
    BadNumber {
        /// The number as written.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// `severity:` or `score:` with an operator other than `<`, `<=`, `=`, `>=`, `>`.
    #[error("bad comparison {op:?} (use <, <=, =, >= or >, e.g. severity:>=4)")]
    BadComparison {
        /// The operator as written.
        op: String,
    },
    /// A name pattern globset cannot compile.
    #[error("bad glob: {reason}")]
    BadGlob {
        /// What globset says is wrong.
        reason: String,
    },
    /// `feature:` with a name that is not a feature config.
    #[error("unknown feature {name:?} (known features: {})", FEATURE_NAMES.join(", "))]
    UnknownFeature {
        /// The name as written.
        name: String,
    },
}

/// The keys, comma-separated, for the unknown-key message.
fn known_keys() -> String {
    TERM_KEYS
        .iter()
        .map(|k| k.key)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A [`Filter`] parsed once, ready to be evaluated against many alerts.
///
/// The default value matches everything, like an absent filter.
#[derive(Debug, Clone, Default)]
pub struct CompiledFilter {
    include_any: Vec<Clause>,
    exclude_any: Vec<Clause>,
}

#[derive(Debug, Clone)]
struct Clause {
    terms: Vec<Term>,
}

#[derive(Debug, Clone)]
struct Term {
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    User(Pattern),
    Group(Pattern),
    Role(Pattern),
    Host(Pattern),
    Account(Pattern),
    Type(String),
    Source(IpNet),
    Feature(&'static str),
    Severity(Cmp, i64),
    Score(Cmp, f64),
    List(String),
}

/// A name pattern; plain names skip the regex engine.
#[derive(Debug, Clone)]
enum Pattern {
    Exact(String),
    Glob(GlobMatcher),
}

impl Pattern {
    fn is_match(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(name) => name.eq_ignore_ascii_case(value),
            Pattern::Glob(glob) => glob.is_match(value),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, actual: T, wanted: T) -> bool {
        match self {
            Cmp::Lt => actual < wanted,
            Cmp::Le => actual <= wanted,
            Cmp::Eq => actual == wanted,
            Cmp::Ge => actual >= wanted,
            Cmp::Gt => actual > wanted,
        }
    }
}

/// Parses every term of `filter` once, refusing the first one that cannot be read.
pub fn compile(filter: &Filter) -> Result<CompiledFilter, FilterError> {
    Ok(CompiledFilter {
        include_any: compile_clauses(ClauseList::IncludeAny, &filter.include_any)?,
        exclude_any: compile_clauses(ClauseList::ExcludeAny, &filter.exclude_any)?,
    })
}

fn compile_clauses(list: ClauseList, clauses: &[FilterClause]) -> Result<Vec<Clause>, FilterError> {
    clauses
        .iter()
        .enumerate()
        .map(|(clause, c)| {
            let terms = c
                .all
                .iter()
                .enumerate()
                .map(|(term, text)| {
                    parse_term(text).map_err(|kind| FilterError {
                        list,
                        clause,
                        term,
                        text: text.clone(),
                        kind,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Clause { terms })
        })
        .collect()
}

fn parse_term(text: &str) -> Result<Term, FilterErrorKind> {
    let trimmed = text.trim();
    let (negated, body) = match trimmed.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, trimmed),
    };
    if body.is_empty() {
        return Err(FilterErrorKind::EmptyTerm);
    }
    let (key, value) = body.split_once(':').ok_or(FilterErrorKind::MissingColon)?;
    let (key, value) = (key.trim(), value.trim());
    let Some(known) = TERM_KEYS.iter().find(|k| k.key.eq_ignore_ascii_case(key)) else {
        return Err(FilterErrorKind::UnknownKey {
            key: key.to_owned(),
        });
    };
    if value.is_empty() {
        return Err(FilterErrorKind::EmptyValue {
            key: known.key,
            example: known.example,
        });
    }
    let test = match known.key {
        "user" => Test::User(pattern(value)?),
        "group" => Test::Group(pattern(value)?),
        "role" => Test::Role(pattern(value)?),
        "host" => Test::Host(pattern(value)?),
        "account" => Test::Account(pattern(value)?),
        "type" => Test::Type(value.to_owned()),
        "source" => Test::Source(network(value)?),
        "feature" => Test::Feature(feature(value)?),
        "severity" => {
            let (cmp, number) = comparison(value)?;
            let n = i64::from_str(number)
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| FilterErrorKind::BadNumber {
                    value: number.to_owned(),
                    expected: "an integer from 1 to 5",
                })?;
            Test::Severity(cmp, n)
        }
        "score" => {
            let (cmp, number) = comparison(value)?;
            let x = f64::from_str(number)
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| FilterErrorKind::BadNumber {
                    value: number.to_owned(),
                    expected: "a number from 0 to 1",
                })?;
            Test::Score(cmp, x)
        }
        // The only key left; dispatching on TERM_KEYS keeps the key list in one place.
        _ => Test::List(value.to_owned()),
    };
    Ok(Term { negated, test })
}

/// Characters globset gives a meaning to (the backslash is kept literal, see `pattern`).
const GLOB_META: &[char] = &['*', '?', '[', ']', '{', '}'];

fn pattern(value: &str) -> Result<Pattern, FilterErrorKind> {
    if !value.contains(GLOB_META) {
        return Ok(Pattern::Exact(value.to_owned()));
    }
    GlobBuilder::new(value)
        .case_insensitive(true)
        .literal_separator(false)
        // Literal on every platform, so Windows names like CORP\alice match as written.
        .backslash_escape(false)
        .build()
        .map(|glob| Pattern::Glob(glob.compile_matcher()))
        .map_err(|e| FilterErrorKind::BadGlob {
            reason: e.kind().to_string(),
        })
}

fn network(value: &str) -> Result<IpNet, FilterErrorKind> {
    if let Ok(net) = IpNet::from_str(value) {
        // Host bits are ignored: 10.1.2.3/8 means 10.0.0.0/8.
        return Ok(net.trunc());
    }
    IpAddr::from_str(value)
        .map(|addr| IpNet::from(addr.to_canonical()))
        .map_err(|_| FilterErrorKind::BadAddress)
}

fn feature(value: &str) -> Result<&'static str, FilterErrorKind> {
    FEATURE_NAMES
        .iter()
        .find(|f| f.eq_ignore_ascii_case(value))
        .copied()
        .ok_or_else(|| FilterErrorKind::UnknownFeature {
            name: value.to_owned(),
        })
}

/// Splits `>=4` into its operator and number; no operator means equality.
fn comparison(value: &str) -> Result<(Cmp, &str), FilterErrorKind> {
    let split = value
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
        .unwrap_or(value.len());
    let (op, number) = value.split_at(split);
    let cmp = match op {
        "" | "=" | "==" => Cmp::Eq,
        "<" => Cmp::Lt,
        "<=" => Cmp::Le,
        ">=" => Cmp::Ge,
        ">" => Cmp::Gt,
        _ => return Err(FilterErrorKind::BadComparison { op: op.to_owned() }),
    };
    Ok((cmp, number.trim_start()))
}

impl CompiledFilter {
    /// Whether the filter applies to `subject`; `lists` answers `list:` terms.
    pub fn matches(&self, subject: &Subject<'_>, lists: &dyn ListLookup) -> bool {
        let facts = Facts {
            subject,
            lists,
            source: OnceCell::new(),
        };
        let included =
            self.include_any.is_empty() || self.include_any.iter().any(|c| c.matches(&facts));
        included && !self.exclude_any.iter().any(|c| c.matches(&facts))
    }

    /// Names of the lists the filter refers to, each once, so the caller can check they exist.
    pub fn list_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let terms = self
            .include_any
            .iter()
            .chain(&self.exclude_any)
            .flat_map(|c| &c.terms);
        for term in terms {
            if let Test::List(name) = &term.test {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Whether the filter matches every subject whatever it holds, so callers can skip
    /// building subjects.
    pub fn is_match_all(&self) -> bool {
        self.exclude_any.is_empty()
            && (self.include_any.is_empty() || self.include_any.iter().any(|c| c.terms.is_empty()))
    }
}

/// One evaluation's subject, with the source address parsed at most once.
struct Facts<'s, 'a> {
    subject: &'s Subject<'a>,
    lists: &'s dyn ListLookup,
    source: OnceCell<Option<IpAddr>>,
}

impl Facts<'_, '_> {
    fn source_ip(&self) -> Option<IpAddr> {
        *self.source.get_or_init(|| {
            // IPv4-mapped IPv6 sources count as IPv4, so IPv4 networks cover them.
            IpAddr::from_str(self.subject.source.trim())
                .ok()
                .map(|ip| ip.to_canonical())
        })
    }
}

impl Clause {
    fn matches(&self, facts: &Facts<'_, '_>) -> bool {
        self.terms.iter().all(|t| t.matches(facts))
    }
}

impl Term {
    fn matches(&self, facts: &Facts<'_, '_>) -> bool {
        // Undecidable terms (None) fail even when negated: a broken reference must not widen
        // a policy.
        self.test.eval(facts).is_some_and(|hit| hit != self.negated)
    }
}

impl Test {
    /// Whether the subject passes; `None` when the term cannot be decided for it.
    fn eval(&self, facts: &Facts<'_, '_>) -> Option<bool> {
        let s = facts.subject;
        Some(match self {
            Test::User(p) => p.is_match(s.user),
            Test::Group(p) => s.groups.iter().any(|g| p.is_match(g)),
            Test::Role(p) => s.roles.iter().any(|r| p.is_match(r)),
            Test::Host(p) => p.is_match(s.host),
            Test::Account(p) => s.account.is_some_and(|a| p.is_match(a)),
            Test::Type(t) => t.eq_ignore_ascii_case(s.conn_type.trim()),
            Test::Source(net) => net.contains(&facts.source_ip()?),
            Test::Feature(f) => s.features.iter().any(|x| f.eq_ignore_ascii_case(x.trim())),
            Test::Severity(cmp, n) => cmp.holds(s.severity, *n),
            Test::Score(cmp, x) => cmp.holds(s.score, *x),
            Test::List(name) => {
                for value in [s.user, s.host, s.source.trim()] {
                    if facts.lists.list_contains(name, value)? {
                        return Some(true);
                    }
                }
                false
            }
        })
    }
}
