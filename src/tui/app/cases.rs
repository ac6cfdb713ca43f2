//! Cases: the queue, opening a case from the card, the case view and what is done in it (PIN
//! checks, the verdict, notes, the provider's reply, the status, closing).

use super::App;
use crate::desk::{ApprovalOutcome, CaseFilter, CaseId, CaseOutcome, CaseStatus, CheckedAs, DeskError, PinCheck, Request};
use crate::tui::screens::caller_card::Card;
use crate::tui::screens::case_close::CaseClose;
use crate::tui::screens::case_queue::CaseQueue;
use crate::tui::screens::case_view::CaseView;
use crate::tui::screens::form::Form;
use crate::tui::screens::new_case::NewCase;
use crate::tui::screens::pin_entry::{PinEntry, PinFor};
use crate::tui::screens::verdict::VerdictView;

/// How many cases each queue list loads.
const QUEUE_LIMIT: usize = 200;

impl App {
    /// The three queue lists, fresh.
    fn read_queue(&self) -> Result<CaseQueue, DeskError> {
        let Some(session) = self.session.as_ref() else { return Err(DeskError::SessionEnded) };
        let mine: Vec<_> = self
            .desk
            .list_cases(&CaseFilter { touched_by: Some(session.rep_id.0), limit: QUEUE_LIMIT, ..CaseFilter::default() })?
            .into_iter()
            .filter(|c| c.status != CaseStatus::Closed)
            .collect();
        let awaiting = self.desk.list_cases(&CaseFilter {
            status: Some(CaseStatus::AwaitingApproval),
            limit: QUEUE_LIMIT,
            ..CaseFilter::default()
        })?;
        let closed = self.desk.list_cases(&CaseFilter {
            status: Some(CaseStatus::Closed),
            limit: QUEUE_LIMIT,
            ..CaseFilter::default()
        })?;
        Ok(CaseQueue::new(mine, awaiting, closed, self.desk.now()))
    }

    /// Opens the queue; when its lists cannot be read it stays closed and the status says why.
    pub(super) fn show_queue(&mut self) {
        match self.read_queue() {
            Ok(queue) => self.push(queue),
            Err(e) => self.error(e),
        }
    }

    /// Back on the queue after a case: its lists read again, on the same list with the same filter.
    /// If they cannot be read, the queue empties and says why (the old lists may be out of date).
    pub(super) fn reload_queue(&mut self) {
        let fresh = self.read_queue();
        let Some(queue) = self.find_mut::<CaseQueue>() else { return };
        match fresh {
            Ok(mut fresh) => {
                fresh.list = queue.list;
                fresh.filter = queue.filter.clone();
                *queue = fresh;
            }
            Err(DeskError::SessionEnded) => self.error(DeskError::SessionEnded),
            Err(e) => queue.set_failed(e.to_string()),
        }
    }

    pub(super) fn start_case(&mut self) {
        if let Some((_, name)) = self.caller() {
            self.push(NewCase::new(name));
        }
    }

    /// Opens the case the rep chose on the new-case form; the case takes the form's place, so Esc
    /// on it goes back to the card.
    pub(super) fn open_case(&mut self, request: Request) {
        let (Some(session), Some((caller, _))) = (self.session.clone(), self.caller()) else { return };
        let channel = self.find::<NewCase>().map(|n| n.channel).unwrap_or(crate::desk::Channel::Phone);
        let result = self.desk.open_case(&session, channel, &caller, &request);
        self.pop_target_lookup();
        match result {
            Ok(id) => {
                self.pop_if::<NewCase>();
                self.show_case(id);
                let next = if request == Request::Unlock {
                    "u to note how the caller was identified and unlock (no PIN needed)"
                } else {
                    "p to check the caller's Support PIN in this case"
                };
                self.info(format!("Case #{id} opened. Next: {next}."));
            }
            Err(e) => self.error(e),
        }
    }

    /// Shows a case over the screen it was opened from (Esc comes back to it).
    pub(super) fn show_case(&mut self, id: CaseId) {
        match self.desk.case_detail(id) {
            Ok(detail) => {
                let now = self.desk.now();
                self.push(CaseView::new(detail, now))
            }
            Err(e) => self.error(e),
        }
    }

    fn case_id(&self) -> Option<CaseId> {
        self.find::<CaseView>().map(|c| c.detail.summary.id)
    }

    /// The case on the stack read again (after something was recorded in it).
    fn reload_case(&mut self) {
        let Some(id) = self.case_id() else { return };
        let detail = self.desk.case_detail(id);
        let now = self.desk.now();
        let Some(c) = self.find_mut::<CaseView>() else { return };
        match detail {
            Ok(detail) => *c = CaseView::new(detail, now),
            Err(DeskError::SessionEnded) => self.error(DeskError::SessionEnded),
            Err(e) => c.failed = Some(e.to_string()),
        }
    }

    /// True when the case on screen is open; otherwise says so in the status line.
    fn case_is_open(&mut self) -> bool {
        let closed = self.find::<CaseView>().is_some_and(|c| c.detail.summary.status == CaseStatus::Closed);
        if closed {
            self.refuse("This case is closed; start a new case for a new request.");
        }
        !closed
    }

    /// `u` on an unlock case: the form for how the caller was identified (no PIN).
    pub(super) fn start_case_unlock(&mut self) {
        let Some(c) = self.find::<CaseView>() else { return };
        if c.detail.summary.as_request() != crate::desk::Request::Unlock {
            return self.refuse("This case does not ask for an unlock; u unlocks on unlock cases only.");
        }
        let name = c.detail.summary.caller.name.clone();
        if self.case_is_open() {
            self.push(Form::unlock(&name));
        }
    }

    /// The unlock of an unlock case, with the note; its verdict takes the form's place, and the
    /// case shows the unlock in its timeline.
    pub(super) fn submit_case_unlock(&mut self, id: CaseId, note: &str) {
        let Some(session) = self.session.clone() else { return };
        let Some((request, caller_name)) =
            self.find::<CaseView>().map(|c| (format!("Case #{id}: {}", c.detail.summary.request_label()), c.detail.summary.caller.name.clone()))
        else {
            return;
        };
        match self.desk.unlock_in_case(&session, id, note) {
            Ok(result) => {
                let outcome = super::call::unlock_outcome(&result);
                // The caller's card under the case (if the case was opened from it) shows the lock
                // as it is now.
                let caller = self.find::<CaseView>().map(|c| c.detail.summary.caller.id.clone());
                if let Some(caller) = caller
                    && let Ok(Some(account)) = self.desk.account(&caller)
                    && let Some(card) = self.find_mut::<Card>()
                    && card.card.account.id == caller
                {
                    card.card.account = account;
                }
                self.pop_if::<Form>();
                self.reload_case();
                self.push(VerdictView { shown: result.verdict, request, caller_name, outcome });
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(form) = self.find_mut::<Form>() {
                    form.set_message(why);
                }
            }
            Err(e) => self.error(e),
        }
    }

    pub(super) fn start_case_pin(&mut self, approver: bool) {
        let Some(c) = self.find::<CaseView>() else { return };
        let d = &c.detail;
        let id = d.summary.id;
        if d.summary.status == CaseStatus::Closed {
            self.case_is_open();
            return;
        }
        if approver && d.approver.is_some() && d.approver_failures >= d.verification.limit {
            let n = d.approver_failures;
            return self.refuse(format!(
                "The approving provider's PIN failed {n} times in this case: they can approve only by replying on it now (r)."
            ));
        }
        let entry = if approver {
            let Some(a) = d.approver.clone() else {
                return self.refuse("No provider can approve this case's request: it needs no approval, or the policy refuses it (v shows its verdict).");
            };
            PinEntry::new(format!("{} (approving provider, case #{id})", a.name), PinFor::CaseApprover(id, a.id))
        } else {
            PinEntry::new(format!("{} (case #{id})", d.summary.caller.name), PinFor::CaseCaller(id))
        };
        self.push(entry);
    }

    pub(super) fn check_pin_in_case(&mut self, pin: &crate::desk::Pin, purpose: PinFor) {
        let Some(session) = self.session.clone() else { return };
        let (case, account) = match purpose {
            PinFor::CaseCaller(case) => match self.find::<CaseView>() {
                Some(c) => (case, c.detail.summary.caller.id.clone()),
                None => return,
            },
            PinFor::CaseApprover(case, account) => (case, account),
            PinFor::Call => return,
        };
        let result = self.desk.check_pin_in_case(&session, case, &account, pin);
        self.pop_if::<PinEntry>();
        match result {
            Ok(c) => {
                self.reload_case();
                let whose = if c.checked_as == CheckedAs::Approver { "The provider's" } else { "The caller's" };
                match (c.check, &c.approval) {
                    (Some(PinCheck::Matched), Some(a)) => self.info(format!(
                        "{whose} Support PIN matched: approval by {} recorded. Next: v verdict.",
                        a.provider.name
                    )),
                    (Some(PinCheck::Matched), None) => self.info(format!("{whose} Support PIN matched for this case. Next: v verdict.")),
                    (Some(PinCheck::Rejected { attempts_left }), _) => self.refuse(format!(
                        "{whose} Support PIN did not match ({} of {} failed checks in this case; {attempts_left} before it locks).",
                        c.failures_in_case, c.limit
                    )),
                    (Some(PinCheck::Locked), _) => {
                        self.refuse(format!("{whose} Support PIN is locked. The holder must generate a new one in their settings."))
                    }
                    (None, _) => self.refuse(format!(
                        "Not checked: verification ended for this case after {} failed checks. Close it (x).",
                        c.failures_in_case
                    )),
                }
            }
            Err(e) => self.error(e),
        }
    }

    pub(super) fn case_verdict(&mut self) {
        let (Some(session), Some(c)) = (self.session.clone(), self.find::<CaseView>()) else { return };
        let id = c.detail.summary.id;
        let request = format!("Case #{id}: {}", c.detail.summary.request_label());
        let caller_name = c.detail.summary.caller.name.clone();
        match self.desk.case_verdict(&session, id) {
            Ok(v) => {
                let outcome = v.expired_approval.as_ref().filter(|_| v.approval.is_none()).map(|a| {
                    format!("The approval by {} expired at {}; a new approval is needed.", a.provider.name, a.expires_at)
                });
                self.reload_case();
                self.push(VerdictView { shown: v.shown, request, caller_name, outcome });
            }
            Err(e) => self.error(e),
        }
    }

    pub(super) fn start_note(&mut self) {
        let title = self.find::<CaseView>().map(CaseView::title);
        if let Some(title) = title.filter(|_| self.case_is_open()) {
            self.push(Form::note(title));
        }
    }

    pub(super) fn submit_note(&mut self, text: &str) {
        let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
        match self.desk.add_case_note(&session, id, text) {
            Ok(()) => {
                self.pop_if::<Form>();
                self.reload_case();
                self.info("Note saved on the case.");
            }
            Err(DeskError::Invalid(why)) => self.form_message(why),
            Err(e) => self.error(e),
        }
    }

    fn form_message(&mut self, message: String) {
        if let Some(form) = self.find_mut::<Form>() {
            form.set_message(message);
        }
    }

    pub(super) fn start_reply(&mut self) {
        let Some(c) = self.find::<CaseView>() else { return };
        if c.detail.summary.status == CaseStatus::Closed {
            self.case_is_open();
            return;
        }
        let Some(a) = &c.detail.approver else {
            return self.refuse("No provider can approve this case's request: it needs no approval, or the policy refuses it (v shows its verdict).");
        };
        let hint = format!(
            "Only {} ({}) can approve, by a reply from {}.",
            a.name,
            a.id,
            c.detail.approver_email.as_deref().unwrap_or("their email of record")
        );
        let form = Form::reply(c.title(), hint);
        self.push(form);
    }

    pub(super) fn submit_reply(&mut self, reference: &str, from: &str) {
        let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
        match self.desk.approve_by_reply(&session, id, reference, from) {
            Ok(ApprovalOutcome::Recorded { approval }) => {
                self.pop_if::<Form>();
                self.reload_case();
                self.info(format!("Approval by {} recorded. Next: v verdict.", approval.provider.name));
            }
            Ok(ApprovalOutcome::Refused { reason, .. }) => {
                self.reload_case();
                self.form_message(format!("Not approved: {reason}"));
            }
            Err(DeskError::Invalid(why)) => self.form_message(why),
            Err(e) => self.error(e),
        }
    }

    pub(super) fn mark_awaiting(&mut self) {
        let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
        match self.desk.set_case_status(&session, id, CaseStatus::AwaitingApproval) {
            Ok(()) => {
                self.reload_case();
                self.info("The case is awaiting the provider's approval.");
            }
            Err(e) => self.error(e),
        }
    }

    pub(super) fn start_close(&mut self) {
        let title = self.find::<CaseView>().map(CaseView::title);
        if let Some(title) = title.filter(|_| self.case_is_open()) {
            self.push(CaseClose { title, duplicate_of: None });
        }
    }

    pub(super) fn close_case(&mut self, outcome: CaseOutcome, duplicate_of: Option<CaseId>) {
        let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
        let result = match duplicate_of {
            Some(of) => self.desk.close_case_as_duplicate(&session, id, of),
            None => self.desk.close_case(&session, id, outcome),
        };
        match result {
            Ok(()) => {
                self.pop_if::<CaseClose>();
                self.reload_case();
                let of = duplicate_of.map(|c| format!(" of case #{c}")).unwrap_or_default();
                self.info(format!("Case #{id} closed: {}{of}.", outcome.as_str()));
            }
            // A wrong case number: the picker stays, to type another.
            Err(e @ (DeskError::Invalid(_) | DeskError::NotFound(_))) if duplicate_of.is_some() => self.error(e),
            Err(e) => {
                self.pop_if::<CaseClose>();
                self.error(e)
            }
        }
    }
}
