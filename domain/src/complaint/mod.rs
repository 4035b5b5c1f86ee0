//! The `Complaint` aggregate: its state, how events change it (`evolve`) and how commands
//! become events (`decide`). The cqrs-es `Aggregate` impl only forwards to these.

mod checks;
mod closure;
mod consent;
mod dates;
mod decide;
mod evolve;
mod joint;
mod kinds;
mod letters;
mod ombudsman;
mod people;
mod receive;
mod response;
mod state;
mod warnings;

pub use dates::{
    deadline_statuses, deadlines, response_due, stage_one_internal_target,
    stage_one_response_period, within_response_period,
};
pub use decide::decide;
pub use evolve::evolve;
pub use state::{Complaint, Status};
pub use warnings::{warnings, CaseWarning};

use crate::commands::ComplaintCommand;
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::policy::ComplaintServices;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

impl Aggregate for Complaint {
    const TYPE: &'static str = "Complaint";
    type Command = ComplaintCommand;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in decide(self, command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        evolve(self, event);
    }
}
