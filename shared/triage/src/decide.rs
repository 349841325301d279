//! The automation decision (docs/architecture.md section 4), applied in a fixed order so
//! the first rule that blocks automation is the reason given. Pure: it reads
//! the assessment and the tenant policy, and never re-reads the ticket text.
//! Rate limits are not checked here; the store enforces them.

use std::fmt;

use zerodesk_domain::{AccountRef, Category, Decision, RiskFlag, TenantPolicy};

use crate::Assessment;
use crate::risk::flag_name;

/// Below this confidence a human reads the ticket, whatever it asks for.
/// Chosen on the training split of the labelled set (see ACCURACY.md): the
/// weakest correct self-service tickets score about 0.6 ("UNLOCK MY ACCOUNT").
pub const MIN_CONFIDENCE: f32 = 0.55;

/// Flags that are signs of social engineering: any one sends the ticket to a human.
const SOCIAL_ENGINEERING: [RiskFlag; 8] = [
    RiskFlag::Urgency,
    RiskFlag::AuthorityPressure,
    RiskFlag::NewPhoneOrNumber,
    RiskFlag::OutsideChannel,
    RiskFlag::SendPasswordElsewhere,
    RiskFlag::SkipVerification,
    RiskFlag::DisableMfa,
    RiskFlag::MixedScript,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub reason: DecisionReason,
}

/// Why the decision is what it is; the first rule of the decision that applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionReason {
    /// MFA resets always go to a human.
    MfaAlwaysHuman,
    /// Only password resets and unlocks are ever automated.
    NotAutomatable(Category),
    ProtectedAccount,
    SocialEngineering(RiskFlag),
    /// A negated request or several issues: a human reads it.
    NeedsReading(RiskFlag),
    LowConfidence,
    /// Someone else's account, and the text does not say which.
    UnknownTarget,
    /// Someone else's account: a tenant_manager approves.
    OtherPersonsAccount,
    /// The tenant has not turned automation on for this category.
    NotEnabledByPolicy(Category),
    SelfService,
}

impl fmt::Display for DecisionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecisionReason::MfaAlwaysHuman => f.write_str("MFA resets always go to a human"),
            DecisionReason::NotAutomatable(c) => write!(f, "{} is never automated", c.as_str()),
            DecisionReason::ProtectedAccount => f.write_str("the account is protected"),
            DecisionReason::SocialEngineering(flag) => {
                write!(f, "social-engineering risk: {}", flag_name(*flag))
            }
            DecisionReason::NeedsReading(flag) => {
                write!(f, "a human must read it: {}", flag_name(*flag))
            }
            DecisionReason::LowConfidence => write!(f, "confidence below {MIN_CONFIDENCE}"),
            DecisionReason::UnknownTarget => {
                f.write_str("another person's account, not identified by address")
            }
            DecisionReason::OtherPersonsAccount => {
                f.write_str("another person's account needs a manager's approval")
            }
            DecisionReason::NotEnabledByPolicy(c) => {
                write!(
                    f,
                    "tenant policy does not automate {}; a manager can approve",
                    c.as_str()
                )
            }
            DecisionReason::SelfService => {
                f.write_str("self-service request, automation allowed by policy")
            }
        }
    }
}

/// Decide what happens to an assessed ticket. Callers that learn more later
/// (the directory says the target is in a protected group) add the flag to
/// the assessment and decide again.
pub fn decide(a: &Assessment, requester: &AccountRef, policy: &TenantPolicy) -> Verdict {
    let escalate = |reason| Verdict {
        decision: Decision::Escalate,
        reason,
    };
    let approve = |reason| Verdict {
        decision: Decision::NeedsApproval,
        reason,
    };
    if a.category == Category::MfaReset {
        return escalate(DecisionReason::MfaAlwaysHuman);
    }
    if !a.category.is_automatable() {
        return escalate(DecisionReason::NotAutomatable(a.category));
    }
    let protected_target = a.target.as_ref().is_some_and(|t| policy.is_protected(t));
    if protected_target || a.risk_flags.contains(&RiskFlag::ProtectedAccount) {
        return escalate(DecisionReason::ProtectedAccount);
    }
    if let Some(flag) = SOCIAL_ENGINEERING
        .into_iter()
        .find(|f| a.risk_flags.contains(f))
    {
        return escalate(DecisionReason::SocialEngineering(flag));
    }
    if let Some(flag) = [RiskFlag::NegatedRequest, RiskFlag::MultipleIssues]
        .into_iter()
        .find(|f| a.risk_flags.contains(f))
    {
        return escalate(DecisionReason::NeedsReading(flag));
    }
    if a.confidence.is_nan() || a.confidence < MIN_CONFIDENCE {
        return escalate(DecisionReason::LowConfidence);
    }
    let Some(target) = a.target.as_ref() else {
        return escalate(DecisionReason::UnknownTarget);
    };
    if target != requester || a.risk_flags.contains(&RiskFlag::OtherPersonsAccount) {
        return approve(DecisionReason::OtherPersonsAccount);
    }
    if !policy.automates(a.category) {
        return approve(DecisionReason::NotEnabledByPolicy(a.category));
    }
    Verdict {
        decision: Decision::AutoResolve,
        reason: DecisionReason::SelfService,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(s: &str) -> AccountRef {
        AccountRef::parse(s).unwrap()
    }

    fn policy() -> TenantPolicy {
        TenantPolicy {
            auto_resolve: [Category::PasswordReset, Category::AccountUnlock].into(),
            protected_accounts: [acct("root@acme.example")].into(),
            ..Default::default()
        }
    }

    fn self_reset() -> Assessment {
        Assessment {
            category: Category::PasswordReset,
            confidence: 0.8,
            rationale: vec![],
            risk_flags: vec![],
            target: Some(acct("ann@acme.example")),
        }
    }

    fn decision(a: &Assessment) -> Decision {
        decide(a, &acct("ann@acme.example"), &policy()).decision
    }

    #[test]
    fn self_service_reset_enabled_by_policy_is_automated() {
        let v = decide(&self_reset(), &acct("ann@acme.example"), &policy());
        assert_eq!(
            v,
            Verdict {
                decision: Decision::AutoResolve,
                reason: DecisionReason::SelfService
            }
        );
    }

    #[test]
    fn only_password_reset_and_unlock_are_ever_automated() {
        for c in Category::ALL {
            let a = Assessment {
                category: c,
                ..self_reset()
            };
            let open = TenantPolicy {
                auto_resolve: Category::ALL.into(),
                ..policy()
            };
            let d = decide(&a, &acct("ann@acme.example"), &open).decision;
            assert_eq!(d == Decision::AutoResolve, c.is_automatable(), "{c:?}");
        }
    }

    #[test]
    fn mfa_reset_always_escalates_with_its_own_reason() {
        let a = Assessment {
            category: Category::MfaReset,
            ..self_reset()
        };
        let v = decide(&a, &acct("ann@acme.example"), &policy());
        assert_eq!(v.reason, DecisionReason::MfaAlwaysHuman);
        assert_eq!(v.decision, Decision::Escalate);
    }

    #[test]
    fn reset_for_someone_else_needs_approval() {
        let a = Assessment {
            target: Some(acct("bob@acme.example")),
            ..self_reset()
        };
        assert_eq!(decision(&a), Decision::NeedsApproval);
    }

    #[test]
    fn other_person_without_an_address_escalates() {
        let a = Assessment {
            target: None,
            risk_flags: vec![RiskFlag::OtherPersonsAccount],
            ..self_reset()
        };
        let v = decide(&a, &acct("ann@acme.example"), &policy());
        assert_eq!(v.reason, DecisionReason::UnknownTarget);
    }

    #[test]
    fn protected_target_escalates_even_for_the_requester() {
        let a = Assessment {
            target: Some(acct("root@acme.example")),
            ..self_reset()
        };
        let v = decide(&a, &acct("root@acme.example"), &policy());
        assert_eq!(v.reason, DecisionReason::ProtectedAccount);
        let flagged = Assessment {
            risk_flags: vec![RiskFlag::ProtectedAccount],
            ..self_reset()
        };
        assert_eq!(decision(&flagged), Decision::Escalate);
    }

    #[test]
    fn every_social_engineering_flag_escalates() {
        for flag in SOCIAL_ENGINEERING {
            let a = Assessment {
                risk_flags: vec![flag],
                ..self_reset()
            };
            let v = decide(&a, &acct("ann@acme.example"), &policy());
            assert_eq!(v.reason, DecisionReason::SocialEngineering(flag));
        }
    }

    #[test]
    fn negated_or_multi_issue_tickets_escalate() {
        for flag in [RiskFlag::NegatedRequest, RiskFlag::MultipleIssues] {
            let a = Assessment {
                risk_flags: vec![flag],
                ..self_reset()
            };
            assert_eq!(decision(&a), Decision::Escalate, "{flag:?}");
        }
    }

    #[test]
    fn low_or_nan_confidence_escalates() {
        for confidence in [0.1, MIN_CONFIDENCE - 0.01, f32::NAN] {
            let a = Assessment {
                confidence,
                ..self_reset()
            };
            assert_eq!(decision(&a), Decision::Escalate, "{confidence}");
        }
    }

    #[test]
    fn category_not_enabled_by_policy_needs_approval() {
        let a = Assessment {
            category: Category::AccountUnlock,
            ..self_reset()
        };
        let only_resets = TenantPolicy {
            auto_resolve: [Category::PasswordReset].into(),
            ..policy()
        };
        let v = decide(&a, &acct("ann@acme.example"), &only_resets);
        assert_eq!(v.decision, Decision::NeedsApproval);
        assert_eq!(
            v.reason,
            DecisionReason::NotEnabledByPolicy(Category::AccountUnlock)
        );
    }

    #[test]
    fn blocking_reasons_beat_approval() {
        let a = Assessment {
            target: Some(acct("bob@acme.example")),
            risk_flags: vec![RiskFlag::OtherPersonsAccount, RiskFlag::Urgency],
            ..self_reset()
        };
        assert_eq!(decision(&a), Decision::Escalate);
    }
}
