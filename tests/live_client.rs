//! The live-cluster reader against a real HTTP server on 127.0.0.1 that answers like an API
//! server: paginated LISTs with `continue`, a 403 for one kind, a kubeconfig pointing at it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use kubecis::policies::evaluate;
use kubecis::policies::live::{fetch_kinds, fetch_objects, LiveError, LiveOptions, KINDS};
use kubecis::policies::objects::KindState;
use kubecis::report::model::Status;

/// A tiny API server: answers each request from `route`, logs the request line.
struct FakeApiServer {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

fn respond(mut stream: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut auth = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if line.to_ascii_lowercase().starts_with("authorization:") {
            auth = line.trim().to_string();
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(target.clone());
    let (code, body) = if auth != "authorization: Bearer test-token"
        && auth != "Authorization: Bearer test-token"
    {
        (401, status_json(401, "Unauthorized", "bad token"))
    } else {
        route(&target)
    };
    let reason = match code {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let response = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn status_json(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code
    })
    .to_string()
}

fn list(kind: &str, items: Vec<serde_json::Value>, cont: Option<&str>) -> String {
    let mut meta = serde_json::json!({"resourceVersion": "42"});
    if let Some(c) = cont {
        meta["continue"] = c.into();
    }
    serde_json::json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": meta, "items": items})
        .to_string()
}

fn sa(ns: &str, name: &str, automount: Option<bool>) -> serde_json::Value {
    let mut v = serde_json::json!({"metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}")}});
    if let Some(a) = automount {
        v["automountServiceAccountToken"] = a.into();
    }
    v
}

fn route(target: &str) -> (u16, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let has = |p: &str| query.split('&').any(|q| q == p);
    match path {
        // Three pages of service accounts (page size 2 in the test).
        "/api/v1/serviceaccounts" => {
            if has("continue=page3") {
                (200, list("ServiceAccount", vec![sa("shop", "default", None)], None))
            } else if has("continue=page2") {
                (200, list("ServiceAccount", vec![sa("kube-system", "default", Some(false)), sa("quiet", "default", Some(false))], Some("page3")))
            } else {
                (200, list("ServiceAccount", vec![sa("default", "default", Some(false)), sa("kube-public", "default", Some(false))], Some("page2")))
            }
        }
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" => (
            200,
            list(
                "ClusterRoleBinding",
                vec![serde_json::json!({
                    "metadata": {"name": "alice-admin"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                    "subjects": [{"kind": "User", "name": "alice"}]
                })],
                None,
            ),
        ),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles" => (
            200,
            list(
                "ClusterRole",
                vec![serde_json::json!({
                    "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                    "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
                })],
                None,
            ),
        ),
        "/apis/rbac.authorization.k8s.io/v1/rolebindings" => (
            403,
            status_json(403, "Forbidden", "rolebindings.rbac.authorization.k8s.io is forbidden: User \"system:serviceaccount:kubecis:kubecis\" cannot list resource \"rolebindings\""),
        ),
        _ => {
            let kind = KINDS
                .iter()
                .find(|(g, v, _, plural)| {
                    let base = if g.is_empty() { format!("/api/{v}") } else { format!("/apis/{g}/{v}") };
                    path == format!("{base}/{plural}")
                })
                .map(|k| k.2);
            match kind {
                Some(kind) => (200, list(kind, vec![], None)),
                None => (404, status_json(404, "NotFound", "the server could not find the requested resource")),
            }
        }
    }
}

impl FakeApiServer {
    fn start() -> FakeApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let server_log = log.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = server_log.clone();
                thread::spawn(move || respond(stream, &log));
            }
        });
        FakeApiServer { port, log }
    }

    fn kubeconfig(&self, dir: &std::path::Path, token: &str) -> std::path::PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster: {{server: \"http://127.0.0.1:{}\"}}\n- name: other\n  cluster: {{server: \"http://127.0.0.1:1\"}}\nusers:\n- name: u\n  user: {{token: {token}}}\ncontexts:\n- name: broken\n  context: {{cluster: other, user: u}}\n- name: test\n  context: {{cluster: test, user: u}}\ncurrent-context: broken\n",
            self.port
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn options(kubeconfig: std::path::PathBuf, context: &str) -> LiveOptions {
    LiveOptions {
        kubeconfig: Some(kubeconfig),
        context: Some(context.into()),
        page_size: 2,
        timeout: std::time::Duration::from_secs(5),
    }
}

#[test]
fn lists_every_kind_once_follows_continue_and_records_forbidden_kinds() {
    let server = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let objects = fetch_objects(&options(
        server.kubeconfig(dir.path(), "test-token"),
        "test",
    ))
    .unwrap();

    // Pagination: all five service accounts from three pages, in order, with kind filled in.
    let sas: Vec<String> = objects
        .of_kind("ServiceAccount")
        .map(|o| o.display_name())
        .collect();
    assert_eq!(
        sas,
        [
            "ServiceAccount/default/default",
            "ServiceAccount/kube-public/default",
            "ServiceAccount/kube-system/default",
            "ServiceAccount/quiet/default",
            "ServiceAccount/shop/default",
        ]
    );
    let log = server.log.lock().unwrap().clone();
    let sa_requests: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("/api/v1/serviceaccounts"))
        .collect();
    assert_eq!(sa_requests.len(), 3, "{log:#?}");
    assert!(
        sa_requests.iter().all(|r| r.contains("limit=2")),
        "{sa_requests:?}"
    );
    assert!(sa_requests[1].contains("continue=page2") && sa_requests[2].contains("continue=page3"));
    // One LIST per kind (plus the two follow-up pages), nothing per object.
    assert_eq!(log.len(), KINDS.len() + 2, "{log:#?}");

    // The 403 makes RoleBinding unavailable with the server's reason; the rest were listed.
    match objects.kind_state("RoleBinding") {
        KindState::Unavailable(reason) => assert!(
            reason.contains("HTTP 403") && reason.contains("cannot list resource"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(objects.kind_state("NetworkPolicy"), KindState::Listed);
    assert_eq!(objects.kind_state("ClusterRoleBinding"), KindState::Listed);

    // Checks see it: what the ClusterRoleBindings grant is certain, and the reason says the
    // RoleBindings are unknown.
    let secrets = evaluate("rbac-secrets-access", &objects).unwrap();
    assert_eq!(secrets.status, Status::Fail, "{secrets:?}");
    assert_eq!(
        secrets.findings,
        ["User alice via ClusterRoleBinding/alice-admin (ClusterRole/cluster-admin): get secrets, list secrets, watch secrets"]
    );
    assert!(
        secrets
            .reason
            .contains("RoleBinding: listing rolebindings failed: HTTP 403"),
        "{secrets:?}"
    );
    // Nothing found while a kind is unknown is WARN, never PASS.
    let masters = evaluate("system-masters", &objects).unwrap();
    assert_eq!(masters.status, Status::Warn, "{masters:?}");
    assert!(masters.reason.contains("RoleBinding"), "{masters:?}");
    let tokens = evaluate("service-account-token-automount", &objects).unwrap();
    assert_eq!(tokens.status, Status::Warn, "{tokens:?}");
    // The default service account of `shop`, found on the third page.
    let live = evaluate("default-service-accounts", &objects).unwrap();
    assert_eq!(live.status, Status::Fail, "{live:?}");
    assert_eq!(
        live.findings,
        ["ServiceAccount/shop/default: automountServiceAccountToken is not false"]
    );
}

#[test]
fn fetch_of_listable_kinds_only_passes_through_to_checks() {
    let server = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kinds: Vec<_> = KINDS
        .iter()
        .copied()
        .filter(|k| k.2 != "RoleBinding")
        .collect();
    let mut objects = fetch_kinds(
        &options(server.kubeconfig(dir.path(), "test-token"), "test"),
        &kinds,
    )
    .unwrap();
    // Pretend the cluster has no RoleBindings (listed, empty): now checks can decide.
    objects.mark_listed("RoleBinding");
    let admin = evaluate("rbac-cluster-admin", &objects).unwrap();
    assert_eq!(admin.status, Status::Fail);
    assert_eq!(
        admin.findings,
        ["User alice via ClusterRoleBinding/alice-admin"]
    );
    let sa = evaluate("default-service-accounts", &objects).unwrap();
    assert_eq!(
        sa.findings,
        ["ServiceAccount/shop/default: automountServiceAccountToken is not false"]
    );
}

#[test]
fn bad_credentials_and_unreachable_servers_are_errors() {
    let server = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_objects(&options(server.kubeconfig(dir.path(), "wrong"), "test")).unwrap_err();
    assert!(matches!(err, LiveError::Unauthorized { .. }), "{err}");
    // The current context points at port 1, where nothing listens.
    let mut opts = options(server.kubeconfig(dir.path(), "test-token"), "broken");
    opts.context = None;
    let err = fetch_objects(&opts).unwrap_err();
    assert!(matches!(err, LiveError::Transport { .. }), "{err}");
    let err = fetch_objects(&options(dir.path().join("missing"), "test")).unwrap_err();
    assert!(matches!(err, LiveError::Config(_)), "{err}");
}

#[test]
fn shipped_rbac_yaml_grants_list_on_exactly_the_kinds_listed() {
    use kubecis::policies::objects::Objects;
    use kubecis::policies::rbac::{Rbac, Request, Scope, Subject};
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/rbac.yaml");
    let rbac = Rbac::from_objects(&Objects::load(&[path]).unwrap());
    let me = Subject::from_user_name("system:serviceaccount:kubecis:kubecis");
    for (group, _, kind, plural) in KINDS {
        let list = Request::resource("list", group, plural).scope(Scope::Cluster);
        assert!(rbac.subject_allows(&me, &list), "cannot list {kind}");
        let write = Request::resource("create", group, plural).scope(Scope::Cluster);
        assert!(!rbac.subject_allows(&me, &write), "may create {kind}");
    }
    let role = rbac.roles.iter().find(|r| r.name == "kubecis").unwrap();
    let granted: usize = role.rules.iter().map(|r| r.resources.len()).sum();
    assert_eq!(granted, KINDS.len(), "rbac.yaml grants more than KINDS");
    assert!(!rbac.subject_allows(
        &me,
        &Request::resource("get", "", "secrets").scope(Scope::Cluster)
    ));
}
