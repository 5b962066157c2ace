//! `POST /api/v1/pairs`: a new pair, checked whole before it is stored.

use super::NewPairRequest;
use super::cycles::check_cycles;
use super::destinations::{
    check_destinations, check_flag, check_loops, check_webhook_loops, new_destinations,
};
use super::rules::{check_pair_rules, gate_rules, stored};
use super::validation::{check_name, check_source_account, check_source_chat, plan_limit, refused};
use super::views::{PairView, accounts_of, present};
use crate::auth::AuthUser;
use crate::gate::Gate;
use crate::routes::Fields;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relay_store::NewPair;

/// Create a forwarding pair.
#[utoipa::path(post, path = "/api/v1/pairs", tag = "pairs", security(("bearer" = [])),
    request_body = NewPairRequest, responses(
    (status = 201, description = "Created", body = PairView),
    (status = 403, description = "The plan's pair limit is reached (`plan_limit`), or the rules use a feature it lacks (`plan_feature`)", body = crate::ErrorBody),
    (status = 409, description = "The pair would close a loop with the owner's other pairs (`conflict`, naming it)", body = crate::ErrorBody),
    (status = 422, description = "Invalid pair: field errors name what (`source.chat_id`, `destinations[1].account_id`, ...)", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "Discord unreachable while checking a webhook's channel", body = crate::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<NewPairRequest>,
) -> Result<(StatusCode, Json<PairView>), ApiError> {
    let owner = auth.id();
    let limits = state.db.plan_of(owner).await?;
    if state.db.count_pairs(owner).await? >= i64::from(limits.max_pairs) {
        return Err(plan_limit(limits.plan, limits.max_pairs));
    }
    let accounts = accounts_of(&state, owner).await?;
    let mut fields = Fields::default();
    let name = check_name(
        &mut fields,
        "name",
        body.name.as_deref().unwrap_or_default(),
    );
    let (source, source_chat) = match &body.source {
        Some(s) => {
            let account =
                check_source_account(&mut fields, "source.account_id", &accounts, &s.account_id);
            let chat = check_source_chat(&mut fields, "source.chat_id", account, &s.chat_id);
            (account, chat)
        }
        None => {
            fields.add("source", "is required");
            (None, None)
        }
    };
    let targets = match &body.destinations {
        Some(list) => check_destinations(&mut fields, &accounts, &limits, list),
        None => {
            fields.add("destinations", "is required");
            Vec::new()
        }
    };
    let bridge = check_flag(&mut fields, "bridge", &body.bridge, false);
    let rules = check_pair_rules(&mut fields, "rules", body.rules.as_ref());
    let (Some(source), Some(source_chat)) = (source, source_chat) else {
        return Err(fields
            .finish()
            .err()
            .unwrap_or_else(|| ApiError::field("source", "is invalid")));
    };
    let webhooks = check_loops(&mut fields, source, &source_chat, &targets);
    fields.finish()?;
    let bridge = bridge.unwrap_or_default();
    let rules = rules.unwrap_or_default();
    gate_rules(
        &Gate::of(&state, owner).await?,
        &rules,
        targets.iter().flatten().filter_map(|t| t.rules.as_ref()),
    )?;
    check_webhook_loops(&state, &auth, &source_chat, &webhooks).await?;
    check_cycles(
        &state,
        owner,
        None,
        &accounts,
        ((source.kind, &source_chat), bridge),
        &targets,
    )
    .await?;

    let new = NewPair {
        name,
        source_account_id: source.id,
        source_chat_id: source_chat,
        destinations: new_destinations(targets),
        bridge,
        rules: stored(&rules),
    };
    let pair = state
        .db
        .create_pair(owner, &new)
        .await
        .map_err(|e| refused(e, "source.account_id"))?;
    tracing::info!(user = %owner, pair = %pair.id, "pair created");
    let view = present(&state, owner, pair, &accounts).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
