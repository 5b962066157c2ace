//! Discord's rate limits as the fake applies them: a global 50 requests/s per token,
//! optional per-route buckets, forced 429s, and the `X-RateLimit-*` headers; also the
//! late answers (a request carried out, its answer held back), which sit in the same layer.

use super::*;

pub(super) async fn rate_limits(AxState(fake): Fake, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix("/api/v10/") else {
        return next.run(request).await;
    };
    let method = request.method().to_string();
    let who = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| route.split('/').take(3).collect::<Vec<_>>().join("/"));
    // The bucket: method plus the route up to its major parameter (channel, guild, webhook).
    let bucket = format!(
        "{method} {}",
        route.split('/').take(2).collect::<Vec<_>>().join("/")
    );
    let (verdict, late) = {
        let mut state = fake.state();
        state.requests.push(format!("{method} {path}"));
        let verdict = limit_verdict(&mut state, route, &who, &bucket);
        let late = match verdict {
            Verdict::Allowed { .. } => take_late(&mut state, route),
            Verdict::Limited { .. } => None,
        };
        (verdict, late)
    };
    match verdict {
        Verdict::Limited {
            retry_after,
            global,
        } => too_many(retry_after, global, &bucket),
        Verdict::Allowed {
            limit,
            remaining,
            reset_after,
        } => {
            let mut response = next.run(request).await;
            if let Some(wait) = late {
                // Done (a message is stored), but the client hears of it only now.
                tokio::time::sleep(wait).await;
            }
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: String| {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            };
            set("x-ratelimit-limit", limit.to_string());
            set("x-ratelimit-remaining", remaining.to_string());
            set(
                "x-ratelimit-reset-after",
                format!("{:.3}", reset_after.as_secs_f64()),
            );
            set("x-ratelimit-bucket", bucket_hash(&bucket));
            response
        }
    }
}

pub(super) enum Verdict {
    Allowed {
        limit: u32,
        remaining: u32,
        reset_after: Duration,
    },
    Limited {
        retry_after: Duration,
        global: bool,
    },
}

/// The wait of the first late answer planned for this route, taken off the list.
fn take_late(state: &mut State, route: &str) -> Option<Duration> {
    let i = state
        .limits
        .late
        .iter()
        .position(|(prefix, _)| route.starts_with(prefix.as_str()))?;
    state.limits.late.remove(i).map(|(_, wait)| wait)
}

pub(super) fn limit_verdict(state: &mut State, route: &str, who: &str, bucket: &str) -> Verdict {
    let forced = state
        .limits
        .forced
        .iter()
        .position(|(prefix, _)| route.starts_with(prefix.as_str()));
    if let Some(i) = forced
        && let Some((_, wait)) = state.limits.forced.remove(i)
    {
        return Verdict::Limited {
            retry_after: wait,
            global: false,
        };
    }
    let now = Instant::now();
    let global = state
        .limits
        .global
        .entry(who.to_owned())
        .or_insert((0, now));
    if now.duration_since(global.1) >= Duration::from_secs(1) {
        *global = (0, now);
    }
    global.0 += 1;
    if global.0 > GLOBAL_LIMIT_PER_SEC && !state.limits.global_off {
        let wait = Duration::from_secs(1).saturating_sub(now.duration_since(global.1));
        return Verdict::Limited {
            retry_after: wait,
            global: true,
        };
    }
    let Some((limit, window)) = state.limits.per_bucket else {
        return Verdict::Allowed {
            limit: 5,
            remaining: 4,
            reset_after: Duration::from_secs(1),
        };
    };
    let counter = state
        .limits
        .buckets
        .entry((who.to_owned(), bucket.to_owned()))
        .or_insert((0, now));
    if now.duration_since(counter.1) >= window {
        *counter = (0, now);
    }
    let reset_after = window.saturating_sub(now.duration_since(counter.1));
    if counter.0 >= limit {
        return Verdict::Limited {
            retry_after: reset_after,
            global: false,
        };
    }
    counter.0 += 1;
    Verdict::Allowed {
        limit,
        remaining: limit - counter.0,
        reset_after,
    }
}

pub(super) fn bucket_hash(bucket: &str) -> String {
    let hash = bucket.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{hash:016x}")
}

pub(super) fn too_many(retry_after: Duration, global: bool, bucket: &str) -> Response {
    let secs = retry_after.as_secs_f64();
    let body =
        json!({"message": "You are being rate limited.", "retry_after": secs, "global": global});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    let whole = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    for (name, value) in [
        ("retry-after", whole.max(1).to_string()),
        (
            "x-ratelimit-scope",
            if global { "global" } else { "user" }.to_owned(),
        ),
        ("x-ratelimit-limit", "1".to_owned()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset-after", format!("{secs:.3}")),
        ("x-ratelimit-bucket", bucket_hash(bucket)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if global && let Ok(v) = HeaderValue::from_str("true") {
        headers.insert("x-ratelimit-global", v);
    }
    response
}
