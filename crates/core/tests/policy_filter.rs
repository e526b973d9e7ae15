//! The policy filter language: every key, negation, globs, networks, lists, include/exclude
//! semantics and the parse errors.

use std::collections::{HashMap, HashSet};

use ueba_core::response::filter::*;

/// A filter with one include clause.
fn include(terms: &[&str]) -> Filter {
    Filter {
        include_any: vec![clause(terms)],
        exclude_any: vec![],
    }
}

fn clause(terms: &[&str]) -> FilterClause {
    FilterClause {
        all: terms.iter().map(|t| t.to_string()).collect(),
    }
}

fn compiled(terms: &[&str]) -> CompiledFilter {
    compile(&include(terms)).unwrap_or_else(|e| panic!("{terms:?} should compile: {e}"))
}

/// Owned storage behind a `Subject`, so tests can tweak one field at a time.
#[derive(Clone)]
struct Alert {
    user: String,
    groups: Vec<String>,
    roles: Vec<String>,
    host: String,
    account: Option<String>,
    conn_type: String,
    source: String,
    features: Vec<String>,
    severity: i64,
    score: f64,
}

impl Alert {
    fn new() -> Self {
        Alert {
            user: "alice".into(),
            groups: vec!["Domain-Admins".into(), "engineering".into()],
            roles: vec!["dba".into(), "Operator".into()],
            host: "db-01.corp".into(),
            account: Some("root".into()),
            conn_type: "SSH".into(),
            source: "10.1.2.3".into(),
            features: vec!["time_of_use".into(), "volume".into()],
            severity: 3,
            score: 0.75,
        }
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            user: &self.user,
            groups: &self.groups,
            roles: &self.roles,
            host: &self.host,
            account: self.account.as_deref(),
            conn_type: &self.conn_type,
            source: &self.source,
            features: &self.features,
            severity: self.severity,
            score: self.score,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Alert)) -> Self {
        f(&mut self);
        self
    }
}

fn hits(terms: &[&str], alert: &Alert) -> bool {
    compiled(terms).matches(&alert.subject(), &NoLists)
}

fn assert_hit(term: &str, alert: &Alert) {
    assert!(hits(&[term], alert), "{term:?} should match");
}

fn assert_miss(term: &str, alert: &Alert) {
    assert!(!hits(&[term], alert), "{term:?} should not match");
}

/// Named lists over a HashMap; a name missing from the map is an unknown list.
struct Lists(HashMap<String, HashSet<String>>);

impl Lists {
    fn new(lists: &[(&str, &[&str])]) -> Self {
        Lists(
            lists
                .iter()
                .map(|(name, values)| {
                    (
                        name.to_string(),
                        values.iter().map(|v| v.to_string()).collect(),
                    )
                })
                .collect(),
        )
    }
}

impl ListLookup for Lists {
    fn list_contains(&self, list: &str, value: &str) -> Option<bool> {
        self.0.get(list).map(|values| values.contains(value))
    }
}

fn compile_error(filter: &Filter) -> FilterError {
    match compile(filter) {
        Ok(_) => panic!("{filter:?} should not compile"),
        Err(e) => e,
    }
}

// --- keys ---------------------------------------------------------------------------------

#[test]
fn user_exact_and_case_insensitive() {
    let a = Alert::new();
    assert_hit("user:alice", &a);
    assert_hit("user:ALICE", &a);
    assert_miss("user:bob", &a);
    assert_miss("user:alic", &a);
}

#[test]
fn user_globs() {
    let a = Alert::new().with(|a| a.user = "svc-backup".into());
    assert_hit("user:svc-*", &a);
    assert_hit("user:SVC-*", &a);
    assert_hit("user:svc-back??", &a);
    assert_hit("user:{svc,app}-backup", &a);
    assert_hit("user:svc-[a-c]ackup", &a);
    assert_miss("user:svc-?", &a);
    assert_miss("user:app-*", &a);
    assert_miss("user:svc-[!b]*", &a);
}

#[test]
fn glob_star_crosses_slashes_and_backslash_is_literal() {
    let a = Alert::new().with(|a| a.user = r"CORP\alice".into());
    assert_hit(r"user:CORP\alice", &a);
    assert_hit(r"user:corp\*", &a);
    assert_miss("user:corp*bob", &a);
    let b = Alert::new().with(|a| a.host = "web/01".into());
    assert_hit("host:web*", &b);
    let star = Alert::new().with(|a| a.user = "weird*name".into());
    assert_hit("user:weird[*]name", &star);
    assert_miss("user:weird[*]name", &Alert::new());
}

#[test]
fn group_any_of_the_users_groups() {
    let a = Alert::new();
    assert_hit("group:domain-admins", &a);
    assert_hit("group:ENGINEERING", &a);
    assert_hit("group:eng*", &a);
    assert_miss("group:finance", &a);
    let none = Alert::new().with(|a| a.groups.clear());
    assert_miss("group:*", &none);
}

#[test]
fn role_any_of_the_roles() {
    let a = Alert::new();
    assert_hit("role:dba", &a);
    assert_hit("role:operator", &a);
    assert_hit("role:op*", &a);
    assert_miss("role:auditor", &a);
}

#[test]
fn host_glob() {
    let a = Alert::new();
    assert_hit("host:db-*", &a);
    assert_hit("host:DB-01.CORP", &a);
    assert_hit("host:*.corp", &a);
    assert_miss("host:db-*.example", &a);
    assert_miss("host:web-*", &a);
    assert_miss("host:db-01", &a);
}

#[test]
fn account_glob_and_absent_account() {
    let a = Alert::new();
    assert_hit("account:root", &a);
    assert_hit("account:RO*", &a);
    assert_miss("account:admin", &a);
    let none = Alert::new().with(|a| a.account = None);
    assert_miss("account:*", &none);
    assert_hit("!account:root", &none);
}

#[test]
fn type_exact_case_insensitive() {
    let a = Alert::new();
    assert_hit("type:SSH", &a);
    assert_hit("type:ssh", &a);
    assert_miss("type:RDP", &a);
    // No globs for types.
    assert_miss("type:S*", &a);
}

#[test]
fn source_ipv4_network_and_address() {
    let a = Alert::new();
    assert_hit("source:10.0.0.0/8", &a);
    assert_hit("source:10.1.2.0/24", &a);
    assert_hit("source:10.1.2.3", &a);
    assert_hit("source:10.1.2.3/32", &a);
    assert_hit("source:0.0.0.0/0", &a);
    assert_miss("source:192.168.0.0/16", &a);
    assert_miss("source:10.1.2.4", &a);
    assert_miss("source:2001:db8::/32", &a);
    // Host bits in the network are ignored.
    assert_hit("source:10.9.9.9/8", &a);
}

#[test]
fn source_ipv6_network_and_address() {
    let a = Alert::new().with(|a| a.source = "2001:db8:1::42".into());
    assert_hit("source:2001:db8::/32", &a);
    assert_hit("source:2001:DB8:1::42", &a);
    assert_hit("source:2001:db8:1::42/128", &a);
    assert_miss("source:2001:db9::/32", &a);
    assert_miss("source:2001:db8:1::43", &a);
    assert_miss("source:10.0.0.0/8", &a);
}

#[test]
fn source_ipv4_mapped_ipv6_counts_as_ipv4() {
    let a = Alert::new().with(|a| a.source = "::ffff:10.1.2.3".into());
    assert_hit("source:10.0.0.0/8", &a);
    assert_hit("source:10.1.2.3", &a);
}

#[test]
fn source_not_an_ip_never_matches() {
    for stored in ["", "unknown", "10.1.2.3:5555", "client.corp"] {
        let a = Alert::new().with(|a| a.source = stored.into());
        assert_miss("source:0.0.0.0/0", &a);
        assert_miss("source:::/0", &a);
        // Undecidable, so the negation does not match either.
        assert_miss("!source:10.0.0.0/8", &a);
    }
    let padded = Alert::new().with(|a| a.source = " 10.1.2.3 ".into());
    assert_hit("source:10.1.2.3", &padded);
}

#[test]
fn feature_names() {
    let a = Alert::new();
    assert_hit("feature:time_of_use", &a);
    assert_hit("feature:VOLUME", &a);
    assert_miss("feature:source", &a);
    assert_miss("feature:access_pattern", &a);
}

#[test]
fn severity_operators() {
    let a = Alert::new(); // severity 3
    for term in [
        "severity:3",
        "severity:=3",
        "severity:==3",
        "severity:>=3",
        "severity:<=3",
        "severity:>2",
        "severity:<4",
        "severity:>=1",
        "severity: >= 3",
    ] {
        assert_hit(term, &a);
    }
    for term in [
        "severity:4",
        "severity:>3",
        "severity:<3",
        "severity:>=4",
        "severity:<=2",
        "severity:5",
    ] {
        assert_miss(term, &a);
    }
}

#[test]
fn score_operators() {
    let a = Alert::new(); // score 0.75
    for term in [
        "score:0.75",
        "score:>=0.75",
        "score:<=0.75",
        "score:>0.5",
        "score:<0.8",
        "score:>=0",
        "score:<=1",
        "score:.75",
    ] {
        assert_hit(term, &a);
    }
    for term in [
        "score:0.7",
        "score:>0.75",
        "score:<0.75",
        "score:>=0.9",
        "score:<.5",
    ] {
        assert_miss(term, &a);
    }
}

#[test]
fn list_lookups_user_host_or_source() {
    let lists = Lists::new(&[
        ("vips", &["alice", "carol"]),
        ("crown-jewels", &["db-01.corp"]),
        ("vpn-exits", &["10.1.2.3"]),
        ("empty", &[]),
    ]);
    let a = Alert::new();
    let check = |term: &str, alert: &Alert| compiled(&[term]).matches(&alert.subject(), &lists);
    assert!(check("list:vips", &a));
    assert!(check("list:crown-jewels", &a));
    assert!(check("list:vpn-exits", &a));
    assert!(!check("list:empty", &a));
    assert!(check("!list:empty", &a));
    let bob = Alert::new().with(|a| {
        a.user = "bob".into();
        a.host = "web-01".into();
        a.source = "192.0.2.1".into();
    });
    assert!(!check("list:vips", &bob));
    assert!(!check("list:crown-jewels", &bob));
    assert!(!check("list:vpn-exits", &bob));
    assert!(check("!list:vips", &bob));
}

#[test]
fn unknown_list_never_matches() {
    let lists = Lists::new(&[("vips", &["alice"])]);
    let a = Alert::new();
    assert!(!compiled(&["list:nope"]).matches(&a.subject(), &lists));
    assert!(!compiled(&["!list:nope"]).matches(&a.subject(), &lists));
    assert!(!compiled(&["list:vips"]).matches(&a.subject(), &NoLists));
    assert!(!compiled(&["!list:vips"]).matches(&a.subject(), &NoLists));
}

#[test]
fn list_names_each_once_in_order() {
    let filter = Filter {
        include_any: vec![
            clause(&["list:a", "user:x"]),
            clause(&["!list:b", "list:a"]),
        ],
        exclude_any: vec![clause(&["list:c"])],
    };
    let f = compile(&filter).unwrap();
    assert_eq!(f.list_names(), vec!["a", "b", "c"]);
    assert!(compiled(&["user:x"]).list_names().is_empty());
}

// --- negation, whitespace, case ------------------------------------------------------------

#[test]
fn negation() {
    let a = Alert::new();
    assert_miss("!type:SSH", &a);
    assert_hit("!type:RDP", &a);
    assert_hit("! type:RDP", &a);
    assert_miss("!user:ali*", &a);
    assert_hit("!group:finance", &a);
    assert_miss("!source:10.0.0.0/8", &a);
    assert_hit("!severity:>=4", &a);
    assert_hit("!feature:source", &a);
}

#[test]
fn keys_case_insensitive_and_whitespace_trimmed() {
    let a = Alert::new();
    for term in [
        "USER:alice",
        "User:Alice",
        "  user:alice  ",
        "user : alice",
        "HOST:db-*",
        "Source:10.0.0.0/8",
        "TYPE:ssh",
        "Severity:3",
        "SCORE:>0.5",
        "Feature:Time_Of_Use",
        "\tRole:DBA\n",
    ] {
        assert_hit(term, &a);
    }
}

// --- filter semantics ---------------------------------------------------------------------

#[test]
fn empty_filter_matches_all() {
    let f = compile(&Filter::default()).unwrap();
    assert!(f.is_match_all());
    assert!(f.matches(&Alert::new().subject(), &NoLists));
    assert!(f.matches(&Subject::default(), &NoLists));
    assert!(CompiledFilter::default().matches(&Subject::default(), &NoLists));
    assert!(CompiledFilter::default().is_match_all());
}

#[test]
fn empty_clause_matches_all() {
    let f = compile(&include(&[])).unwrap();
    assert!(f.is_match_all());
    assert!(f.matches(&Subject::default(), &NoLists));
    // An empty include clause next to a narrow one still lets everything in.
    let f = compile(&Filter {
        include_any: vec![clause(&["user:nobody"]), clause(&[])],
        exclude_any: vec![],
    })
    .unwrap();
    assert!(f.is_match_all());
    assert!(f.matches(&Alert::new().subject(), &NoLists));
    // An empty exclude clause shuts everything out.
    let f = compile(&Filter {
        include_any: vec![],
        exclude_any: vec![clause(&[])],
    })
    .unwrap();
    assert!(!f.is_match_all());
    assert!(!f.matches(&Alert::new().subject(), &NoLists));
}

#[test]
fn clause_needs_all_terms() {
    let a = Alert::new();
    assert!(hits(&["user:alice", "type:SSH", "host:db-*"], &a));
    assert!(!hits(&["user:alice", "type:RDP", "host:db-*"], &a));
    assert!(!compiled(&["user:alice"]).is_match_all());
}

#[test]
fn include_any_clause() {
    let f = compile(&Filter {
        include_any: vec![clause(&["type:RDP"]), clause(&["severity:>=3"])],
        exclude_any: vec![],
    })
    .unwrap();
    assert!(f.matches(&Alert::new().subject(), &NoLists));
    let low = Alert::new().with(|a| a.severity = 1);
    assert!(!f.matches(&low.subject(), &NoLists));
    let rdp = low.with(|a| a.conn_type = "RDP".into());
    assert!(f.matches(&rdp.subject(), &NoLists));
}

#[test]
fn exclude_wins() {
    let f = compile(&Filter {
        include_any: vec![clause(&["type:SSH"])],
        exclude_any: vec![
            clause(&["user:svc-*"]),
            clause(&["host:test-*", "severity:<3"]),
        ],
    })
    .unwrap();
    let a = Alert::new();
    assert!(f.matches(&a.subject(), &NoLists));
    let svc = a.clone().with(|a| a.user = "svc-backup".into());
    assert!(!f.matches(&svc.subject(), &NoLists));
    // The second exclude clause needs both of its terms.
    let test_host = a.clone().with(|a| a.host = "test-7".into());
    assert!(f.matches(&test_host.subject(), &NoLists));
    let test_low = test_host.with(|a| a.severity = 2);
    assert!(!f.matches(&test_low.subject(), &NoLists));
    // Only exclusions: everything else matches.
    let f = compile(&Filter {
        include_any: vec![],
        exclude_any: vec![clause(&["user:svc-*"])],
    })
    .unwrap();
    assert!(!f.is_match_all());
    assert!(f.matches(&a.subject(), &NoLists));
    assert!(!f.matches(&svc.subject(), &NoLists));
}

#[test]
fn filter_json_round_trip() {
    let json = r#"{"include_any":[{"all":["type:SSH","host:db-*"]}],"exclude_any":[{"all":["user:svc-*"]}]}"#;
    let filter: Filter = serde_json::from_str(json).unwrap();
    assert_eq!(filter.include_any[0].all, vec!["type:SSH", "host:db-*"]);
    assert_eq!(serde_json::to_string(&filter).unwrap(), json);
    // Missing lists (protobuf JSON omits empty repeated fields) default to empty.
    let empty: Filter = serde_json::from_str(r#"{"include_any":[{}]}"#).unwrap();
    assert_eq!(empty.include_any, vec![FilterClause::default()]);
    assert!(empty.exclude_any.is_empty());
    assert!(compile(&empty).unwrap().is_match_all());
}

// --- TERM_KEYS ------------------------------------------------------------------------------

#[test]
fn every_key_has_an_example_that_compiles() {
    let mut seen = HashSet::new();
    for k in TERM_KEYS {
        assert!(seen.insert(k.key), "duplicate key {}", k.key);
        assert!(!k.description.is_empty(), "{} has no description", k.key);
        let (key, _) = k.example.split_once(':').unwrap();
        assert_eq!(key, k.key, "example {:?} uses another key", k.example);
        compile(&include(&[k.example]))
            .unwrap_or_else(|e| panic!("example {:?} does not compile: {e}", k.example));
        compile(&include(&[&format!("!{}", k.example)])).unwrap();
    }
    for key in [
        "user", "group", "role", "host", "account", "type", "source", "feature", "severity",
        "score", "list",
    ] {
        assert!(seen.contains(key), "{key} missing from TERM_KEYS");
    }
}

// --- parse errors ---------------------------------------------------------------------------

/// Compiles a filter whose include clause 1, term 2 is `bad` and returns the error message.
fn error_at_include_1_2(bad: &str) -> (FilterError, String) {
    let filter = Filter {
        include_any: vec![
            clause(&["type:SSH"]),
            clause(&["user:alice", "host:db-*", bad]),
        ],
        exclude_any: vec![],
    };
    let e = compile_error(&filter);
    assert_eq!(e.list, ClauseList::IncludeAny);
    assert_eq!((e.clause, e.term), (1, 2));
    assert_eq!(e.text, bad);
    let msg = e.to_string();
    let prefix = format!("include_any[1].all[2] {bad:?}: ");
    assert!(
        msg.starts_with(&prefix),
        "{msg:?} should start with {prefix:?}"
    );
    (e, msg)
}

#[test]
fn error_message_shape() {
    let filter = Filter {
        include_any: vec![clause(&["type:SSH", "source:10.0.0/8"])],
        exclude_any: vec![],
    };
    assert_eq!(
        compile_error(&filter).to_string(),
        r#"include_any[0].all[1] "source:10.0.0/8": not an IP address or network (e.g. 10.0.0.0/8)"#
    );
}

#[test]
fn error_in_exclude_any_names_it() {
    let filter = Filter {
        include_any: vec![clause(&["type:SSH"])],
        exclude_any: vec![clause(&[]), clause(&["bogus:1"])],
    };
    let e = compile_error(&filter);
    assert_eq!(e.list, ClauseList::ExcludeAny);
    assert_eq!((e.clause, e.term), (1, 0));
    assert!(
        e.to_string()
            .starts_with(r#"exclude_any[1].all[0] "bogus:1": "#),
        "{e}"
    );
}

#[test]
fn error_unknown_key_lists_known_keys() {
    let (e, msg) = error_at_include_1_2("usr:alice");
    assert_eq!(e.kind, FilterErrorKind::UnknownKey { key: "usr".into() });
    assert!(msg.contains(r#"unknown key "usr""#), "{msg}");
    for k in TERM_KEYS {
        assert!(msg.contains(k.key), "{msg} should list {}", k.key);
    }
    // A double negation is not a key either.
    let (e, _) = error_at_include_1_2("!!type:SSH");
    assert!(matches!(e.kind, FilterErrorKind::UnknownKey { .. }));
}

#[test]
fn error_missing_colon() {
    let (e, msg) = error_at_include_1_2("alice");
    assert_eq!(e.kind, FilterErrorKind::MissingColon);
    assert!(msg.contains("missing ':'"), "{msg}");
    let (e, _) = error_at_include_1_2("!severity>=4");
    assert_eq!(e.kind, FilterErrorKind::MissingColon);
}

#[test]
fn error_empty_term() {
    for bad in ["", "   ", "!", " ! "] {
        let (e, msg) = error_at_include_1_2(bad);
        assert_eq!(e.kind, FilterErrorKind::EmptyTerm);
        assert!(msg.contains("empty term"), "{msg}");
    }
}

#[test]
fn error_empty_value() {
    let (e, msg) = error_at_include_1_2("HOST:  ");
    assert!(
        matches!(e.kind, FilterErrorKind::EmptyValue { key: "host", .. }),
        "{e:?}"
    );
    assert!(msg.contains(r#"empty value after "host:""#), "{msg}");
    assert!(msg.contains("host:db-*"), "{msg} should show the example");
    for bad in ["user:", "source:", "severity:", "list:", "!type:"] {
        let (e, _) = error_at_include_1_2(bad);
        assert!(
            matches!(e.kind, FilterErrorKind::EmptyValue { .. }),
            "{bad}"
        );
    }
}

#[test]
fn error_bad_address() {
    for bad in [
        "source:10.0.0/8",
        "source:10.0.0.0/33",
        "source:2001:db8::/129",
        "source:300.1.2.3",
        "source:corp-net",
        "source:10.1.2.3:22",
    ] {
        let (e, msg) = error_at_include_1_2(bad);
        assert_eq!(e.kind, FilterErrorKind::BadAddress, "{bad}");
        assert!(
            msg.ends_with("not an IP address or network (e.g. 10.0.0.0/8)"),
            "{msg}"
        );
    }
}

#[test]
fn error_bad_number() {
    for bad in [
        "severity:high",
        "severity:0",
        "severity:6",
        "severity:>=2.5",
        "severity:>=",
    ] {
        let (e, msg) = error_at_include_1_2(bad);
        assert!(
            matches!(e.kind, FilterErrorKind::BadNumber { .. }),
            "{bad}: {e:?}"
        );
        assert!(msg.contains("is not an integer from 1 to 5"), "{msg}");
    }
    for bad in [
        "score:high",
        "score:1.5",
        "score:<-0.1",
        "score:NaN",
        "score:>=inf",
    ] {
        let (e, msg) = error_at_include_1_2(bad);
        assert!(
            matches!(e.kind, FilterErrorKind::BadNumber { .. }),
            "{bad}: {e:?}"
        );
        assert!(msg.contains("is not a number from 0 to 1"), "{msg}");
    }
    let (_, msg) = error_at_include_1_2("severity:>=9");
    assert!(msg.contains(r#""9" is not"#), "{msg}");
}

#[test]
fn error_bad_comparison() {
    for (bad, op) in [
        ("severity:=>4", "=>"),
        ("severity:!=4", "!="),
        ("score:>>0.5", ">>"),
        ("score:<>0.5", "<>"),
        ("severity:===3", "==="),
    ] {
        let (e, msg) = error_at_include_1_2(bad);
        assert_eq!(
            e.kind,
            FilterErrorKind::BadComparison { op: op.into() },
            "{bad}"
        );
        assert!(msg.contains(&format!("bad comparison {op:?}")), "{msg}");
    }
}

#[test]
fn error_bad_glob() {
    for bad in ["host:db-[", "user:svc-{a,b", "role:a}", "group:[z-a]"] {
        let (e, msg) = error_at_include_1_2(bad);
        assert!(
            matches!(e.kind, FilterErrorKind::BadGlob { .. }),
            "{bad}: {e:?}"
        );
        assert!(msg.contains("bad glob: "), "{msg}");
    }
    let (_, msg) = error_at_include_1_2("host:db-[");
    assert!(msg.contains("unclosed character class"), "{msg}");
}

#[test]
fn error_unknown_feature_lists_known_ones() {
    let (e, msg) = error_at_include_1_2("feature:speed");
    assert_eq!(
        e.kind,
        FilterErrorKind::UnknownFeature {
            name: "speed".into()
        }
    );
    assert!(
        msg.ends_with(
            r#"unknown feature "speed" (known features: time_of_use, source, access_pattern, volume)"#
        ),
        "{msg}"
    );
}

#[test]
fn first_bad_term_is_reported() {
    let filter = Filter {
        include_any: vec![clause(&["user:ok", "nope", "source:x"])],
        exclude_any: vec![clause(&["also:bad"])],
    };
    let e = compile_error(&filter);
    assert_eq!((e.list, e.clause, e.term), (ClauseList::IncludeAny, 0, 1));
}
