//! The call: signing in, finding the caller, the card, the Support PIN check, the verdict, the
//! account unlock and a lead clearing a PIN lock.

use super::{App, SearchRequest, find_in};
use crate::desk::{AccountId, CaseFilter, CaseSummary, DeskError, PinCheck, Request, SignIn as SignInOutcome};
use crate::tui::keymap::ScreenId;
use crate::tui::screens::{Holds, Screen};
use crate::tui::screens::caller_card::{Card, RECENT_CASES};
use crate::tui::screens::form::Form;
use crate::tui::screens::lookup::{Lookup, RESULT_LIMIT};
use crate::tui::screens::pin_entry::PinEntry;
use crate::tui::screens::sign_in::SignIn;
use crate::tui::screens::verdict::VerdictView;

impl App {
    pub(super) fn sign_in(&mut self, username: &str, passphrase: &str) {
        match self.desk.sign_in(username, passphrase) {
            Ok(SignInOutcome::SignedIn(session)) => {
                let name = session.display_name.clone();
                self.reset_to_sign_in(None);
                self.session = Some(session);
                self.idle_minutes = self.desk.policy().map(|p| p.idle_timeout_minutes).unwrap_or(15).max(1) as u64;
                self.reset_stack(Lookup::new(ScreenId::Lookup));
                self.info(format!("Signed in as {name}."));
            }
            Ok(SignInOutcome::Refused) => {
                // The number is the policy in force (`rep_lockout_threshold`), not a constant.
                let lockout = match self.desk.policy() {
                    Ok(p) => format!("{} failures in a row lock the account", p.rep_lockout_threshold),
                    Err(_) => "repeated failures lock the account".to_string(),
                };
                if let Some(form) = self.find_mut::<SignIn>() {
                    form.refused(format!("Sign-in failed: wrong username or passphrase. {lockout}; a lead can re-enable it."));
                }
            }
            Err(e) => {
                if let Some(form) = self.find_mut::<SignIn>() {
                    form.message = Some(e.to_string());
                }
            }
        }
    }

    pub(super) fn search(&mut self, query: String) {
        if let Some(link) = self.searcher.as_mut() {
            // A newer keystroke supersedes the lookup still running: stop it, ask again.
            link.generation += 1;
            link.interrupt.interrupt();
            let screen = self.stack.last().map(Screen::id).unwrap_or(ScreenId::Lookup);
            if link.requests.send(SearchRequest { generation: link.generation, screen, query }).is_ok() {
                return;
            }
            self.searcher = None;
            let query = self.find::<Lookup>().map(|l| l.query.clone()).unwrap_or_default();
            return self.search(query);
        }
        let result = self.desk.lookup(&query, RESULT_LIMIT);
        match (result, self.find_mut::<Lookup>()) {
            (Ok(results), Some(list)) => list.set_results(results),
            (Err(DeskError::SessionEnded), _) => self.error(DeskError::SessionEnded),
            (Err(e), Some(list)) => list.set_failed(e.to_string()),
            (Err(e), None) => self.error(e),
            (Ok(_), None) => {}
        }
    }

    /// Enter pressed before the search thread answered the text in the box: looks it up here (a
    /// few milliseconds) and chooses from what it finds, so Enter never opens an account found for
    /// an older text.
    pub(super) fn submit_lookup(&mut self) {
        let Some(query) = self.find::<Lookup>().map(|l| l.query.clone()) else { return };
        let result = self.desk.lookup(&query, RESULT_LIMIT);
        let chosen = match (result, self.find_mut::<Lookup>()) {
            (Ok(results), Some(list)) => {
                list.set_results(results);
                list.choose()
            }
            (Err(DeskError::SessionEnded), _) => return self.error(DeskError::SessionEnded),
            (Err(e), Some(list)) => {
                list.set_failed(e.to_string());
                None
            }
            (Err(e), None) => return self.error(e),
            (Ok(_), None) => None,
        };
        if let Some(action) = chosen {
            self.apply(action);
        }
    }

    /// `n`: ends the call with the caller on the stack (recorded, so this call's PIN match no longer
    /// verifies anyone) and starts over at the caller search. If the end cannot be recorded the
    /// call stays open and the screen says why.
    pub(super) fn new_call(&mut self) {
        if let (Some(session), Some((caller, _))) = (self.session.clone(), self.caller())
            && let Err(e) = self.desk.end_call(&session, &caller)
        {
            return self.error(e);
        }
        self.reset_stack(Lookup::new(ScreenId::Lookup));
    }

    /// Signing out or quitting ends the call with the caller on the stack, as `n` does (a failure
    /// to record it is left to the sign-out, which meets the same disk).
    pub(super) fn end_call_on_leaving(&mut self) {
        if let (Some(session), Some((caller, _))) = (self.session.clone(), self.caller()) {
            let _ = self.desk.end_call(&session, &caller);
        }
    }

    /// The caller of this call (the card on the stack): id and name.
    pub(super) fn caller(&self) -> Option<(AccountId, String)> {
        self.find::<Card>().map(|c| (c.card.account.id.clone(), c.card.account.name.clone()))
    }

    pub(super) fn open_card(&mut self, id: &AccountId) {
        let Some(session) = self.session.clone() else { return };
        match self.desk.open_card(&session, id) {
            Ok(card) => {
                let recent = self.recent_cases(&card.account.id);
                let now = self.desk.now();
                let mut card = Card::new(card, Vec::new(), now);
                match recent {
                    Ok(recent) => card.set_recent(recent, now),
                    Err(e) => card.set_recent_failed(e.to_string()),
                }
                self.push(card);
                self.sync_call_verification();
            }
            Err(e) => self.error(e),
        }
    }

    /// The caller card's "on this call" PIN status from the core's rule, so the card and the
    /// verdict never disagree: a match still counting (the card reopened during the same call)
    /// shows as matched, until when; one that stopped counting (idle timeout, call ended) goes.
    pub(super) fn sync_call_verification(&mut self) {
        let (Some(session), Some((caller, _))) = (self.session.clone(), self.caller()) else { return };
        let Ok(until) = self.desk.call_verified_until(&session, &caller) else { return };
        let Some(card) = self.find_mut::<Card>() else { return };
        let expired = until.is_none() && card.last_check == Some(PinCheck::Matched);
        card.matched_until = until;
        if until.is_some() {
            card.last_check = Some(PinCheck::Matched);
        } else if expired {
            card.last_check = None;
            self.info("This call's PIN match no longer counts (older than the idle timeout): check the PIN again (p).");
        }
    }

    /// The account's most recent cases for its card.
    fn recent_cases(&self, account: &AccountId) -> Result<Vec<CaseSummary>, DeskError> {
        let filter = CaseFilter { account: Some(account.clone()), limit: RECENT_CASES, ..CaseFilter::default() };
        self.desk.list_cases(&filter)
    }

    /// Back on the card after a case: its recent cases as they are now (or why they could not be
    /// read, instead of the old list).
    pub(super) fn refresh_recent_cases(&mut self) {
        let Some((id, _)) = self.caller() else { return };
        let recent = self.recent_cases(&id);
        let now = self.desk.now();
        let Some(card) = self.find_mut::<Card>() else { return };
        match recent {
            Ok(recent) => card.set_recent(recent, now),
            Err(DeskError::SessionEnded) => self.error(DeskError::SessionEnded),
            Err(e) => card.set_recent_failed(e.to_string()),
        }
    }

    /// The target lookup: for a verdict, or (over the new-case form) for a case's request.
    pub(super) fn choose_target(&mut self) {
        let Some((_, name)) = self.caller() else { return };
        let mut target = Lookup::new(ScreenId::TargetLookup);
        target.caller_name = Some(name);
        target.for_case = self.view() == ScreenId::NewCase;
        self.push(target);
    }

    pub(super) fn check_pin(&mut self, pin: &crate::desk::Pin) {
        let (Some(session), Some((id, _))) = (self.session.clone(), self.caller()) else { return };
        let result = self.desk.check_pin(&session, &id, pin);
        if let Some(p) = self.find_mut::<PinEntry>() {
            p.checking = false;
        }
        match result {
            Ok(outcome) => {
                let refreshed = self.desk.account(&id);
                if let Some(card) = self.find_mut::<Card>() {
                    card.last_check = Some(outcome);
                    if let Ok(Some(account)) = refreshed {
                        card.card.account = account;
                    }
                }
                self.pop_if::<PinEntry>();
                if outcome == PinCheck::Matched {
                    self.sync_call_verification();
                }
                match outcome {
                    PinCheck::Matched => self.info("Support PIN matched. Next: a own account, o on behalf of, u unlock."),
                    PinCheck::Rejected { attempts_left } => {
                        self.refuse(format!("Support PIN did not match. {attempts_left} attempt(s) left."))
                    }
                    PinCheck::Locked => {
                        self.refuse("Support PIN is locked. The holder must generate a new one in their settings.")
                    }
                }
            }
            Err(e) => self.error(e),
        }
    }

    /// The verdict for the caller's request; it takes the place of the target lookup it was
    /// chosen on, so Esc goes back to the card.
    pub(super) fn decide(&mut self, request: Request) {
        let (Some(session), Some((caller, caller_name))) = (self.session.clone(), self.caller()) else { return };
        let description = match &request {
            Request::OwnAccount => "Own account".to_string(),
            Request::Unlock => "Account unlock".to_string(),
            Request::OnBehalfOf(target) => {
                let name = self
                    .stack
                    .iter()
                    .rev()
                    .filter_map(Lookup::held)
                    .find(|l| l.screen == ScreenId::TargetLookup)
                    .and_then(|l| l.results.iter().find(|a| &a.id == target))
                    .map(|a| format!("{} ({}, {})", a.name, a.id, a.role.label()))
                    .unwrap_or_else(|| target.to_string());
                format!("On behalf of {name}")
            }
        };
        match self.desk.decide(&session, &caller, &request) {
            Ok(shown) => {
                self.pop_target_lookup();
                self.push(VerdictView { shown, request: description, caller_name, outcome: None });
            }
            Err(e) => self.error(e),
        }
    }

    pub(super) fn start_unlock(&mut self) {
        if let Some((_, name)) = self.caller() {
            self.push(Form::unlock(&name));
        }
    }

    /// The unlock, with the note of how the caller was identified; its verdict takes the form's
    /// place.
    pub(super) fn submit_unlock(&mut self, note: &str) {
        // The form over a case unlocks in that case.
        let below = self.stack.len().checked_sub(2).and_then(|i| self.stack.get(i));
        if let Some(case) = below.and_then(|s| match s {
            Screen::Case(c) => Some(c.detail.summary.id),
            _ => None,
        }) {
            return self.submit_case_unlock(case, note);
        }
        let (Some(session), Some((caller, caller_name))) = (self.session.clone(), self.caller()) else { return };
        match self.desk.unlock(&session, &caller, note) {
            Ok(result) => {
                let outcome = unlock_outcome(&result);
                if let (Some(card), Ok(Some(account))) = (find_in::<Card>(&mut self.stack), self.desk.account(&caller)) {
                    card.card.account = account;
                }
                self.pop_if::<Form>();
                self.push(VerdictView { shown: result.verdict, request: "Account unlock".into(), caller_name, outcome });
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(form) = self.find_mut::<Form>() {
                    form.set_message(why);
                }
            }
            Err(e) => self.error(e),
        }
    }

    /// Leads get the reason prompt; a rep is told at once, and the core records the attempt.
    pub(super) fn start_clear_lock(&mut self) {
        let (Some(session), Some((id, name))) = (self.session.clone(), self.caller()) else { return };
        match self.desk.may_clear_pin_lock(&session, &id) {
            Ok(()) => {}
            Err(DeskError::Refused(_)) if session.role != crate::desk::RepRole::Lead => {
                return self.refuse("Only a lead can clear a Support PIN lock; ask your lead.");
            }
            Err(e) => return self.error(e),
        }
        let locked = self.find::<Card>().is_some_and(|c| c.card.account.pin_locked);
        if !locked {
            return self.info("The Support PIN is not locked; there is nothing to clear.");
        }
        self.push(Form::clear_lock(&name));
    }

    pub(super) fn submit_clear_lock(&mut self, reason: &str) {
        let (Some(session), Some((id, _))) = (self.session.clone(), self.caller()) else { return };
        match self.desk.clear_pin_lock(&session, &id, reason) {
            Ok(cleared) => {
                if let (Some(card), Ok(Some(account))) = (find_in::<Card>(&mut self.stack), self.desk.account(&id)) {
                    card.card.account = account;
                    card.last_check = None;
                }
                self.pop_if::<Form>();
                if cleared {
                    self.info("Support PIN lock cleared (audited with your reason). The failure count starts again at 0.");
                } else {
                    self.info("The Support PIN was not locked; nothing changed.");
                }
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(form) = self.find_mut::<Form>() {
                    form.set_message(why);
                }
            }
            Err(e) => {
                self.pop_if::<Form>();
                self.error(e);
            }
        }
    }
}

/// What an unlock did, under its verdict: unlocked, or found not locked (nothing for a refusal).
pub(super) fn unlock_outcome(result: &crate::desk::Unlocked) -> Option<String> {
    if result.unlocked {
        Some("Unlocked. The caller can sign in again.".to_string())
    } else if result.verdict.decision.verdict == crate::desk::Verdict::Assist {
        Some("Was not locked; nothing changed.".to_string())
    } else {
        None
    }
}
