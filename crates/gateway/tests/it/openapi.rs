//! The OpenAPI document and Swagger UI: every admin route in the source is
//! documented (a route added without a line in `admin/openapi_routes.rs`
//! fails here), the document is OpenAPI 3 with resolvable `$ref`s, and the
//! UI is served from the binary with no external URL.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::Gateway;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// `(METHOD, /api/path)` of every `.route(path, method_router)` call in
/// `src/admin/` (relative paths are nested under `/api`). `openapi.rs`
/// holds the public Swagger routes and is not part of the admin API.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/admin");
    let mut found = BTreeSet::new();
    let mut files = vec![dir];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("openapi.rs") {
            scan(&std::fs::read_to_string(&path).unwrap(), &mut found);
        }
    }
    found
}

fn scan(source: &str, found: &mut BTreeSet<(String, String)>) {
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // Only calls whose first argument is a path literal (not prose in comments).
        let open = rest.len() - rest.trim_start().len();
        if !rest[open..].starts_with("\"/") {
            continue;
        }
        let Some(close) = rest[open + 1..].find('"') else {
            break;
        };
        let path = &rest[open + 1..open + 1 + close];
        // The method router: up to the `)` closing `.route(`.
        let mut depth = 1;
        let mut end = open + close + 2;
        for (i, c) in rest[end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end += i;
                break;
            }
        }
        let router = &rest[open + close + 2..end];
        let full = if path.starts_with("/api") {
            path.to_owned()
        } else {
            format!("/api{path}")
        };
        for method in METHODS {
            let call = format!("{method}(");
            let mut from = 0;
            while let Some(i) = router[from..].find(&call) {
                let start = from + i;
                let before = router[..start].chars().last();
                if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
                    found.insert((method.to_uppercase(), full.clone()));
                }
                from = start + call.len();
            }
        }
        rest = &rest[end..];
    }
}

fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

async fn document(gw: &Gateway) -> Value {
    let a = gw
        .http
        .get(format!("{}/swagger/doc.json", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    assert!(
        a.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    serde_json::from_str(&a.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn every_admin_route_is_documented_and_every_documented_route_exists() {
    let gw = Gateway::start(&[]).await;
    let doc = document(&gw).await;
    let routes = routes_in_source();
    assert!(
        routes.len() > 80,
        "the source scan found too few routes: {routes:?}"
    );
    assert!(routes.contains(&("GET".into(), "/api/channel/{id}/test/{*model}".into())));
    let missing: Vec<String> = routes
        .iter()
        .filter(|(m, p)| doc["paths"][openapi_path(p)][m.to_lowercase()].is_null())
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "admin routes missing from the OpenAPI document (add a line to src/admin/openapi_routes.rs): {missing:#?}"
    );
    let routed: BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, p)| (m.clone(), openapi_path(p)))
        .collect();
    let mut stale = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if !routed.contains(&(method.to_uppercase(), path.clone())) {
                stale.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "documented routes that do not exist: {stale:#?}"
    );
    gw.stop().await;
}

fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn document_is_openapi_3_with_resolvable_refs() {
    let gw = Gateway::start(&[]).await;
    let doc = document(&gw).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            assert!(op["responses"]["200"].is_object(), "{method} {path}");
            // Every path template parameter is declared.
            for seg in path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{method} {path}: parameter {name}"
                );
            }
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "unresolved $ref {r}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["AdminKey"]["scheme"], "bearer");
    let text = doc.to_string();
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "external URL in the document"
    );
    // The same document at /openapi.json.
    let again = gw
        .http
        .get(format!("{}/openapi.json", gw.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again, doc);
    gw.stop().await;
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let gw = Gateway::start(&[]).await;
    let get = |path: &str| gw.http.get(format!("{}{path}", gw.url)).send();
    let index = get("/swagger/index.html").await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = index.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for attr in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "//cdn",
        "unpkg",
        "jsdelivr",
    ] {
        assert!(
            !html.contains(attr),
            "external reference `{attr}` in index.html"
        );
    }
    let init = get("/swagger/swagger-initializer.js")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/swagger/doc.json"), "{init}");
    let compact: String = init.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains("\"validatorUrl\":\"none\""), "{init}");
    assert!(
        !init.contains("http://") && !init.contains("https://"),
        "{init}"
    );
    let bundle = get("/swagger/swagger-ui-bundle.js").await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    assert_eq!(get("/swagger/nope.js").await.unwrap().status(), 404);
    // No admin key needed; the redirect lands on the UI.
    assert_eq!(get("/swagger").await.unwrap().status(), 200);
    gw.stop().await;
}
