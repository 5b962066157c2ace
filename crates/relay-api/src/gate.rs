//! The plan gate: what the signed-in user's plan allows, checked before anything is
//! stored. A refusal is a 403 (`plan_limit` or `plan_feature`) that names the limit or
//! feature and the cheapest plan that allows it, so a client can offer the upgrade.

use crate::{ApiError, AppState};
use relay_core::UserId;
use relay_store::plans::Plan;

/// A counted limit of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Accounts,
    Pairs,
    DestinationsPerPair,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::Accounts => "max_accounts",
            Limit::Pairs => "max_pairs",
            Limit::DestinationsPerPair => "max_destinations_per_pair",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Limit::Accounts => "connected accounts",
            Limit::Pairs => "forwarding pairs",
            Limit::DestinationsPerPair => "destinations per pair",
        }
    }

    fn of(self, plan: &Plan) -> i64 {
        i64::from(match self {
            Limit::Accounts => plan.max_accounts,
            Limit::Pairs => plan.max_pairs,
            Limit::DestinationsPerPair => plan.max_destinations_per_pair,
        })
    }
}

/// A user's plan, with the others to point at.
pub struct Gate {
    plan: Plan,
    plans: Vec<Plan>,
}

impl Gate {
    pub async fn of(state: &AppState, user: UserId) -> Result<Gate, ApiError> {
        Ok(Gate {
            plan: state.db.subscription(user).await?.plan,
            plans: state.db.plans().await?,
        })
    }

    /// Refuses when `wanted` would be over the plan's `limit`.
    pub fn limit(&self, limit: Limit, wanted: i64) -> Result<(), ApiError> {
        let allowed = limit.of(&self.plan);
        if wanted <= allowed {
            return Ok(());
        }
        let upgrade = self.plans.iter().find(|p| limit.of(p) >= wanted);
        let advice = match upgrade {
            Some(p) => format!("; {} allows {}", p.name, limit.of(p)),
            None => String::new(),
        };
        Err(ApiError::Plan {
            code: "plan_limit",
            message: format!(
                "the {} plan allows {allowed} {}{advice}",
                self.plan.name,
                limit.noun()
            ),
            limit: Some(limit.name().into()),
            feature: None,
            upgrade_to: upgrade.map(|p| p.id.clone()),
        })
    }

    /// Refuses when the plan lacks `feature` (a name of `relay_core::plans::FEATURES`).
    pub fn feature(&self, feature: &str) -> Result<(), ApiError> {
        if relay_core::plans::has_feature(&self.plan.features, feature) {
            return Ok(());
        }
        let upgrade = self
            .plans
            .iter()
            .find(|p| relay_core::plans::has_feature(&p.features, feature));
        let advice = match upgrade {
            Some(p) => format!("; {} has it", p.name),
            None => String::new(),
        };
        Err(ApiError::Plan {
            code: "plan_feature",
            message: format!(
                "the {} plan does not include {feature}{advice}",
                self.plan.name
            ),
            limit: None,
            feature: Some(feature.into()),
            upgrade_to: upgrade.map(|p| p.id.clone()),
        })
    }
}
