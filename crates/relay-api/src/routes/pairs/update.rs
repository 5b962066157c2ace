//! `PATCH /api/v1/pairs/{id}`: a change, checked like a new pair; a new source chat is
//! checked against the destinations it keeps.

use super::cycles::check_cycles;
use super::destinations::{
    Target, check_destinations, check_flag, check_loops, check_webhook_loops, new_destinations,
};
use super::validation::{check_name, check_source_chat, present_value, refused};
use super::views::{PairView, accounts_of, present};
use super::{PairPatch, parse_id};
use crate::auth::AuthUser;
use crate::routes::Fields;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use relay_store::PairChanges;

/// Change a pair: its name, source chat, destinations (replaced as a set) or whether it is
/// enabled. The result is checked like a new pair.
#[utoipa::path(patch, path = "/api/v1/pairs/{id}", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = PairPatch,
    responses((status = 200, description = "The changed pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 409, description = "The change would close a loop with the owner's other pairs (`conflict`, naming it); nothing was changed", body = crate::ErrorBody),
    (status = 422, description = "Invalid change; nothing was changed", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "Discord unreachable while checking a webhook's channel", body = crate::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<PairPatch>,
) -> Result<Json<PairView>, ApiError> {
    let owner = auth.id();
    let id = parse_id(&id)?;
    let accounts = accounts_of(&state, owner).await?;
    let current = state.db.pair(owner, id).await?;
    let mut fields = Fields::default();
    let name = body
        .name
        .as_deref()
        .map(|n| check_name(&mut fields, "name", n));
    let source = accounts
        .get(&current.source_account_id)
        .ok_or(ApiError::NotFound)?;
    let source_chat = match present_value(&body.source_chat_id) {
        Some(_) => check_source_chat(
            &mut fields,
            "source_chat_id",
            Some(source),
            &body.source_chat_id,
        ),
        None => None,
    };
    let (targets, destinations) = match &body.destinations {
        Some(list) => {
            let limits = state.db.plan_of(owner).await?;
            (
                check_destinations(&mut fields, &accounts, &limits, list),
                true,
            )
        }
        None => {
            // The current destinations, for the loop check against a new source chat.
            let targets = current
                .destinations
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    accounts.get(&d.account_id).map(|account| Target {
                        field: format!("destinations[{i}]"),
                        account,
                        chat_id: d.chat_id.clone(),
                        show_author: d.show_author,
                        rules: d
                            .rules
                            .as_ref()
                            .and_then(|r| relay_core::rules::parse_destination(r).ok()),
                    })
                })
                .collect();
            (targets, false)
        }
    };
    let rules = match &body.rules {
        None => Some(None),
        Some(value) => super::rules::check_pair_rules(&mut fields, "rules", Some(value)).map(Some),
    };
    let pause_mode = match body.pause_mode.as_deref() {
        None => None,
        Some(mode @ ("skip" | "hold")) => Some(mode.to_owned()),
        Some(_) => {
            fields.add("pause_mode", "must be skip or hold");
            None
        }
    };
    let bridge = match body.bridge {
        None => Some(None),
        Some(_) => check_flag(&mut fields, "bridge", &body.bridge, current.bridge).map(Some),
    };
    let mut webhooks = Vec::new();
    if source_chat.is_some() || destinations {
        let chat = source_chat.as_deref().unwrap_or(&current.source_chat_id);
        let mut loops = Fields::default();
        webhooks = check_loops(&mut loops, source, chat, &targets);
        if let Err(ApiError::Validation(errors)) = loops.finish() {
            merge(&mut fields, errors, !destinations);
        }
    }
    fields.finish()?;
    let bridge = bridge.flatten();
    let rules = rules.flatten();
    if rules.is_some() || destinations {
        let pair_rules = match &rules {
            Some(r) => r.clone(),
            None => relay_core::rules::parse(&current.rules).unwrap_or_default(),
        };
        super::rules::gate_rules(
            &crate::gate::Gate::of(&state, owner).await?,
            &pair_rules,
            targets.iter().flatten().filter_map(|t| t.rules.as_ref()),
        )?;
    }
    let chat = source_chat.as_deref().unwrap_or(&current.source_chat_id);
    match check_webhook_loops(&state, &auth, chat, &webhooks).await {
        Ok(()) => {}
        Err(ApiError::Validation(errors)) => {
            let mut fields = Fields::default();
            merge(&mut fields, errors, !destinations);
            fields.finish()?;
        }
        Err(e) => return Err(e),
    }
    if source_chat.is_some() || destinations || bridge.is_some() {
        check_cycles(
            &state,
            owner,
            Some(id),
            &accounts,
            ((source.kind, chat), bridge.unwrap_or(current.bridge)),
            &targets,
        )
        .await?;
    }
    let changes = PairChanges {
        name,
        source_chat_id: source_chat,
        destinations: destinations.then(|| new_destinations(targets)),
        enabled: body.enabled,
        bridge,
        rules: rules.as_ref().map(super::rules::stored),
        pause_mode,
    };
    let pair = state
        .db
        .update_pair(owner, id, &changes)
        .await
        .map_err(|e| refused(e, "source_chat_id"))?;
    tracing::info!(user = %owner, pair = %id, "pair changed");
    Ok(Json(present(&state, owner, pair, &accounts).await?))
}

/// Adds `errors` to `fields`; with `onto_source`, under `source_chat_id` (a new source chat
/// that a destination the request did not name already posts into), naming the destination.
pub(super) fn merge(fields: &mut Fields, errors: crate::FieldErrors, onto_source: bool) {
    for (field, messages) in errors {
        for m in messages {
            if onto_source {
                let destination = field.split('.').next().unwrap_or_default();
                fields.add("source_chat_id", format!("{m} ({destination})"));
            } else {
                fields.add(&field, m);
            }
        }
    }
}
