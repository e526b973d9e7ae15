//! The fictional organisation behind the demo data: sites, hosts, people in roles with their own
//! habits, and service accounts.
//!
//! Everything is derived from the seed. The organisation is built once per run and then only
//! read; per-day variation (absence, busy days, on-call weeks) comes from hashes of
//! `(user, day)`, so it does not depend on the order in which days are generated.

use std::net::Ipv4Addr;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::sampling::{cumulative, exp, gauss, gauss_from_hash, hash2, hash3, unit, week, weekday};

/// Sub-stream of the seed used to build the organisation.
const STREAM_ORG: u64 = 1;

// ---------------------------------------------------------------------------------------------
// Protocols, authentication methods, client user agents, termination reasons
// ---------------------------------------------------------------------------------------------

/// Protocol of a connection (rendered into `Connection::conn_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Ssh,
    Rdp,
    Vnc,
    Db,
    Web,
}

impl Proto {
    /// The name used in the `type` column.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Proto::Ssh => "SSH",
            Proto::Rdp => "RDP",
            Proto::Vnc => "VNC",
            Proto::Db => "DB",
            Proto::Web => "WEB",
        }
    }

    /// Median session length in seconds and the log-normal sigma of a typical user.
    pub(crate) fn duration_model(self) -> (f64, f64) {
        match self {
            Proto::Ssh => (420.0, 1.1),
            Proto::Rdp => (2100.0, 0.9),
            Proto::Vnc => (480.0, 0.8),
            Proto::Db => (300.0, 1.0),
            Proto::Web => (600.0, 0.9),
        }
    }

    /// Typical bytes per second `(out: target -> client, in: client -> target)`.
    ///
    /// Graphical protocols push screen updates to the client; SSH is mostly keystrokes.
    pub(crate) fn byte_rates(self) -> (f64, f64) {
        match self {
            Proto::Ssh => (350.0, 60.0),
            Proto::Rdp => (22_000.0, 2_500.0),
            Proto::Vnc => (28_000.0, 1_500.0),
            Proto::Db => (6_000.0, 500.0),
            Proto::Web => (9_000.0, 1_200.0),
        }
    }

    /// Index into per-protocol arrays (`User::auth`, `User::agent`).
    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

/// Authentication methods, indexed by the `auth` byte of an event.
pub(crate) const AUTH_NAMES: [&str; 4] = ["password", "publickey", "certificate", "kerberos"];
pub(crate) const AUTH_PASSWORD: u8 = 0;
pub(crate) const AUTH_PUBLICKEY: u8 = 1;
pub(crate) const AUTH_CERTIFICATE: u8 = 2;
pub(crate) const AUTH_KERBEROS: u8 = 3;

/// What kind of client a user agent string belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgentKind {
    /// A native client of one protocol (mode `NATIVE`).
    Native(Proto),
    /// A web browser using the gateway's web UI (mode `UI`).
    Browser,
    /// A tool run by a service account.
    Automation,
    /// Tools seen in attacks only; never used by normal traffic.
    Attack(Proto),
}

/// Client user agents; events store an index into this table.
pub(crate) const AGENTS: &[(&str, AgentKind)] = &[
    ("OpenSSH_9.6p1", AgentKind::Native(Proto::Ssh)),
    ("OpenSSH_9.2p1 Debian-2+deb12u3", AgentKind::Native(Proto::Ssh)),
    ("OpenSSH_for_Windows_9.5", AgentKind::Native(Proto::Ssh)),
    ("PuTTY_Release_0.81", AgentKind::Native(Proto::Ssh)),
    ("SecureCRT_9.5.2", AgentKind::Native(Proto::Ssh)),
    ("MobaXterm 24.1", AgentKind::Native(Proto::Ssh)),
    ("mstsc 10.0.22631", AgentKind::Native(Proto::Rdp)),
    ("mstsc 10.0.19045", AgentKind::Native(Proto::Rdp)),
    ("Microsoft Remote Desktop 10.9.10 (macOS)", AgentKind::Native(Proto::Rdp)),
    ("Remmina 1.4.35", AgentKind::Native(Proto::Rdp)),
    ("TigerVNC Viewer 1.13.1", AgentKind::Native(Proto::Vnc)),
    ("RealVNC Viewer 7.12.0", AgentKind::Native(Proto::Vnc)),
    ("TightVNC Viewer 2.8.81", AgentKind::Native(Proto::Vnc)),
    ("psql 16.3", AgentKind::Native(Proto::Db)),
    ("DBeaver 24.1.2", AgentKind::Native(Proto::Db)),
    ("Oracle SQL Developer 23.1.1", AgentKind::Native(Proto::Db)),
    ("DataGrip 2024.1.4", AgentKind::Native(Proto::Db)),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        AgentKind::Browser,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
        AgentKind::Browser,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
        AgentKind::Browser,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        AgentKind::Browser,
    ),
    ("check_by_ssh (nagios-plugins 2.4.9)", AgentKind::Automation),
    ("restic 0.16.4", AgentKind::Automation),
    ("gitlab-runner 17.1.0", AgentKind::Automation),
    ("ansible-core 2.16.6 (paramiko 3.4.0)", AgentKind::Automation),
    ("PostgreSQL JDBC Driver 42.7.3", AgentKind::Automation),
    ("python-requests/2.32.3", AgentKind::Automation),
    ("SSH-2.0-libssh_0.9.6", AgentKind::Attack(Proto::Ssh)),
    ("SSH-2.0-paramiko_2.7.2", AgentKind::Attack(Proto::Ssh)),
    ("xfreerdp 2.6.1", AgentKind::Attack(Proto::Rdp)),
    ("Go-http-client/1.1", AgentKind::Attack(Proto::Web)),
    ("python-psycopg2 2.8.6", AgentKind::Attack(Proto::Db)),
    ("vncviewer 4.1.1", AgentKind::Attack(Proto::Vnc)),
];

/// Indices of the agents of one kind.
pub(crate) fn agents_of(kind: AgentKind) -> Vec<u16> {
    AGENTS
        .iter()
        .enumerate()
        .filter(|(_, a)| a.1 == kind)
        .map(|(i, _)| i as u16)
        .collect()
}

/// Index of the agent with this exact name (0 if unknown; only used with names from the table).
pub(crate) fn agent_named(name: &str) -> u16 {
    AGENTS.iter().position(|a| a.0 == name).unwrap_or(0) as u16
}

/// Why a connection ended, indexed by the `term` byte of an event.
pub(crate) const TERM_NAMES: [&str; 10] = [
    "user disconnected",
    "idle timeout",
    "session time limit reached",
    "connection closed by target",
    "network error",
    "terminated by administrator",
    "authentication failed",
    "permission denied",
    "host unreachable",
    "account locked",
];
pub(crate) const TERM_USER: u8 = 0;
pub(crate) const TERM_CLOSED_BY_TARGET: u8 = 3;
pub(crate) const TERM_AUTH_FAILED: u8 = 6;
pub(crate) const TERM_PERMISSION_DENIED: u8 = 7;
pub(crate) const TERM_UNREACHABLE: u8 = 8;
pub(crate) const TERM_ACCOUNT_LOCKED: u8 = 9;

/// Weights of the termination reasons of completed normal sessions (first six reasons).
pub(crate) const TERM_NORMAL_WEIGHTS: [f64; 6] = [0.78, 0.09, 0.02, 0.07, 0.03, 0.01];

// ---------------------------------------------------------------------------------------------
// Accounts on target hosts
// ---------------------------------------------------------------------------------------------

/// Shared accounts on targets; a user's own account has index `FIXED_ACCOUNTS.len() + user`.
pub(crate) const FIXED_ACCOUNTS: [&str; 16] = [
    "root",
    "Administrator",
    "postgres",
    "oracle",
    "sa",
    "system",
    "admin",
    "deploy",
    "app_ro",
    "audit",
    "backup",
    "nagios",
    "ansible",
    "etl",
    "report",
    "helpdesk",
];
pub(crate) const ACC_ROOT: u16 = 0;
pub(crate) const ACC_ADMINISTRATOR: u16 = 1;
pub(crate) const ACC_POSTGRES: u16 = 2;
pub(crate) const ACC_ORACLE: u16 = 3;
pub(crate) const ACC_SA: u16 = 4;
pub(crate) const ACC_ADMIN: u16 = 6;
pub(crate) const ACC_DEPLOY: u16 = 7;
pub(crate) const ACC_APP_RO: u16 = 8;
pub(crate) const ACC_AUDIT: u16 = 9;
pub(crate) const ACC_BACKUP: u16 = 10;
pub(crate) const ACC_NAGIOS: u16 = 11;
pub(crate) const ACC_ANSIBLE: u16 = 12;
pub(crate) const ACC_ETL: u16 = 13;
pub(crate) const ACC_REPORT: u16 = 14;
pub(crate) const ACC_HELPDESK: u16 = 15;

/// Superuser-type accounts (root, Administrator, DB owners, network `admin`).
pub(crate) fn is_privileged_account(account: u16) -> bool {
    account <= ACC_ADMIN
}

// ---------------------------------------------------------------------------------------------
// Sites and hosts
// ---------------------------------------------------------------------------------------------

/// Candidate sites (short code used in host names and tags).
const SITES: [&str; 6] = ["fra", "hel", "lon", "ams", "mad", "waw"];

/// What a host is for; decides its protocols and who uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HostKind {
    /// Web front ends (`web-prod-03`).
    Web,
    /// Application and API servers (`app-prod-02`, `api-prod-01`).
    App,
    /// Database servers (`db-fin-01`, `pg-prod-02`, `win-sql-01`).
    Database,
    /// Jump hosts / bastions (`jump-fra-01`).
    Jump,
    /// Windows servers (`win-ad-01`, `win-file-01`, `win-rds-02`).
    Windows,
    /// Build, CI and source-control servers (`build-02`, `ci-runner-04`, `git-01`).
    Build,
    /// Monitoring, logging, SIEM and secrets servers (`siem-01`, `vault-01`).
    Monitoring,
    /// Firewalls and load balancers (`fw-hel-01`, `lb-prod-02`).
    Network,
    /// Employees' desktops, reached by the help desk over VNC (`ws-fra-0142`).
    Workstation,
}

/// Database engine of a database host; decides its superuser account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbEngine {
    Postgres,
    Oracle,
    Mssql,
}

/// One target host.
#[derive(Debug, Clone)]
pub struct Host {
    /// Host name, e.g. `web-prod-03`.
    pub name: String,
    /// Stable IPv4 address of the host.
    pub address: String,
    /// What the host is for.
    pub kind: HostKind,
    /// Site code (`fra`, `hel`, ...).
    pub site: &'static str,
    /// Environment: `prod`, `stg`, `dev` or `corp`.
    pub env: &'static str,
    pub(crate) ip: u32,
    pub(crate) engine: Option<DbEngine>,
    pub(crate) windows: bool,
    pub(crate) tags: Vec<String>,
}

impl Host {
    /// Protocols the host accepts (habits only use these).
    #[cfg(test)]
    pub(crate) fn protos(&self) -> &'static [Proto] {
        match (self.kind, self.windows) {
            (HostKind::Database, true) => &[Proto::Rdp, Proto::Db],
            (HostKind::Database, false) => &[Proto::Ssh, Proto::Db],
            (_, true) | (HostKind::Windows, false) => &[Proto::Rdp],
            (HostKind::Workstation, _) => &[Proto::Vnc],
            (HostKind::Web | HostKind::App | HostKind::Build | HostKind::Monitoring, _) => {
                &[Proto::Ssh, Proto::Web]
            }
            (HostKind::Network, _) => &[Proto::Ssh, Proto::Web],
            (HostKind::Jump, _) => &[Proto::Ssh],
        }
    }

    /// The interactive protocol an intruder would use on this host.
    pub(crate) fn shell_proto(&self) -> Proto {
        match (self.kind, self.windows) {
            (_, true) => Proto::Rdp,
            (HostKind::Workstation, _) => Proto::Vnc,
            _ => Proto::Ssh,
        }
    }

    /// The superuser account of the host's shell (root, Administrator, admin).
    pub(crate) fn superuser(&self) -> u16 {
        match (self.kind, self.windows) {
            (_, true) => ACC_ADMINISTRATOR,
            (HostKind::Network, _) => ACC_ADMIN,
            _ => ACC_ROOT,
        }
    }

    /// The database owner account, for database hosts.
    pub(crate) fn db_owner(&self) -> Option<u16> {
        self.engine.map(|e| match e {
            DbEngine::Postgres => ACC_POSTGRES,
            DbEngine::Oracle => ACC_ORACLE,
            DbEngine::Mssql => ACC_SA,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/// Job role of an account; drives hosts, protocols, accounts and hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Linux/Unix administrators (SSH, often root; some on call).
    Sysadmin,
    /// Windows administrators (RDP, sometimes Administrator).
    WindowsAdmin,
    /// Software developers (build servers, staging hosts, read-only databases).
    Developer,
    /// Database administrators (DB protocol with engine owner accounts).
    Dba,
    /// Help desk (RDP to terminal servers, VNC to desktops; some on night shift).
    Support,
    /// External contractors (few hosts, VPN only, sometimes offshore hours).
    Contractor,
    /// Security team (SIEM, log servers, read-only audit accounts).
    Security,
    /// Non-human service accounts (backups, monitoring, deployment, ...).
    Service,
}

impl Role {
    /// The role name written to `user_roles`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Sysadmin => "sysadmin",
            Role::WindowsAdmin => "windows-admin",
            Role::Developer => "developer",
            Role::Dba => "dba",
            Role::Support => "support",
            Role::Contractor => "contractor",
            Role::Security => "security",
            Role::Service => "service",
        }
    }

    /// Human roles with their share of the staff and relative activity.
    const HUMAN_MIX: [(Role, f64, f64); 7] = [
        (Role::Developer, 0.34, 1.0),
        (Role::Support, 0.18, 1.4),
        (Role::Sysadmin, 0.14, 1.5),
        (Role::Contractor, 0.10, 0.7),
        (Role::WindowsAdmin, 0.08, 1.3),
        (Role::Dba, 0.08, 1.2),
        (Role::Security, 0.08, 0.8),
    ];
}

/// Where a user connects from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// Their desktop in an office subnet.
    Office,
    /// Their static lease in the VPN pool.
    Vpn,
    /// Their home internet connection.
    Home,
    /// The contractor company's NAT address.
    Company,
    /// A server a service account runs on.
    Fixed,
}

/// One usual source address of a user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    pub(crate) ip: u32,
    pub(crate) kind: SourceKind,
}

/// One usual (host, protocol, account) combination of a user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Habit {
    pub(crate) host: u16,
    pub(crate) proto: Proto,
    pub(crate) account: u16,
    pub(crate) auth: u8,
    pub(crate) agent: u16,
}

/// Session model of a service account.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServiceProfile {
    /// Period of its schedule; connections start on this grid (plus a second or two of jitter).
    pub(crate) cadence_ms: i64,
    pub(crate) dur_median_s: f64,
    pub(crate) dur_sigma: f64,
    pub(crate) out_rate: f64,
    pub(crate) in_rate: f64,
}

/// One account of the organisation: a person or a service account.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name (`anna.virtanen`, `ext-raj.patel`, `svc-backup`).
    pub name: String,
    /// Main role.
    pub role: Role,
    /// Roles as written to `user_roles` (the role, plus `oncall` for on-call staff).
    pub roles: Vec<String>,
    /// Home site code.
    pub site: &'static str,
    /// Start of the working day, hours UTC (fractional).
    pub work_start_hour: f32,
    /// End of the working day, hours UTC; smaller than the start for night shifts.
    pub work_end_hour: f32,
    /// Works nights (the shift crosses midnight).
    pub night_shift: bool,
    /// Takes part in an on-call rotation (weekend and night work in their on-call week).
    pub on_call: bool,
    pub(crate) key: u64,
    pub(crate) oncall_rota: Option<(i64, i64)>,
    pub(crate) profile: [f32; 24],
    pub(crate) workdays: i64,
    pub(crate) weekend: f64,
    pub(crate) absent_p: f64,
    pub(crate) rate: f64,
    pub(crate) sources: Vec<Source>,
    pub(crate) src_cum_in: Vec<f64>,
    pub(crate) src_cum_off: Vec<f64>,
    pub(crate) habits: Vec<Habit>,
    pub(crate) habit_cum: Vec<f64>,
    pub(crate) fail_p: f64,
    pub(crate) dur_offset: f64,
    pub(crate) volume: f64,
    pub(crate) auth: [u8; 5],
    pub(crate) agent: [u16; 5],
    pub(crate) service: Option<ServiceProfile>,
}

impl User {
    /// True for service accounts.
    pub fn is_service(&self) -> bool {
        self.service.is_some()
    }

    /// The source addresses this account normally connects from.
    pub fn usual_sources(&self) -> Vec<String> {
        self.sources
            .iter()
            .map(|s| Ipv4Addr::from(s.ip).to_string())
            .collect()
    }

    /// Relative connection rate of this account during one calendar hour (UTC).
    pub(crate) fn activity(&self, epoch_day: i64, hour: usize) -> f64 {
        let base = f64::from(self.profile[hour % 24]);
        if self.service.is_some() {
            return self.rate * base;
        }
        // A night shift that started yesterday evening belongs to yesterday's working day.
        let shift_day = if self.night_shift && (hour as f32) < self.work_end_hour {
            epoch_day - 1
        } else {
            epoch_day
        };
        let wk = week(shift_day);
        let on_call_now = matches!(self.oncall_rota, Some((slot, of)) if wk.rem_euclid(of) == slot);
        let mut base = base;
        let mut factor = if weekday(shift_day) < self.workdays {
            1.0
        } else if on_call_now {
            0.35
        } else {
            self.weekend
        };
        if on_call_now {
            // Pages at night during the on-call week.
            base = base.max(0.05);
        }
        if unit(hash3(self.key, shift_day as u64, 1)) < self.absent_p {
            factor *= 0.03; // sick day or day off
        }
        if unit(hash3(self.key, wk as u64, 2)) < 0.05 {
            factor *= 0.02; // holiday week
        }
        let busy = exp(0.35 * gauss_from_hash(hash3(self.key, shift_day as u64, 3)));
        self.rate * base * factor * busy
    }

    /// Median bytes sent by targets to this user in one session of `proto` (their baseline).
    pub(crate) fn baseline_bytes_out(&self, proto: Proto) -> f64 {
        let (median, _) = proto.duration_model();
        let (out_rate, _) = proto.byte_rates();
        out_rate * median * exp(self.dur_offset) * self.volume
    }
}

/// Counts of one role, for the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoleCount {
    /// Role name as in `user_roles`.
    pub role: String,
    /// Accounts with that role.
    pub users: u32,
}

/// A short description of a demo organisation (for the UI and CLI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OrganisationSummary {
    /// Number of people.
    pub humans: u32,
    /// Number of service accounts.
    pub service_accounts: u32,
    /// Number of target hosts (including help-desk reachable workstations).
    pub hosts: u32,
    /// Site codes.
    pub sites: Vec<String>,
    /// Accounts per role, in a fixed role order.
    pub roles: Vec<RoleCount>,
}

/// The fictional organisation: sites, hosts and accounts with their habits.
#[derive(Debug, Clone)]
pub struct Organisation {
    sites: Vec<&'static str>,
    hosts: Vec<Host>,
    users: Vec<User>,
    accounts: Vec<String>,
    humans: usize,
}

impl Organisation {
    /// All accounts: people first, then service accounts.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// All target hosts.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Site codes; the first one hosts the main data centre.
    pub fn sites(&self) -> &[&'static str] {
        &self.sites
    }

    /// Number of people.
    pub fn human_count(&self) -> usize {
        self.humans
    }

    /// Number of service accounts.
    pub fn service_account_count(&self) -> usize {
        self.users.len() - self.humans
    }

    /// The hosts a user normally connects to (their habits), without repeats.
    pub fn usual_hosts(&self, user: &User) -> Vec<&str> {
        let mut seen = Vec::new();
        for h in &user.habits {
            let name = self.hosts[usize::from(h.host)].name.as_str();
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        seen
    }

    /// Counts for display.
    pub fn summary(&self) -> OrganisationSummary {
        let order = [
            Role::Sysadmin,
            Role::WindowsAdmin,
            Role::Developer,
            Role::Dba,
            Role::Support,
            Role::Contractor,
            Role::Security,
            Role::Service,
        ];
        OrganisationSummary {
            humans: self.humans as u32,
            service_accounts: self.service_account_count() as u32,
            hosts: self.hosts.len() as u32,
            sites: self.sites.iter().map(|s| (*s).to_owned()).collect(),
            roles: order
                .iter()
                .map(|r| RoleCount {
                    role: r.as_str().to_owned(),
                    users: self.users.iter().filter(|u| u.role == *r).count() as u32,
                })
                .filter(|c| c.users > 0)
                .collect(),
        }
    }

    /// Name of an account index (fixed shared accounts, then one own account per user).
    pub(crate) fn account_name(&self, account: u16) -> &str {
        self.accounts
            .get(usize::from(account))
            .map_or("unknown", String::as_str)
    }

    /// Index of a user's own account on targets.
    pub(crate) fn own_account(user: usize) -> u16 {
        (FIXED_ACCOUNTS.len() + user) as u16
    }

    /// Builds the organisation for one demo run, sized for `connections` over `days`.
    pub(crate) fn build(seed: u64, connections: u64, days: u32) -> Organisation {
        Builder::new(seed, connections, days).build()
    }
}

// ---------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------

const FIRST_NAMES: [&str; 64] = [
    "anna",
    "mikko",
    "laura",
    "jonas",
    "sofia",
    "lukas",
    "emma",
    "matti",
    "olivia",
    "noah",
    "elena",
    "marco",
    "julia",
    "pekka",
    "sara",
    "tomasz",
    "katarzyna",
    "pablo",
    "lucia",
    "david",
    "hanna",
    "oliver",
    "ella",
    "leon",
    "mia",
    "felix",
    "aino",
    "juho",
    "chloe",
    "arthur",
    "isabel",
    "diego",
    "marta",
    "piotr",
    "agnieszka",
    "thomas",
    "sophie",
    "daniel",
    "nina",
    "samuel",
    "ines",
    "jan",
    "eva",
    "ville",
    "liisa",
    "james",
    "amelia",
    "george",
    "charlotte",
    "raj",
    "priya",
    "wei",
    "mei",
    "ahmed",
    "fatima",
    "yusuf",
    "zeynep",
    "kenji",
    "yuki",
    "omar",
    "leila",
    "carlos",
    "ana",
    "erik",
];

const LAST_NAMES: [&str; 64] = [
    "virtanen",
    "korhonen",
    "nieminen",
    "makinen",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "smith",
    "jones",
    "taylor",
    "brown",
    "williams",
    "wilson",
    "garcia",
    "martinez",
    "lopez",
    "sanchez",
    "perez",
    "gomez",
    "nowak",
    "kowalski",
    "wisniewski",
    "wojcik",
    "dejong",
    "jansen",
    "devries",
    "bakker",
    "visser",
    "rossi",
    "russo",
    "ferrari",
    "esposito",
    "bianchi",
    "dubois",
    "martin",
    "bernard",
    "petit",
    "lehtonen",
    "heikkinen",
    "laine",
    "hamalainen",
    "koskinen",
    "patel",
    "sharma",
    "singh",
    "chen",
    "wang",
    "li",
    "kim",
    "tanaka",
    "sato",
    "yilmaz",
    "kaya",
    "hassan",
    "ali",
    "novak",
    "horvat",
    "andersson",
    "nilsson",
];

/// First octets of consumer ISP ranges used for home addresses.
const HOME_OCTETS: [u8; 14] = [62, 77, 78, 84, 85, 88, 91, 93, 94, 95, 109, 178, 213, 217];
/// First octets of the contractor companies' NAT addresses.
const COMPANY_OCTETS: [u8; 3] = [80, 81, 82];
/// First octets attackers come from: disjoint from every normal source range.
pub(crate) const ATTACKER_OCTETS: [u8; 8] = [5, 45, 103, 141, 146, 179, 185, 193];

/// A random public address in one of the given /8 ranges.
pub(crate) fn public_ip<R: Rng + ?Sized>(rng: &mut R, octets: &[u8]) -> u32 {
    let first = octets
        .get(rng.gen_range(0..octets.len().max(1)))
        .copied()
        .unwrap_or(84);
    u32::from_be_bytes([
        first,
        rng.gen_range(1..255),
        rng.gen_range(0..256u16) as u8,
        rng.gen_range(1..255),
    ])
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Host indices grouped by purpose, for picking habits.
#[derive(Default)]
struct Pools {
    web_prod: Vec<u16>,
    app_prod: Vec<u16>,
    web_stg: Vec<u16>,
    app_dev: Vec<u16>,
    db: Vec<u16>,
    jump: Vec<u16>,
    win_ad: Vec<u16>,
    win_file: Vec<u16>,
    win_app: Vec<u16>,
    win_rds: Vec<u16>,
    win_sql: Vec<u16>,
    build: Vec<u16>,
    git: Vec<u16>,
    mon: Vec<u16>,
    siem: Vec<u16>,
    log: Vec<u16>,
    vault: Vec<u16>,
    net: Vec<u16>,
    ws: Vec<u16>,
}

/// Per-person facts decided before hosts exist.
struct Person {
    name: String,
    role: Role,
    site: usize,
    office: bool,
}

struct Builder {
    rng: ChaCha8Rng,
    seed: u64,
    humans: usize,
    sites: Vec<&'static str>,
    dc_sites: usize,
    hosts: Vec<Host>,
    pools: Pools,
    subnet_next: Vec<u16>,
}

impl Builder {
    fn new(seed: u64, connections: u64, days: u32) -> Builder {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(STREAM_ORG);
        // About 14 connections per person and working day, 80% of traffic from people.
        let per_day = connections as f64 / f64::from(days.max(1));
        let target = per_day * 0.8 / 14.0 * rng.gen_range(0.9..1.1);
        let humans = target.round().clamp(40.0, 400.0) as usize;
        let n_sites = 2 + usize::from(humans >= 120) + usize::from(humans >= 260);
        let mut pool = SITES.to_vec();
        pool.shuffle(&mut rng);
        pool.truncate(n_sites);
        let dc_sites = if n_sites >= 3 { 2 } else { 1 };
        Builder {
            rng,
            seed,
            humans,
            sites: pool,
            dc_sites,
            hosts: Vec::new(),
            pools: Pools::default(),
            subnet_next: vec![0; 4 * 32],
        }
    }

    fn build(mut self) -> Organisation {
        let people = self.people();
        self.servers();
        // Every office-based person has a desktop the help desk can reach over VNC.
        let mut ws_numbers: Vec<u16> = Vec::new();
        let mut office_ips = vec![None; people.len()];
        for (i, p) in people.iter().enumerate() {
            if !p.office {
                continue;
            }
            // Desktops sit in one of a few floor subnets of their site's office network.
            let floor = self.rng.gen_range(0..4u8);
            let office_ip = ip(
                10,
                20 + p.site as u8,
                10 + 4 * floor + (i / 200) as u8,
                20 + (i % 200) as u8,
            );
            office_ips[i] = Some(office_ip);
            let mut number = self.rng.gen_range(100..2000u16);
            while ws_numbers.contains(&number) {
                number = self.rng.gen_range(100..2000u16);
            }
            ws_numbers.push(number);
            let name = format!("ws-{}-{number:04}", self.sites[p.site]);
            let idx = self.push_host(
                name,
                HostKind::Workstation,
                p.site,
                "corp",
                office_ip,
                None,
                false,
            );
            self.pools.ws.push(idx);
        }

        let mut users = Vec::with_capacity(people.len() + 6);
        let mut rota_counts = [0i64; 3];
        let mut rota_slots = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let mut user = self.person(i, p, office_ips[i]);
            let rota = match p.role {
                Role::Sysadmin => Some(0),
                Role::WindowsAdmin => Some(1),
                Role::Dba => Some(2),
                _ => None,
            };
            let share = match p.role {
                Role::Sysadmin => 0.4,
                _ => 0.35,
            };
            if let Some(r) = rota {
                if self.rng.gen_bool(share) {
                    user.on_call = true;
                    rota_slots.push((i, r, rota_counts[r]));
                    rota_counts[r] += 1;
                }
            }
            users.push(user);
        }
        for (i, r, slot) in rota_slots {
            users[i].oncall_rota = Some((slot, rota_counts[r].max(2)));
            users[i].roles.push("oncall".to_owned());
        }

        self.services(&mut users);

        let mut accounts: Vec<String> = FIXED_ACCOUNTS.iter().map(|s| (*s).to_owned()).collect();
        accounts.extend(users.iter().map(|u| u.name.clone()));
        Organisation {
            sites: self.sites,
            hosts: self.hosts,
            users,
            accounts,
            humans: people.len(),
        }
    }

    /// Names, roles and sites of the people.
    fn people(&mut self) -> Vec<Person> {
        let shares: Vec<f64> = Role::HUMAN_MIX.iter().map(|m| m.1).collect();
        // Two of each role at least, the rest by share.
        let rest = self.humans.saturating_sub(2 * shares.len()) as u64;
        let counts = super::sampling::largest_remainder(rest, &shares);
        let mut people = Vec::with_capacity(self.humans);
        let mut taken: Vec<String> = Vec::new();
        for (m, c) in Role::HUMAN_MIX.iter().zip(counts) {
            for _ in 0..(c as usize + 2) {
                let first = FIRST_NAMES[self.rng.gen_range(0..FIRST_NAMES.len())];
                let last = LAST_NAMES[self.rng.gen_range(0..LAST_NAMES.len())];
                let base = if m.0 == Role::Contractor {
                    format!("ext-{first}.{last}")
                } else {
                    format!("{first}.{last}")
                };
                let mut name = base.clone();
                let mut n = 2;
                while taken.contains(&name) {
                    name = format!("{base}{n}");
                    n += 1;
                }
                taken.push(name.clone());
                let site = if m.0 == Role::Contractor || self.rng.gen_bool(0.5) {
                    self.rng.gen_range(0..self.sites.len())
                } else {
                    0
                };
                let office = m.0 != Role::Contractor && self.rng.gen_bool(0.85);
                people.push(Person {
                    name,
                    role: m.0,
                    site,
                    office,
                });
            }
        }
        people
    }

    /// Next free address in the data-centre subnet `10.(10+site).group.0/24`.
    fn dc_ip(&mut self, site: usize, group: u8) -> u32 {
        let key = (site % 4) * 32 + usize::from(group % 32);
        let n = self.subnet_next[key];
        self.subnet_next[key] += 1;
        // 240 hosts per subnet; the sizes used never get near that, but stay unique if they did.
        ip(
            10,
            10 + site as u8,
            group + (n / 240) as u8 * 32,
            10 + (n % 240) as u8,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn push_host(
        &mut self,
        name: String,
        kind: HostKind,
        site: usize,
        env: &'static str,
        address: u32,
        engine: Option<DbEngine>,
        windows: bool,
    ) -> u16 {
        let site_code = self.sites[site];
        self.hosts.push(Host {
            address: Ipv4Addr::from(address).to_string(),
            name,
            kind,
            site: site_code,
            env,
            ip: address,
            engine,
            windows,
            tags: vec![format!("site:{site_code}"), format!("env:{env}")],
        });
        (self.hosts.len() - 1) as u16
    }

    /// A numbered series of servers, e.g. `web-prod-01..07`.
    #[allow(clippy::too_many_arguments)]
    fn series(
        &mut self,
        prefix: &str,
        count: usize,
        kind: HostKind,
        env: &'static str,
        group: u8,
        engine: Option<DbEngine>,
        windows: bool,
    ) -> Vec<u16> {
        (1..=count)
            .map(|n| {
                // Production is spread over the data centres; the rest lives in the first.
                let site = if env == "prod" && self.dc_sites > 1 && n % 3 == 0 {
                    1
                } else {
                    0
                };
                let address = self.dc_ip(site, group);
                self.push_host(
                    format!("{prefix}-{n:02}"),
                    kind,
                    site,
                    env,
                    address,
                    engine,
                    windows,
                )
            })
            .collect()
    }

    /// Data-centre servers and network devices.
    fn servers(&mut self) {
        let s = self.humans as f64 / 100.0;
        let n = |base: f64, per: f64, max: f64| (base + per * s).round().clamp(1.0, max) as usize;
        let web_prod = self.series(
            "web-prod",
            n(3.0, 5.0, 20.0),
            HostKind::Web,
            "prod",
            1,
            None,
            false,
        );
        let mut p = Pools {
            web_prod,
            ..Pools::default()
        };
        p.app_prod = self.series(
            "app-prod",
            n(2.0, 4.0, 16.0),
            HostKind::App,
            "prod",
            2,
            None,
            false,
        );
        let api = self.series(
            "api-prod",
            n(1.0, 2.0, 8.0),
            HostKind::App,
            "prod",
            3,
            None,
            false,
        );
        p.app_prod.extend(api);
        p.web_stg = self.series(
            "web-stg",
            n(1.0, 2.0, 8.0),
            HostKind::Web,
            "stg",
            4,
            None,
            false,
        );
        p.app_dev = self.series(
            "app-dev",
            n(1.0, 2.0, 8.0),
            HostKind::App,
            "dev",
            5,
            None,
            false,
        );

        let mut systems = [
            ("db-fin", DbEngine::Oracle),
            ("db-crm", DbEngine::Postgres),
            ("db-hr", DbEngine::Postgres),
            ("db-erp", DbEngine::Oracle),
            ("db-shop", DbEngine::Postgres),
            ("db-dwh", DbEngine::Oracle),
        ];
        systems.shuffle(&mut self.rng);
        let n_systems = n(3.0, 1.0, 6.0).max(3);
        for (prefix, engine) in systems.iter().take(n_systems) {
            let count = self.rng.gen_range(1..=2);
            let hosts = self.series(
                prefix,
                count,
                HostKind::Database,
                "prod",
                6,
                Some(*engine),
                false,
            );
            p.db.extend(hosts);
        }
        let pg = self.series(
            "pg-prod",
            n(1.0, 2.0, 8.0),
            HostKind::Database,
            "prod",
            6,
            Some(DbEngine::Postgres),
            false,
        );
        p.db.extend(pg);

        for site in 0..self.sites.len() {
            let address = self.dc_ip(site, 7);
            let name = format!("jump-{}-01", self.sites[site]);
            p.jump
                .push(self.push_host(name, HostKind::Jump, site, "prod", address, None, false));
        }

        p.win_ad = self.series("win-ad", 2, HostKind::Windows, "corp", 8, None, true);
        p.win_file = self.series(
            "win-file",
            n(1.0, 0.5, 3.0),
            HostKind::Windows,
            "corp",
            8,
            None,
            true,
        );
        p.win_app = self.series(
            "win-app",
            n(2.0, 3.0, 12.0),
            HostKind::Windows,
            "prod",
            8,
            None,
            true,
        );
        p.win_rds = self.series(
            "win-rds",
            n(1.0, 2.0, 8.0),
            HostKind::Windows,
            "corp",
            8,
            None,
            true,
        );
        p.win_sql = self.series(
            "win-sql",
            n(1.0, 0.5, 3.0),
            HostKind::Database,
            "prod",
            8,
            Some(DbEngine::Mssql),
            true,
        );

        p.build = self.series(
            "build",
            n(1.0, 1.0, 6.0),
            HostKind::Build,
            "dev",
            9,
            None,
            false,
        );
        let ci = self.series(
            "ci-runner",
            n(2.0, 3.0, 12.0),
            HostKind::Build,
            "dev",
            9,
            None,
            false,
        );
        p.build.extend(ci);
        p.git = self.series("git", 1, HostKind::Build, "dev", 9, None, false);
        let artifact = self.series("artifact", 1, HostKind::Build, "dev", 9, None, false);
        p.git.extend(artifact);

        p.mon = self.series("mon", 1, HostKind::Monitoring, "corp", 11, None, false);
        p.siem = self.series("siem", 1, HostKind::Monitoring, "corp", 11, None, false);
        p.log = self.series(
            "log",
            n(1.0, 0.5, 3.0),
            HostKind::Monitoring,
            "corp",
            11,
            None,
            false,
        );
        p.vault = self.series("vault", 1, HostKind::Monitoring, "corp", 11, None, false);

        for site in 0..self.sites.len() {
            let address = self.dc_ip(site, 12);
            let name = format!("fw-{}-01", self.sites[site]);
            p.net
                .push(self.push_host(name, HostKind::Network, site, "corp", address, None, false));
        }
        let lb = self.series("lb-prod", 2, HostKind::Network, "prod", 12, None, false);
        p.net.extend(lb);
        self.pools = p;
    }

    /// One person with hours, sources, habits and volumes.
    fn person(&mut self, index: usize, p: &Person, office_ip: Option<u32>) -> User {
        let rng = &mut self.rng;
        let role = p.role;
        let q = |x: f64| ((x * 4.0).round() / 4.0) as f32;

        // Working hours (UTC).
        let r: f64 = rng.gen();
        let (start, end, night) = match role {
            Role::Support if r < 0.2 => (22.0, 6.0, true),
            Role::Support if r < 0.35 => (14.0, 22.0, false),
            Role::Sysadmin if r < 0.15 => {
                let s = q(rng.gen_range(5.5..7.0));
                (s, s + 8.5, false)
            }
            Role::Contractor if r < 0.5 => {
                let s = q(rng.gen_range(3.0..5.0));
                (s, s + 8.0, false)
            }
            _ => {
                let s = if rng.gen_bool(0.1) {
                    q(rng.gen_range(5.75..7.0)) // early bird
                } else {
                    q((8.0 + 0.7 * gauss(rng)).clamp(6.5, 10.5))
                };
                (s, s + q(rng.gen_range(8.0..9.5)), false)
            }
        };
        let evening = match role {
            Role::Sysadmin | Role::WindowsAdmin => 0.12,
            Role::Developer | Role::Dba => 0.08,
            Role::Contractor => 0.0,
            _ => 0.04,
        };
        let profile = day_profile(start, end, evening);
        let weekend = match role {
            Role::Contractor => 0.0,
            Role::Support if night => 0.45,
            Role::Developer => 0.05,
            _ => 0.03,
        };
        let role_rate = Role::HUMAN_MIX
            .iter()
            .find(|m| m.0 == role)
            .map_or(1.0, |m| m.2);

        // Source addresses.
        let mut sources = Vec::new();
        if let Some(office) = office_ip {
            sources.push(Source {
                ip: office,
                kind: SourceKind::Office,
            });
        }
        if office_ip.is_none() || rng.gen_bool(0.75) {
            sources.push(Source {
                ip: ip(10, 250, (index / 250) as u8, (index % 250) as u8 + 2),
                kind: SourceKind::Vpn,
            });
        }
        if role == Role::Contractor {
            if rng.gen_bool(0.6) {
                sources.push(Source {
                    ip: public_ip(rng, &COMPANY_OCTETS),
                    kind: SourceKind::Company,
                });
            }
        } else if rng.gen_bool(if office_ip.is_some() { 0.3 } else { 0.55 }) {
            sources.push(Source {
                ip: public_ip(rng, &HOME_OCTETS),
                kind: SourceKind::Home,
            });
        }
        let remote = office_ip.is_none();
        let weight = |s: &Source, in_hours: bool| match (s.kind, in_hours) {
            (SourceKind::Office, true) => 0.85,
            (SourceKind::Office, false) => 0.15,
            (SourceKind::Vpn, true) => {
                if remote {
                    0.8
                } else {
                    0.12
                }
            }
            (SourceKind::Vpn, false) => 0.55,
            (SourceKind::Home, true) => {
                if remote {
                    0.2
                } else {
                    0.03
                }
            }
            (SourceKind::Home, false) => 0.3,
            (SourceKind::Company, true) => 0.6,
            (SourceKind::Company, false) => 0.3,
            (SourceKind::Fixed, _) => 1.0,
        };
        let src_cum_in = cumulative(sources.iter().map(|s| weight(s, true)));
        let src_cum_off = cumulative(sources.iter().map(|s| weight(s, false)));

        // Authentication and client per protocol.
        let admin = matches!(role, Role::Sysadmin | Role::WindowsAdmin | Role::Security);
        let ssh_auth = {
            let x: f64 = rng.gen();
            let key_share = if admin || role == Role::Developer {
                0.8
            } else {
                0.5
            };
            if x < key_share {
                AUTH_PUBLICKEY
            } else if x < key_share + 0.1 {
                AUTH_CERTIFICATE
            } else {
                AUTH_PASSWORD
            }
        };
        let rdp_auth = {
            let x: f64 = rng.gen();
            if x < 0.6 {
                AUTH_PASSWORD
            } else if x < 0.9 {
                AUTH_KERBEROS
            } else {
                AUTH_CERTIFICATE
            }
        };
        let db_auth = if rng.gen_bool(0.7) {
            AUTH_PASSWORD
        } else {
            AUTH_CERTIFICATE
        };
        let web_auth = if rng.gen_bool(0.6) {
            AUTH_PASSWORD
        } else {
            AUTH_CERTIFICATE
        };
        let auth = [ssh_auth, rdp_auth, AUTH_PASSWORD, db_auth, web_auth];
        let browsers = agents_of(AgentKind::Browser);
        let browser = *super::sampling::pick(&browsers, rng).unwrap_or(&0);
        let mut agent = [browser; 5];
        for proto in [Proto::Ssh, Proto::Rdp, Proto::Vnc, Proto::Db] {
            // A quarter of people use the gateway's browser UI instead of a native client.
            if proto == Proto::Db || !rng.gen_bool(0.25) {
                let natives = agents_of(AgentKind::Native(proto));
                agent[proto.idx()] = *super::sampling::pick(&natives, rng).unwrap_or(&browser);
            }
        }

        let fail_p =
            if ssh_auth == AUTH_PASSWORD || role == Role::Support || role == Role::Contractor {
                rng.gen_range(0.025..0.06)
            } else {
                rng.gen_range(0.006..0.02)
            };
        let dur_offset = 0.35 * gauss(rng);
        let volume = exp(0.45 * gauss(rng));
        let rate = exp(0.45 * gauss(rng)) * role_rate;
        let absent_p = if role == Role::Contractor { 0.08 } else { 0.04 };
        let key = hash2(self.seed ^ 0xA076_1D64_78BD_642F, index as u64);

        let mut user = User {
            name: p.name.clone(),
            role,
            roles: vec![role.as_str().to_owned()],
            site: self.sites[p.site],
            work_start_hour: start,
            work_end_hour: if end >= 24.0 { end - 24.0 } else { end },
            night_shift: night,
            on_call: false,
            key,
            oncall_rota: None,
            profile,
            workdays: 5,
            weekend,
            absent_p,
            rate,
            sources,
            src_cum_in,
            src_cum_off,
            habits: Vec::new(),
            habit_cum: Vec::new(),
            fail_p,
            dur_offset,
            volume,
            auth,
            agent,
            service: None,
        };
        let habits = self.habits(index, p, &user);
        user.habit_cum = cumulative(habits.iter().map(|h| h.1));
        user.habits = habits.into_iter().map(|h| h.0).collect();
        user
    }

    /// The usual (host, protocol, account) combinations of a person, with weights.
    fn habits(&mut self, index: usize, p: &Person, user: &User) -> Vec<(Habit, f64)> {
        let own = Organisation::own_account(index);
        let pools = std::mem::take(&mut self.pools);
        let mut out: Vec<(Habit, f64)> = Vec::new();
        let rng = &mut self.rng;
        let mut add = |rng: &mut ChaCha8Rng, host: u16, proto: Proto, account: u16, weight: f64| {
            let auth = user.auth[proto.idx()];
            let agent = user.agent[proto.idx()];
            // Personal preference per target: some hosts are used far more than others.
            let w = weight * exp(0.9 * gauss(rng));
            out.push((
                Habit {
                    host,
                    proto,
                    account,
                    auth,
                    agent,
                },
                w,
            ));
        };
        let choose = |rng: &mut ChaCha8Rng, pool: &[u16], lo: usize, hi: usize| -> Vec<u16> {
            let k = rng.gen_range(lo..=hi.max(lo)).min(pool.len());
            pool.choose_multiple(rng, k).copied().collect()
        };
        let own_jump = pools.jump.get(p.site).copied();
        match p.role {
            Role::Sysadmin => {
                let uses_root = rng.gen_bool(0.6);
                if let Some(j) = own_jump {
                    add(rng, j, Proto::Ssh, own, 3.0);
                }
                let prod: Vec<u16> = pools
                    .web_prod
                    .iter()
                    .chain(&pools.app_prod)
                    .copied()
                    .collect();
                for h in choose(rng, &prod, 3, 8) {
                    add(rng, h, Proto::Ssh, own, 1.0);
                    if uses_root {
                        add(rng, h, Proto::Ssh, ACC_ROOT, 0.5);
                    }
                }
                let nonprod: Vec<u16> = pools
                    .web_stg
                    .iter()
                    .chain(&pools.app_dev)
                    .copied()
                    .collect();
                for h in choose(rng, &nonprod, 1, 3) {
                    add(rng, h, Proto::Ssh, own, 0.6);
                }
                let build: Vec<u16> = pools.build.iter().chain(&pools.git).copied().collect();
                for h in choose(rng, &build, 1, 3) {
                    add(
                        rng,
                        h,
                        Proto::Ssh,
                        if uses_root { ACC_ROOT } else { own },
                        0.5,
                    );
                }
                for &h in &pools.mon {
                    add(rng, h, Proto::Web, own, 0.8);
                }
                for h in choose(rng, &pools.log, 1, 1) {
                    add(rng, h, Proto::Ssh, own, 0.4);
                }
                if rng.gen_bool(0.5) {
                    for h in choose(rng, &pools.net, 1, 2) {
                        add(rng, h, Proto::Ssh, ACC_ADMIN, 0.4);
                    }
                }
                for h in choose(rng, &pools.db, 0, 2) {
                    add(rng, h, Proto::Ssh, own, 0.4);
                }
            }
            Role::WindowsAdmin => {
                let uses_admin = rng.gen_bool(0.55);
                for h in choose(rng, &pools.win_ad, 1, 2) {
                    add(rng, h, Proto::Rdp, own, 2.0);
                    if uses_admin {
                        add(rng, h, Proto::Rdp, ACC_ADMINISTRATOR, 0.6);
                    }
                }
                for h in choose(rng, &pools.win_file, 1, 1) {
                    add(rng, h, Proto::Rdp, own, 1.0);
                }
                for h in choose(rng, &pools.win_app, 2, 5) {
                    add(rng, h, Proto::Rdp, own, 1.0);
                    if uses_admin && rng.gen_bool(0.4) {
                        add(rng, h, Proto::Rdp, ACC_ADMINISTRATOR, 0.3);
                    }
                }
                for h in choose(rng, &pools.win_rds, 1, 2) {
                    add(rng, h, Proto::Rdp, own, 1.2);
                }
                for h in choose(rng, &pools.win_sql, 0, 1) {
                    add(rng, h, Proto::Rdp, own, 0.5);
                }
                if rng.gen_bool(0.3) {
                    if let Some(j) = own_jump {
                        add(rng, j, Proto::Ssh, own, 0.5);
                    }
                }
                if rng.gen_bool(0.5) {
                    for &h in &pools.mon {
                        add(rng, h, Proto::Web, own, 0.4);
                    }
                }
            }
            Role::Developer => {
                for h in choose(rng, &pools.build, 1, 3) {
                    add(rng, h, Proto::Ssh, own, 1.5);
                }
                for &h in &pools.git {
                    add(rng, h, Proto::Web, own, 1.5);
                }
                let nonprod: Vec<u16> = pools
                    .web_stg
                    .iter()
                    .chain(&pools.app_dev)
                    .copied()
                    .collect();
                let deployer = rng.gen_bool(0.3);
                for h in choose(rng, &nonprod, 1, 4) {
                    add(rng, h, Proto::Ssh, own, 1.0);
                    if deployer {
                        add(rng, h, Proto::Ssh, ACC_DEPLOY, 0.4);
                    }
                }
                for h in choose(rng, &pools.app_prod, 0, 2) {
                    add(rng, h, Proto::Web, own, 0.6);
                }
                if rng.gen_bool(0.4) {
                    for h in choose(rng, &pools.db, 1, 2) {
                        add(rng, h, Proto::Db, ACC_APP_RO, 0.5);
                    }
                }
                if rng.gen_bool(0.3) {
                    for h in choose(rng, &pools.log, 1, 1) {
                        add(rng, h, Proto::Web, own, 0.4);
                    }
                }
            }
            Role::Dba => {
                let dbs: Vec<u16> = pools.db.iter().chain(&pools.win_sql).copied().collect();
                let hosts = choose(rng, &dbs, 2, 6);
                for h in hosts {
                    let host = &self.hosts[usize::from(h)];
                    let owner = host.db_owner().unwrap_or(own);
                    let windows = host.windows;
                    add(rng, h, Proto::Db, owner, 1.0);
                    add(rng, h, Proto::Db, own, 0.6);
                    if rng.gen_bool(0.5) {
                        let shell = if windows { Proto::Rdp } else { Proto::Ssh };
                        add(rng, h, shell, own, 0.4);
                    }
                }
                if rng.gen_bool(0.5) {
                    if let Some(j) = own_jump {
                        add(rng, j, Proto::Ssh, own, 0.4);
                    }
                }
                if rng.gen_bool(0.3) {
                    for &h in &pools.mon {
                        add(rng, h, Proto::Web, own, 0.3);
                    }
                }
            }
            Role::Support => {
                for h in choose(rng, &pools.win_rds, 1, 2) {
                    add(rng, h, Proto::Rdp, own, 2.0);
                }
                for h in choose(rng, &pools.win_app, 1, 3) {
                    let account = if rng.gen_bool(0.3) { ACC_HELPDESK } else { own };
                    add(rng, h, Proto::Rdp, account, 1.0);
                }
                for h in choose(rng, &pools.ws, 6, 25) {
                    add(rng, h, Proto::Vnc, own, 0.25);
                }
                for h in choose(rng, &pools.app_prod, 1, 2) {
                    add(rng, h, Proto::Web, own, 0.8);
                }
                if rng.gen_bool(0.3) {
                    for h in choose(rng, &pools.win_ad, 1, 1) {
                        add(rng, h, Proto::Rdp, own, 0.3);
                    }
                }
            }
            Role::Contractor => {
                let pool: Vec<u16> = pools
                    .web_stg
                    .iter()
                    .chain(&pools.app_dev)
                    .chain(&pools.win_app)
                    .chain(&pools.app_prod)
                    .copied()
                    .collect();
                for h in choose(rng, &pool, 1, 3) {
                    let proto = self.hosts[usize::from(h)].shell_proto();
                    add(rng, h, proto, own, 1.0);
                }
            }
            Role::Security => {
                for &h in &pools.siem {
                    add(rng, h, Proto::Web, own, 3.0);
                }
                for h in choose(rng, &pools.log, 1, 2) {
                    add(rng, h, Proto::Web, own, 1.0);
                    add(rng, h, Proto::Ssh, own, 0.4);
                }
                for &h in &pools.vault {
                    add(rng, h, Proto::Web, own, 0.5);
                }
                if let Some(j) = own_jump {
                    add(rng, j, Proto::Ssh, own, 0.8);
                }
                for h in choose(rng, &pools.win_ad, 1, 1) {
                    add(rng, h, Proto::Rdp, ACC_AUDIT, 0.5);
                }
                if rng.gen_bool(0.5) {
                    for h in choose(rng, &pools.net, 1, 2) {
                        add(rng, h, Proto::Ssh, ACC_AUDIT, 0.3);
                    }
                }
                let prod: Vec<u16> = pools
                    .web_prod
                    .iter()
                    .chain(&pools.app_prod)
                    .copied()
                    .collect();
                for h in choose(rng, &prod, 1, 3) {
                    add(rng, h, Proto::Ssh, ACC_AUDIT, 0.3);
                }
            }
            Role::Service => {}
        }
        self.pools = pools;
        if out.is_empty() {
            // Cannot happen with the pools above; keep every user able to connect somewhere.
            let host = self.pools.jump.first().copied().unwrap_or(0);
            out.push((
                Habit {
                    host,
                    proto: Proto::Ssh,
                    account: own,
                    auth: user.auth[0],
                    agent: user.agent[0],
                },
                1.0,
            ));
        }
        out
    }

    /// Service accounts: fixed sources, fixed targets, a schedule around the clock.
    fn services(&mut self, users: &mut Vec<User>) {
        struct Def {
            name: &'static str,
            account: u16,
            cadence_min: i64,
            share: f64,
            profile: fn(usize) -> f32,
            dur: (f64, f64),
            rates: (f64, f64),
            agent: &'static str,
            auth: u8,
        }
        let flat: fn(usize) -> f32 = |_| 1.0;
        let nightly: fn(usize) -> f32 = |h| if h < 5 { 1.0 } else { 0.03 };
        let daytime: fn(usize) -> f32 = |h| if (7..19).contains(&h) { 1.0 } else { 0.35 };
        let etl: fn(usize) -> f32 = |h| {
            if (1..6).contains(&h) || h == 12 {
                1.0
            } else {
                0.1
            }
        };
        let morning: fn(usize) -> f32 = |h| if (5..8).contains(&h) { 1.0 } else { 0.08 };
        let defs = [
            Def {
                name: "svc-monitor",
                account: ACC_NAGIOS,
                cadence_min: 5,
                share: 0.34,
                profile: flat,
                dur: (4.0, 0.5),
                rates: (2_000.0, 800.0),
                agent: "check_by_ssh (nagios-plugins 2.4.9)",
                auth: AUTH_CERTIFICATE,
            },
            Def {
                name: "svc-backup",
                account: ACC_BACKUP,
                cadence_min: 15,
                share: 0.16,
                profile: nightly,
                dur: (1_500.0, 0.6),
                rates: (3_000_000.0, 20_000.0),
                agent: "restic 0.16.4",
                auth: AUTH_PUBLICKEY,
            },
            Def {
                name: "svc-deploy",
                account: ACC_DEPLOY,
                cadence_min: 10,
                share: 0.16,
                profile: daytime,
                dur: (90.0, 0.8),
                rates: (5_000.0, 200_000.0),
                agent: "gitlab-runner 17.1.0",
                auth: AUTH_PUBLICKEY,
            },
            Def {
                name: "svc-ansible",
                account: ACC_ANSIBLE,
                cadence_min: 30,
                share: 0.14,
                profile: flat,
                dur: (60.0, 0.7),
                rates: (4_000.0, 30_000.0),
                agent: "ansible-core 2.16.6 (paramiko 3.4.0)",
                auth: AUTH_PUBLICKEY,
            },
            Def {
                name: "svc-etl",
                account: ACC_ETL,
                cadence_min: 20,
                share: 0.10,
                profile: etl,
                dur: (600.0, 0.7),
                rates: (300_000.0, 2_000.0),
                agent: "PostgreSQL JDBC Driver 42.7.3",
                auth: AUTH_CERTIFICATE,
            },
            Def {
                name: "svc-report",
                account: ACC_REPORT,
                cadence_min: 60,
                share: 0.10,
                profile: morning,
                dur: (30.0, 0.6),
                rates: (200_000.0, 3_000.0),
                agent: "python-requests/2.32.3",
                auth: AUTH_CERTIFICATE,
            },
        ];
        // Monitoring, backup and deployment always exist; the others depend on the seed.
        let chosen: Vec<&Def> = defs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 3 || self.rng.gen_bool(0.7))
            .map(|(_, d)| d)
            .collect();

        // Service traffic is 15-22% of all connections.
        let human_weekly: f64 = users
            .iter()
            .map(|u| {
                let day: f64 = u.profile.iter().map(|&p| f64::from(p)).sum();
                u.rate * day * (5.0 + 2.0 * u.weekend) / 7.0
            })
            .sum();
        let share = self.rng.gen_range(0.15..0.22);
        let service_total = human_weekly * share / (1.0 - share);
        let share_sum: f64 = chosen.iter().map(|d| d.share).sum();

        let p = &self.pools;
        let linux: Vec<u16> = p
            .web_prod
            .iter()
            .chain(&p.app_prod)
            .chain(&p.web_stg)
            .chain(&p.app_dev)
            .chain(&p.db)
            .chain(&p.build)
            .chain(&p.git)
            .chain(&p.log)
            .chain(&p.jump)
            .copied()
            .collect();
        let deploy_src = p.build.first().map(|&h| self.hosts[usize::from(h)].ip);
        for (k, d) in chosen.iter().enumerate() {
            let index = users.len();
            let targets: Vec<(u16, Proto, u16)> = match d.name {
                "svc-monitor" => linux
                    .iter()
                    .map(|&h| (h, Proto::Ssh, d.account))
                    .chain(p.web_prod.iter().map(|&h| (h, Proto::Web, d.account)))
                    .collect(),
                "svc-backup" => {
                    p.db.iter()
                        .chain(&p.git)
                        .chain(&p.vault)
                        .map(|&h| (h, Proto::Ssh, d.account))
                        .collect()
                }
                "svc-deploy" => p
                    .web_prod
                    .iter()
                    .chain(&p.app_prod)
                    .chain(&p.web_stg)
                    .chain(&p.app_dev)
                    .map(|&h| (h, Proto::Ssh, d.account))
                    .collect(),
                "svc-ansible" => linux.iter().map(|&h| (h, Proto::Ssh, d.account)).collect(),
                "svc-etl" => p.db.iter().map(|&h| (h, Proto::Db, d.account)).collect(),
                _ => p
                    .app_prod
                    .iter()
                    .map(|&h| (h, Proto::Web, d.account))
                    .chain(p.db.iter().take(2).map(|&h| (h, Proto::Db, ACC_APP_RO)))
                    .collect(),
            };
            let agent = agent_named(d.agent);
            let habits: Vec<Habit> = targets
                .iter()
                .map(|&(host, proto, account)| Habit {
                    host,
                    proto,
                    account,
                    auth: d.auth,
                    agent,
                })
                .collect();
            let mut profile = [0f32; 24];
            for (h, slot) in profile.iter_mut().enumerate() {
                *slot = (d.profile)(h);
            }
            let day: f64 = profile.iter().map(|&x| f64::from(x)).sum();
            let source = match (d.name, deploy_src) {
                ("svc-deploy", Some(src)) => src,
                _ => ip(10, 10, 250, 11 + 10 * k as u8),
            };
            users.push(User {
                name: d.name.to_owned(),
                role: Role::Service,
                roles: vec![Role::Service.as_str().to_owned()],
                site: self.sites[0],
                work_start_hour: 0.0,
                work_end_hour: 0.0,
                night_shift: false,
                on_call: false,
                key: hash2(self.seed ^ 0xA076_1D64_78BD_642F, index as u64),
                oncall_rota: None,
                profile,
                workdays: 7,
                weekend: 1.0,
                absent_p: 0.0,
                rate: service_total * d.share / share_sum / day.max(1e-9),
                sources: vec![Source {
                    ip: source,
                    kind: SourceKind::Fixed,
                }],
                src_cum_in: vec![1.0],
                src_cum_off: vec![1.0],
                habit_cum: cumulative(habits.iter().map(|_| 1.0)),
                habits,
                fail_p: 0.004,
                dur_offset: 0.0,
                volume: 1.0,
                auth: [d.auth; 5],
                agent: [agent; 5],
                service: Some(ServiceProfile {
                    cadence_ms: d.cadence_min * 60_000,
                    dur_median_s: d.dur.0,
                    dur_sigma: d.dur.1,
                    out_rate: d.rates.0,
                    in_rate: d.rates.1,
                }),
            });
        }
    }
}

/// Hourly weights of a working day (1 = fully at work) for a shift `[start, end)` in hours UTC.
///
/// `end` may exceed 24 or be below `start` for shifts crossing midnight. Includes a lunch dip, a
/// short evening tail (`evening`) and a tiny night floor.
fn day_profile(start: f32, end: f32, evening: f32) -> [f32; 24] {
    let len = if end > start {
        end - start
    } else {
        end + 24.0 - start
    };
    let mut p = [0.004f32; 24];
    for (h, slot) in p.iter_mut().enumerate() {
        let h0 = h as f32;
        let mut overlap = 0.0;
        for shift_start in [start - 24.0, start, start + 24.0] {
            let a = h0.max(shift_start);
            let b = (h0 + 1.0).min(shift_start + len);
            overlap += (b - a).max(0.0);
        }
        if overlap > 0.0 {
            let rel = ((h0 + 0.5 - start).rem_euclid(24.0)) / len;
            let dip = if (0.42..0.58).contains(&rel) {
                0.6
            } else {
                1.0
            };
            *slot = slot.max(overlap * dip);
        }
    }
    let end_hour = (start + len).ceil() as usize;
    for k in 0..4 {
        let h = (end_hour + k) % 24;
        let w = evening * (1.0 - 0.2 * k as f32);
        if p[h] < w {
            p[h] = w;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_cover_the_shift() {
        let p = day_profile(8.0, 17.0, 0.1);
        assert!(p[9] > 0.9 && p[3] < 0.01 && p[18] > 0.05);
        let night = day_profile(22.0, 6.0, 0.0);
        assert!(night[23] > 0.9 && night[2] > 0.5 && night[12] < 0.01);
    }

    #[test]
    fn organisation_is_sized_and_named_sensibly() {
        let small = Organisation::build(1, 1_000, 30);
        assert_eq!(small.human_count(), 40);
        assert!(small.service_account_count() >= 3);
        let big = Organisation::build(1, 10_000_000, 30);
        assert_eq!(big.human_count(), 400);
        for org in [&small, &big] {
            let mut names: Vec<&str> = org.hosts().iter().map(|h| h.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), org.hosts().len(), "host names are unique");
            let mut ips: Vec<u32> = org.hosts().iter().map(|h| h.ip).collect();
            ips.sort_unstable();
            ips.dedup();
            assert_eq!(ips.len(), org.hosts().len(), "host addresses are unique");
            let mut users: Vec<&str> = org.users().iter().map(|u| u.name.as_str()).collect();
            users.sort_unstable();
            users.dedup();
            assert_eq!(users.len(), org.users().len(), "user names are unique");
            for u in org.users() {
                assert!(!u.habits.is_empty() && !u.sources.is_empty() && u.sources.len() <= 3);
                for h in &u.habits {
                    let host = &org.hosts()[usize::from(h.host)];
                    assert!(
                        host.protos().contains(&h.proto),
                        "{} {:?} on {}",
                        u.name,
                        h.proto,
                        host.name
                    );
                }
            }
        }
        assert!(big.hosts().len() > small.hosts().len());
    }
}
