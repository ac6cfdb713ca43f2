//! The lead's audit review: pages, filters, views, one event in full and its case, the chain,
//! review records. Every query goes through the core, which refuses a rep.

use super::{App, find_in};
use crate::desk::review::EventView;
use crate::desk::{CaseId, DeskError};
use crate::tui::action::Action;
use crate::tui::screens::audit_review::{AuditReview, PAGE, ReviewView};

impl App {
    pub(super) fn open_review(&mut self) {
        let Some(session) = self.session.clone() else { return };
        let mut review = AuditReview::new(self.utc_offset);
        // The core decides who may review: a rep gets its refusal here, in words.
        match self.desk.review_page(Some(&session), &review.filter, EventView::All, None, PAGE) {
            Ok(page) => review.set_events(page.events, page.more),
            Err(e) => return self.error(e),
        }
        self.push(review);
        self.pending = Some(Action::VerifyChain);
    }

    pub(super) fn refresh_review(&mut self) {
        let (Some(session), Some(r)) = (self.session.clone(), find_in::<AuditReview>(&mut self.stack)) else { return };
        let by = Some(&session);
        let result = match r.view {
            ReviewView::Events(view) => {
                self.desk.review_page(by, &r.filter, view, None, PAGE).map(|p| r.set_events(p.events, p.more))
            }
            ReviewView::AccountsAcrossReps => self.desk.accounts_failing_across_reps(by, &r.filter).map(|s| r.set_spreads(s)),
            ReviewView::RepsAcrossAccounts => self.desk.reps_failing_across_accounts(by, &r.filter).map(|s| r.set_spreads(s)),
            ReviewView::Chart => self.desk.failure_chart(by, &r.filter, r.offset).map(|c| r.set_chart(c)),
        };
        match result {
            Ok(()) => {}
            Err(DeskError::SessionEnded) => self.error(DeskError::SessionEnded),
            // What was shown answered other filters: it goes, and the screen says why.
            Err(e) => r.set_failed(e.to_string()),
        }
    }

    pub(super) fn more_review(&mut self, before: i64) {
        let (Some(session), Some(r)) = (self.session.clone(), find_in::<AuditReview>(&mut self.stack)) else { return };
        let ReviewView::Events(view) = r.view else { return };
        match self.desk.review_page(Some(&session), &r.filter, view, Some(before), PAGE) {
            Ok(page) => r.append_events(page.events, page.more),
            Err(e) => self.error(e),
        }
    }

    /// One event in full (the review then shows it, with its own keys, until Esc).
    pub(super) fn show_audit_event(&mut self, seq: i64) {
        let Some(session) = self.session.clone() else { return };
        match self.desk.event_detail(Some(&session), seq) {
            Ok(detail) => {
                if let Some(r) = self.find_mut::<AuditReview>() {
                    r.detail = Some(detail);
                }
            }
            Err(e) => self.error(e),
        }
    }

    /// The case of the event shown in full, over the review (Esc comes back to the event).
    pub(super) fn open_event_case(&mut self) {
        match self.find::<AuditReview>().and_then(AuditReview::detail_case) {
            Some(id) => self.show_case(CaseId(id)),
            None => self.info("This event belongs to no case."),
        }
    }

    pub(super) fn set_review_range(&mut self, text: &str) {
        let now = self.desk.now();
        let offset = self.utc_offset;
        let (since, until) = text.split_once("..").unwrap_or((text, ""));
        let read = |t: &str, end: bool| -> Result<Option<chrono::DateTime<chrono::Utc>>, DeskError> {
            let t = t.trim();
            if t.is_empty() {
                Ok(None)
            } else if end {
                crate::desk::review::parse_until(t, now, offset).map(Some)
            } else {
                crate::desk::review::parse_time(t, now, offset).map(Some)
            }
        };
        let range =
            read(since, false).and_then(|s| read(until, true).and_then(|u| crate::desk::review::TimeRange::between(s, u)));
        match range {
            Ok(range) => {
                if let Some(r) = self.find_mut::<AuditReview>() {
                    r.filter.range = range;
                }
                self.refresh_review();
            }
            Err(e) => {
                if let Some(r) = self.find_mut::<AuditReview>() {
                    r.reopen_prompt(false, text.to_string());
                }
                self.error(e)
            }
        }
    }

    pub(super) fn record_review(&mut self, note: &str) {
        let range = self.find::<AuditReview>().map(|r| r.filter.range.clone());
        let (Some(session), Some(range)) = (self.session.clone(), range) else { return };
        match self.desk.record_review(&session, &range, note) {
            Ok(record) => {
                self.info(format!(
                    "Review recorded as audit event #{}: events #{} to #{}, chain intact up to #{} (head {}…).",
                    record.event_seq,
                    record.first_seq,
                    record.last_seq,
                    record.head_seq,
                    crate::desk::audit::short_hash(&record.head_hash)
                ));
                self.refresh_review();
            }
            Err(e) => {
                if matches!(e, DeskError::Invalid(_))
                    && let Some(r) = self.find_mut::<AuditReview>()
                {
                    r.reopen_prompt(true, note.to_string());
                }
                self.error(e)
            }
        }
    }

    /// Shows "verifying" and verifies after the next draw.
    pub(super) fn start_verify_chain(&mut self) {
        if let Some(r) = self.find_mut::<AuditReview>() {
            r.chain = None;
        }
        self.pending = Some(Action::VerifyChain);
    }

    pub(super) fn verify_chain(&mut self) {
        match self.desk.verify_trail(&[]) {
            Ok(result) => {
                if let Some(r) = self.find_mut::<AuditReview>() {
                    r.chain = Some(result);
                }
            }
            Err(e) => self.error(e),
        }
    }
}
