//! The OpenAPI document (utoipa) built from the routes themselves, served at
//! `/openapi.json`, and Swagger UI at `/docs`, its assets compiled into the binary.

use crate::AppState;
use crate::error::{ErrorBody, ErrorDetail};
use crate::health;
use axum::Router;
use utoipa::OpenApi;
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
    tags((name = "health", description = "Liveness and readiness")),
)]
struct ApiDoc;

/// Every documented route, with the document that describes them.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

pub fn docs_router(spec: utoipa::openapi::OpenApi) -> Router {
    SwaggerUi::new("/docs").url("/openapi.json", spec).into()
}
