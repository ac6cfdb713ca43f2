//! The delegation policy: who may be helped with which account, and the values (lockout
//! threshold, idle timeout...) that the vendor's published policy leaves to us.
//!
//! [`decide`] is a pure function of the facts; the desk gathers the facts, records the verdict as
//! an audit event and only then shows it.

use super::ids::AccountId;
use serde::Serialize;

/// A directory account's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Provider,
    Staff,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Staff => "staff",
        }
    }

    /// Name for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Provider => "Provider",
            Role::Staff => "Staff",
        }
    }

    /// Reads the stored name (case-insensitive).
    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "provider" => Some(Role::Provider),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

/// The policy values in force, read from the database. `version` is recorded with every verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Increases with every policy change.
    pub version: i64,
    /// Consecutive failed checks that lock an account's Support PIN (across reps and processes).
    pub pin_lockout_threshold: i64,
    /// Failed checks within one case that end verification for that case.
    pub case_failure_limit: i64,
    /// How long a provider's approval lasts, minutes.
    pub approval_lifetime_minutes: i64,
    /// How long a PIN match counts, and how long a rep may be idle before signing in again, minutes.
    pub idle_timeout_minutes: i64,
    /// Consecutive failed sign-ins that lock a rep account.
    pub rep_lockout_threshold: i64,
}

impl Policy {
    /// The values as (name, value, meaning) rows, for `support-desk policy`.
    pub fn rows(&self) -> Vec<(&'static str, i64, &'static str)> {
        vec![
            ("pin_lockout_threshold", self.pin_lockout_threshold,
             "consecutive failed Support PIN checks that lock the PIN (all reps, all processes)"),
            ("case_failure_limit", self.case_failure_limit,
             "failed Support PIN checks within one case that end verification for that case"),
            ("approval_lifetime_minutes", self.approval_lifetime_minutes,
             "how long a provider's approval stays valid"),
            ("idle_timeout_minutes", self.idle_timeout_minutes,
             "how long a PIN match counts; idle reps are signed out after this"),
            ("rep_lockout_threshold", self.rep_lockout_threshold,
             "consecutive failed sign-ins that lock a rep account"),
        ]
    }
}

/// What the caller asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Help with the caller's own account.
    OwnAccount,
    /// Help with someone else's account.
    OnBehalfOf(AccountId),
    /// Unlock the caller's own account.
    Unlock,
}

impl Request {
    /// Stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Request::OwnAccount => "own",
            Request::OnBehalfOf(_) => "on_behalf",
            Request::Unlock => "unlock",
        }
    }
}

/// The facts about one account that a verdict depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFacts {
    pub id: AccountId,
    pub name: String,
    pub role: Role,
    pub practice_id: i64,
    pub primary_provider: Option<AccountId>,
    pub active: bool,
}

/// The provider whose approval a request needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approver {
    pub id: AccountId,
    pub name: String,
}

/// The answer shown to the rep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Support can assist.
    Assist,
    /// The named provider must approve before Support assists.
    NeedsApproval { approver: Approver },
    /// Support must not assist.
    Refused,
    /// The caller's Support PIN has not matched yet.
    VerifyFirst,
}

impl Verdict {
    /// Stored outcome word.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Assist => "assist",
            Verdict::NeedsApproval { .. } => "needs_approval",
            Verdict::Refused => "refused",
            Verdict::VerifyFirst => "verify_first",
        }
    }

    /// The headline word(s) for people.
    pub fn headline(&self) -> &'static str {
        match self {
            Verdict::Assist => "Support can assist",
            Verdict::NeedsApproval { .. } => "Provider approval needed",
            Verdict::Refused => "Refused",
            Verdict::VerifyFirst => "Verify the Support PIN first",
        }
    }
}

/// The policy row that decided a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A rep may never act on their own account.
    RepOwnAccount,
    /// An account that is inactive in the directory gets no help.
    InactiveAccount,
    /// Account unlock needs no PIN.
    Unlock,
    /// Nothing but "verify first" until the caller's PIN matched.
    VerifyFirst,
    /// A verified caller on their own account.
    OwnAccount,
    /// Provider on behalf of staff of the same practice.
    ProviderForStaff,
    /// Staff on behalf of a provider of the same practice.
    StaffForProvider,
    /// Staff on behalf of staff of the same practice.
    StaffForStaff,
    /// Provider on behalf of another provider.
    ProviderForProvider,
    /// Any request across practices.
    OtherPractice,
    /// Staff on behalf of staff whose primary provider is missing or not in the practice.
    NoApprover,
}

impl Rule {
    /// Stored reason code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::RepOwnAccount => "rep_own_account",
            Rule::InactiveAccount => "inactive_account",
            Rule::Unlock => "unlock",
            Rule::VerifyFirst => "verify_first",
            Rule::OwnAccount => "own_account",
            Rule::ProviderForStaff => "provider_for_staff",
            Rule::StaffForProvider => "staff_for_provider",
            Rule::StaffForStaff => "staff_for_staff",
            Rule::ProviderForProvider => "provider_for_provider",
            Rule::OtherPractice => "other_practice",
            Rule::NoApprover => "no_approver",
        }
    }

    /// The policy row as the rep sees it under the verdict.
    pub fn policy_row(self) -> &'static str {
        match self {
            Rule::RepOwnAccount => "Our rule: a rep never verifies, approves or unlocks their own account",
            Rule::InactiveAccount => "Our rule: fail closed: an account inactive in the directory gets no help",
            Rule::Unlock => "Policy: Support can assist anyone who needs their account unlocked (no PIN needed)",
            Rule::VerifyFirst => "Policy: ask for the Support PIN on every contact; no verdict until it matches",
            Rule::OwnAccount => "Policy: the account holder, verified by Support PIN",
            Rule::ProviderForStaff => "Policy: Provider on behalf of Staff (same practice): Support can assist",
            Rule::StaffForProvider => "Policy: Staff on behalf of Provider: provider approval needed before assisting",
            Rule::StaffForStaff => "Policy: Staff on behalf of Staff: approval of the target's primary provider needed",
            Rule::ProviderForProvider => "Our rule: fail closed: Provider on behalf of another Provider is not in the policy",
            Rule::OtherPractice => "Our rule: fail closed: no one acts on an account in another practice",
            Rule::NoApprover => "Our rule: fail closed: the target has no primary provider in this practice to approve",
        }
    }

    /// Every rule with its row and verdict word, for `support-desk policy` and the README.
    pub const ALL: &'static [Rule] = &[
        Rule::VerifyFirst,
        Rule::OwnAccount,
        Rule::ProviderForStaff,
        Rule::StaffForProvider,
        Rule::StaffForStaff,
        Rule::ProviderForProvider,
        Rule::OtherPractice,
        Rule::NoApprover,
        Rule::Unlock,
        Rule::RepOwnAccount,
        Rule::InactiveAccount,
    ];
}

/// A verdict with the rule that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub rule: Rule,
}

impl Decision {
    /// The next step as a sentence the rep can say to the caller.
    pub fn next_step(&self, target_name: Option<&str>) -> String {
        match (&self.verdict, self.rule) {
            (Verdict::Refused, Rule::RepOwnAccount) => {
                "Another rep has to take this call: you cannot act on your own account.".into()
            }
            (Verdict::Assist, Rule::Unlock) => {
                "I can unlock your account now; your password, two-factor and email stay as they are."
                    .into()
            }
            (Verdict::VerifyFirst, _) => "Before I can help, please read me the four-digit Support PIN \
                from your account settings."
                .into(),
            (Verdict::Assist, Rule::ProviderForStaff) => format!(
                "Thank you, you're verified. I can help you with {}'s account now.",
                target_name.unwrap_or("the staff member")
            ),
            (Verdict::Assist, _) => "Thank you, you're verified. How can I help with your account?".into(),
            (Verdict::NeedsApproval { approver }, _) => format!(
                "{} needs to approve this first: they can reply on this case by email, or call us \
                 and give their own Support PIN.",
                approver.name
            ),
            (Verdict::Refused, Rule::InactiveAccount) => {
                "I'm not able to help with that account; it is not active in our directory.".into()
            }
            (Verdict::Refused, _) => "I'm not able to make changes to that account for you; its holder \
                needs to contact Support themselves."
                .into(),
        }
    }
}

/// Everything a verdict depends on.
#[derive(Clone, Debug)]
pub struct DecisionInput<'a> {
    /// The signed-in rep's own directory account, if any.
    pub rep_account: Option<&'a AccountId>,
    /// The caller.
    pub caller: &'a AccountFacts,
    /// The account the request is about when it is not the caller's own.
    pub target: Option<&'a AccountFacts>,
    /// True for an unlock request.
    pub unlock: bool,
    /// True when the caller's Support PIN matched in this call within the idle timeout.
    pub verified: bool,
    /// The target's primary provider (for staff targets), when it exists.
    pub target_primary: Option<&'a AccountFacts>,
}

/// Decides a request. Order: a rep's own account is refused; inactive accounts are refused; an
/// unlock of the caller's own account is assisted without a PIN; otherwise nothing but "verify
/// first" until the caller's PIN matched; then the delegation table, failing closed for every
/// pair it does not list.
pub fn decide(input: &DecisionInput<'_>) -> Decision {
    let d = |verdict, rule| Decision { verdict, rule };
    let caller = input.caller;
    // A request "on behalf of" oneself is a request on one's own account.
    let target = input.target.filter(|t| t.id != caller.id);
    let involved = std::iter::once(caller).chain(target);
    if let Some(own) = input.rep_account
        && involved.clone().any(|a| &a.id == own)
    {
        return d(Verdict::Refused, Rule::RepOwnAccount);
    }
    if involved.clone().any(|a| !a.active) {
        return d(Verdict::Refused, Rule::InactiveAccount);
    }
    if input.unlock {
        return d(Verdict::Assist, Rule::Unlock);
    }
    if !input.verified {
        return d(Verdict::VerifyFirst, Rule::VerifyFirst);
    }
    let Some(target) = target else {
        return d(Verdict::Assist, Rule::OwnAccount);
    };
    if target.practice_id != caller.practice_id {
        return d(Verdict::Refused, Rule::OtherPractice);
    }
    match (caller.role, target.role) {
        (Role::Provider, Role::Staff) => d(Verdict::Assist, Rule::ProviderForStaff),
        (Role::Provider, Role::Provider) => d(Verdict::Refused, Rule::ProviderForProvider),
        (Role::Staff, Role::Provider) => d(
            Verdict::NeedsApproval {
                approver: Approver { id: target.id.clone(), name: target.name.clone() },
            },
            Rule::StaffForProvider,
        ),
        (Role::Staff, Role::Staff) => match input.target_primary {
            Some(p)
                if Some(&p.id) == target.primary_provider.as_ref()
                    && p.role == Role::Provider
                    && p.active
                    && p.practice_id == target.practice_id
                    && p.id != caller.id =>
            {
                d(
                    Verdict::NeedsApproval { approver: Approver { id: p.id.clone(), name: p.name.clone() } },
                    Rule::StaffForStaff,
                )
            }
            _ => d(Verdict::Refused, Rule::NoApprover),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, role: Role, practice: i64, primary: Option<&str>) -> AccountFacts {
        AccountFacts {
            id: AccountId::new(id),
            name: format!("Name {id}"),
            role,
            practice_id: practice,
            primary_provider: primary.map(AccountId::new),
            active: true,
        }
    }

    struct Row {
        name: &'static str,
        caller: AccountFacts,
        target: Option<AccountFacts>,
        primary: Option<AccountFacts>,
        unlock: bool,
        verified: bool,
        rep_account: Option<&'static str>,
        want: (&'static str, Rule),
    }

    #[test]
    fn every_policy_row_and_edge() {
        let prov_a = acct("P-1", Role::Provider, 1, None);
        let prov_a2 = acct("P-2", Role::Provider, 1, None);
        let prov_b = acct("P-9", Role::Provider, 2, None);
        let staff_a = acct("S-1", Role::Staff, 1, Some("P-1"));
        let staff_a2 = acct("S-2", Role::Staff, 1, Some("P-2"));
        let staff_b = acct("S-9", Role::Staff, 2, Some("P-9"));
        let staff_orphan = acct("S-3", Role::Staff, 1, None);
        let mut inactive = acct("S-4", Role::Staff, 1, Some("P-1"));
        inactive.active = false;
        let row = |name, caller: &AccountFacts, target: Option<&AccountFacts>, primary: Option<&AccountFacts>,
                   verified, want| Row {
            name,
            caller: caller.clone(),
            target: target.cloned(),
            primary: primary.cloned(),
            unlock: false,
            verified,
            rep_account: None,
            want,
        };
        let mut rows = vec![
            row("own account, verified", &staff_a, None, None, true, ("assist", Rule::OwnAccount)),
            row("own account, not verified", &staff_a, None, None, false, ("verify_first", Rule::VerifyFirst)),
            row("provider -> staff same practice", &prov_a, Some(&staff_a), None, true,
                ("assist", Rule::ProviderForStaff)),
            row("provider -> staff of another provider, same practice", &prov_a, Some(&staff_a2), None, true,
                ("assist", Rule::ProviderForStaff)),
            row("provider -> staff other practice", &prov_a, Some(&staff_b), None, true,
                ("refused", Rule::OtherPractice)),
            row("staff -> provider", &staff_a, Some(&prov_a2), None, true,
                ("needs_approval", Rule::StaffForProvider)),
            row("staff -> provider other practice", &staff_a, Some(&prov_b), None, true,
                ("refused", Rule::OtherPractice)),
            row("staff -> staff", &staff_a, Some(&staff_a2), Some(&prov_a2), true,
                ("needs_approval", Rule::StaffForStaff)),
            row("staff -> staff other practice", &staff_a, Some(&staff_b), Some(&prov_b), true,
                ("refused", Rule::OtherPractice)),
            row("staff -> staff without primary provider", &staff_a, Some(&staff_orphan), None, true,
                ("refused", Rule::NoApprover)),
            row("staff -> staff whose primary is in another practice", &staff_a, Some(&staff_a2), Some(&prov_b),
                true, ("refused", Rule::NoApprover)),
            row("provider -> provider", &prov_a, Some(&prov_a2), None, true,
                ("refused", Rule::ProviderForProvider)),
            row("on behalf, not verified", &staff_a, Some(&prov_a), None, false,
                ("verify_first", Rule::VerifyFirst)),
            row("on behalf of oneself is own account", &staff_a, Some(&staff_a), None, true,
                ("assist", Rule::OwnAccount)),
            row("inactive target", &prov_a, Some(&inactive), None, true, ("refused", Rule::InactiveAccount)),
        ];
        let mut unlock = row("unlock needs no PIN", &staff_a, None, None, false, ("assist", Rule::Unlock));
        unlock.unlock = true;
        rows.push(unlock);
        let mut mine = row("rep's own account", &staff_a, None, None, true, ("refused", Rule::RepOwnAccount));
        mine.rep_account = Some("S-1");
        rows.push(mine);
        let mut mine_unlock = row("rep unlocking own account", &staff_a, None, None, false,
                                  ("refused", Rule::RepOwnAccount));
        mine_unlock.unlock = true;
        mine_unlock.rep_account = Some("S-1");
        rows.push(mine_unlock);
        let mut mine_target = row("rep's own account as target", &prov_a, Some(&staff_a), None, true,
                                  ("refused", Rule::RepOwnAccount));
        mine_target.rep_account = Some("S-1");
        rows.push(mine_target);

        for r in &rows {
            let rep_account = r.rep_account.map(AccountId::new);
            let got = decide(&DecisionInput {
                rep_account: rep_account.as_ref(),
                caller: &r.caller,
                target: r.target.as_ref(),
                unlock: r.unlock,
                verified: r.verified,
                target_primary: r.primary.as_ref(),
            });
            assert_eq!((got.verdict.code(), got.rule), r.want, "{}", r.name);
        }
    }

    #[test]
    fn staff_for_staff_names_the_targets_primary_provider() {
        let caller = acct("S-1", Role::Staff, 1, Some("P-1"));
        let target = acct("S-2", Role::Staff, 1, Some("P-2"));
        let primary = acct("P-2", Role::Provider, 1, None);
        let got = decide(&DecisionInput {
            rep_account: None,
            caller: &caller,
            target: Some(&target),
            unlock: false,
            verified: true,
            target_primary: Some(&primary),
        });
        match &got.verdict {
            Verdict::NeedsApproval { approver } => assert_eq!(approver.id.as_str(), "P-2"),
            other => panic!("expected approval, got {other:?}"),
        }
        assert!(got.next_step(Some("Name S-2")).contains("Name P-2 needs to approve"));
    }
}
