//! The OpenAPI document (utoipa) built from the routes themselves, served at
//! `/openapi.json`, and Swagger UI at `/docs`, its assets compiled into the binary.

use crate::AppState;
use crate::error::{ErrorBody, ErrorDetail};
use crate::health;
use crate::routes::{
    accounts, admin, auth, errors, forward, me, pairs, payments, plans, telegram_login,
};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Relay API",
        description = "Forward messages between Telegram and Discord. Errors are always \
                       `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Sign-up, sign-in and sessions"),
        (name = "account", description = "The signed-in user's account"),
        (name = "accounts", description = "Connected Telegram and Discord accounts"),
        (name = "pairs", description = "Forwarding pairs, their failures, and the error log"),
        (name = "billing", description = "Plans, the subscription and today's usage. Plan \
            features: edits, deletes, replies, filters, regex, transforms, delay, backfill, \
            webhook_identity, customer_webhooks, analytics_history_days (days)."),
        (name = "admin", description = "For admins (role read on each request) calling from an \
            allowlisted address; every change is audited."),
        (name = "payments", description = "Checkout, payments and the providers' webhooks"),
    ),
)]
struct ApiDoc;

/// Declares the `bearer` security scheme that protected routes name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every documented route, with the document that describes them.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(accounts::add_discord))
        .routes(routes!(accounts::add_telegram))
        .routes(routes!(telegram_login::start))
        .routes(routes!(telegram_login::code))
        .routes(routes!(telegram_login::password))
        .routes(routes!(accounts::list))
        .routes(routes!(accounts::get_one, accounts::delete))
        .routes(routes!(accounts::chats))
        .routes(routes!(forward::forward))
        .routes(routes!(pairs::list, pairs::create))
        .routes(routes!(pairs::get_one, pairs::update, pairs::delete))
        .routes(routes!(pairs::pause))
        .routes(routes!(pairs::resume))
        .routes(routes!(pairs::failures))
        .routes(routes!(pairs::outcomes))
        .routes(routes!(pairs::preview))
        .routes(routes!(errors::list))
        .routes(routes!(plans::list))
        .routes(routes!(plans::subscription))
        .routes(routes!(admin::users::search))
        .routes(routes!(admin::users::get_one))
        .routes(routes!(admin::users::ban))
        .routes(routes!(admin::users::unban))
        .routes(routes!(admin::users::change_plan))
        .routes(routes!(admin::users::logout))
        .routes(routes!(admin::allowlist::list, admin::allowlist::add))
        .routes(routes!(admin::allowlist::remove))
        .routes(routes!(admin::audit::list))
        .routes(routes!(payments::checkout))
        .routes(routes!(payments::list))
        .routes(routes!(payments::paypal_webhook))
        .routes(routes!(payments::nowpayments_webhook))
}

pub fn docs_router(spec: utoipa::openapi::OpenApi) -> Router {
    SwaggerUi::new("/docs").url("/openapi.json", spec).into()
}
