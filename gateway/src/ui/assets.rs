//! The pages' static files, compiled into the binary and served with long cache lifetimes:
//! the vendored GOV.UK Frontend CSS and htmx (see `gateway/assets/vendor/README.md`) and the
//! service's own small stylesheet. The version is in every path, so a file never changes
//! under its name.

use crate::app::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// GOV.UK Frontend's compiled CSS.
pub(crate) const GOVUK_CSS: &str = "/ui/assets/vendor/govuk-frontend-6.6.0/govuk-frontend.min.css";
/// htmx.
pub(crate) const HTMX_JS: &str = "/ui/assets/vendor/htmx.org-2.0.8/htmx.min.js";
/// The service's own additions (bump the version when it changes).
pub(crate) const APP_CSS: &str = "/ui/assets/app-1.css";

const FILES: &[(&str, &str, &[u8])] = &[
    (
        GOVUK_CSS,
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/govuk-frontend-6.6.0/govuk-frontend.min.css"),
    ),
    (
        HTMX_JS,
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx.org-2.0.8/htmx.min.js"),
    ),
    (
        APP_CSS,
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
];

/// One route per file.
pub(super) fn routes() -> Router<AppState> {
    FILES
        .iter()
        .fold(Router::new(), |router, &(path, media_type, bytes)| {
            router.route(
                path,
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
                            (
                                header::CACHE_CONTROL,
                                HeaderValue::from_static("public, max-age=31536000, immutable"),
                            ),
                            (
                                header::X_CONTENT_TYPE_OPTIONS,
                                HeaderValue::from_static("nosniff"),
                            ),
                        ],
                        bytes,
                    )
                        .into_response()
                }),
            )
        })
}
