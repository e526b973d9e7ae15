//! The Cybereason surface: the form login (`/login.html`, a `JSESSIONID` cookie), logout, and
//! the sensor routes under `/rest/`: sensor query, sensor actions, isolation, the actions list
//! and abort. Each handler calls the core service the CLI and the desktop call
//! (`ueba_core::response::sensors`).
//!
//! As the vendor's server does, a request without a valid session is sent to the login page
//! (302 to `/login.html`), a failed login is redirected to a URL containing `error`, and other
//! errors are JSON `{"status": "FAILURE", "message": ...}`.

pub mod error;
pub mod sensors;
pub mod session;
