//! The state every handler shares (HTTP API and web pages alike): the complaints, the
//! token checker, the clock, the consumers' statuses, the audit keys and witnesses.

use crate::app::cases::Cases;
use crate::app::clock::Clock;
use crate::auth::{Authenticator, HasAuthenticator};
use chrono::{DateTime, Utc};
use complaints_eventlog::ConsumerStatus;
use std::sync::Arc;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The complaints.
    pub cases: Arc<Cases>,
    /// Checks bearer tokens.
    pub auth: Arc<Authenticator>,
    /// The clock the gateway reads "today" from (the domain never does).
    pub clock: Clock,
    /// Consumers running in this process.
    pub consumers: Arc<Vec<Arc<ConsumerStatus>>>,
    /// The sealing key and export secret; the audit and export routes answer 503 without.
    pub audit: Option<Arc<complaints_audit::AuditKeys>>,
    /// Where signed checkpoints are also kept; none in a bare router.
    pub witnesses: complaints_audit::Witnesses,
    /// The secret signing the web pages' sessions (`COMPLAINTS_UI_SECRET`); a bare router
    /// derives one from the complaint id secret (`ui::session`).
    pub ui_secret: Option<Arc<Vec<u8>>>,
}

impl HasAuthenticator for AppState {
    fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }
}

impl AppState {
    /// State over `cases` with the system clock.
    pub fn new(cases: Arc<Cases>, auth: Arc<Authenticator>) -> Self {
        Self {
            cases,
            auth,
            clock: crate::app::clock::system_clock(),
            consumers: Arc::new(Vec::new()),
            audit: None,
            witnesses: complaints_audit::Witnesses::default(),
            ui_secret: None,
        }
    }

    /// The secret signing the web pages' login links, sessions and CSRF tokens.
    pub fn with_ui_secret(mut self, secret: Vec<u8>) -> Self {
        self.ui_secret = Some(Arc::new(secret));
        self
    }

    /// The keys that sign checkpoints and export manifests and key export pseudonyms.
    pub fn with_audit(mut self, keys: Arc<complaints_audit::AuditKeys>) -> Self {
        self.audit = Some(keys);
        self
    }

    /// The witnesses that keep signed checkpoints outside the database.
    pub fn with_witnesses(mut self, witnesses: complaints_audit::Witnesses) -> Self {
        self.witnesses = witnesses;
        self
    }

    /// Consumers whose lag `/readyz` reports.
    pub fn with_consumers(mut self, consumers: Vec<Arc<ConsumerStatus>>) -> Self {
        self.consumers = Arc::new(consumers);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}
