//! The Kubernetes RBAC authorizer, evaluated offline over API objects.
//!
//! [`Rbac::from_objects`] resolves Roles, ClusterRoles (including aggregated ClusterRoles, whose
//! rules the cluster's aggregation controller would fill in from the ClusterRoles their label
//! selectors match), RoleBindings and ClusterRoleBindings. [`Rbac::allows`] answers "may this
//! identity do this?" exactly as the API server's RBAC authorizer does; [`Rbac::who_can`] answers
//! the reverse question and names every subject with the binding and role that grant it, which is
//! what a CIS 5.1 finding has to show.
//!
//! Rules are indexed by verb and resource once, so `who_can` looks at the few rules that can
//! match instead of every rule of every role; bindings are indexed by the role they reference.

pub mod checks;
pub mod commands;
pub mod defaults;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::policies::objects::{Object, Objects};

/// The kinds this module reads.
pub const RBAC_KINDS: [&str; 4] = ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];

/// A subject as a binding names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    User(String),
    Group(String),
    ServiceAccount { namespace: String, name: String },
}

impl Subject {
    /// Reads a user name as `kubectl --as` does: `system:serviceaccount:<ns>:<name>` is a service
    /// account, anything else a user.
    pub fn from_user_name(name: &str) -> Subject {
        if let Some(rest) = name.strip_prefix("system:serviceaccount:") {
            if let Some((ns, sa)) = rest.split_once(':') {
                if !ns.is_empty() && !sa.is_empty() && !sa.contains(':') {
                    return Subject::ServiceAccount {
                        namespace: ns.to_string(),
                        name: sa.to_string(),
                    };
                }
            }
        }
        Subject::User(name.to_string())
    }

    /// The user name the API server gives this subject, if it is one identity (not a group).
    pub fn user_name(&self) -> Option<String> {
        match self {
            Subject::User(u) => Some(u.clone()),
            Subject::Group(_) => None,
            Subject::ServiceAccount { namespace, name } => {
                Some(format!("system:serviceaccount:{namespace}:{name}"))
            }
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(n) => write!(f, "User {n}"),
            Subject::Group(n) => write!(f, "Group {n}"),
            Subject::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
        }
    }
}

/// Who is asking: a user name and its groups, as the authenticator hands them to the authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: BTreeSet<String>,
}

impl Identity {
    /// The identity the API server would see for `subject`, with the groups it adds implicitly:
    /// every authenticated user is in `system:authenticated` (the anonymous user in
    /// `system:unauthenticated` instead), and a service account is also in
    /// `system:serviceaccounts` and `system:serviceaccounts:<namespace>`.
    pub fn of(subject: &Subject) -> Identity {
        let mut groups = BTreeSet::new();
        let user = match subject {
            Subject::User(name) => {
                if name == "system:anonymous" {
                    groups.insert("system:unauthenticated".to_string());
                } else {
                    groups.insert("system:authenticated".to_string());
                }
                name.clone()
            }
            Subject::Group(group) => {
                groups.insert(group.clone());
                String::new()
            }
            Subject::ServiceAccount { namespace, .. } => {
                groups.insert("system:serviceaccounts".to_string());
                groups.insert(format!("system:serviceaccounts:{namespace}"));
                groups.insert("system:authenticated".to_string());
                subject.user_name().unwrap_or_default()
            }
        };
        Identity { user, groups }
    }

    pub fn with_groups<I: IntoIterator<Item = String>>(mut self, groups: I) -> Identity {
        self.groups.extend(groups);
        self
    }

    fn is(&self, subject: &Subject) -> bool {
        match subject {
            Subject::User(name) => !self.user.is_empty() && self.user == *name,
            Subject::Group(group) => self.groups.contains(group),
            Subject::ServiceAccount { .. } => {
                subject.user_name().as_deref() == Some(self.user.as_str())
            }
        }
    }
}

/// Where a resource request applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A cluster-scoped request (namespaces, nodes, or "in all namespaces"): only
    /// ClusterRoleBindings grant it.
    Cluster,
    /// A request in one namespace: ClusterRoleBindings and that namespace's RoleBindings.
    Namespace(String),
    /// Allowed in at least one namespace: every binding counts, each in its own scope. Not a
    /// request the API server ever sees; it is the question "who can do this anywhere?".
    AnyNamespace,
}

/// Which object a resource request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceName {
    /// No name (list, watch, create, deletecollection): rules limited by `resourceNames` never
    /// match.
    Unnamed,
    /// One named object.
    Named(String),
    /// At least one object: rules limited by `resourceNames` match too.
    Any,
}

/// What is being asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Resource {
        api_group: String,
        resource: String,
        subresource: String,
        name: ResourceName,
        scope: Scope,
    },
    NonResource {
        path: String,
    },
}

/// One authorization question: a verb on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub verb: String,
    pub target: Target,
}

impl Request {
    /// A resource request in any namespace, on any object; refine with the builder methods.
    pub fn resource(verb: &str, api_group: &str, resource: &str) -> Request {
        let (resource, subresource) = match resource.split_once('/') {
            Some((r, s)) => (r.to_string(), s.to_string()),
            None => (resource.to_string(), String::new()),
        };
        Request {
            verb: verb.to_string(),
            target: Target::Resource {
                api_group: api_group.to_string(),
                resource,
                subresource,
                name: ResourceName::Any,
                scope: Scope::AnyNamespace,
            },
        }
    }

    pub fn non_resource(verb: &str, path: &str) -> Request {
        Request {
            verb: verb.to_string(),
            target: Target::NonResource {
                path: path.to_string(),
            },
        }
    }

    pub fn scope(mut self, new_scope: Scope) -> Request {
        if let Target::Resource { scope, .. } = &mut self.target {
            *scope = new_scope;
        }
        self
    }

    pub fn name(mut self, new_name: ResourceName) -> Request {
        if let Target::Resource { name, .. } = &mut self.target {
            *name = new_name;
        }
        self
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::NonResource { path } => write!(f, "{} {}", self.verb, path),
            Target::Resource {
                api_group,
                resource,
                subresource,
                ..
            } => {
                write!(f, "{} {}", self.verb, resource)?;
                if !subresource.is_empty() {
                    write!(f, "/{subresource}")?;
                }
                if !api_group.is_empty() {
                    write!(f, ".{api_group}")?;
                }
                Ok(())
            }
        }
    }
}

/// One rule of a role, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

impl Rule {
    fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    fn allows(&self, request: &Request) -> bool {
        if !self.verb_matches(&request.verb) {
            return false;
        }
        match &request.target {
            Target::NonResource { path } => self.non_resource_urls.iter().any(|rule| {
                rule == "*"
                    || rule == path
                    || rule
                        .strip_suffix('*')
                        .is_some_and(|prefix| path.starts_with(prefix))
            }),
            Target::Resource {
                api_group,
                resource,
                subresource,
                name,
                ..
            } => {
                self.api_groups.iter().any(|g| g == "*" || g == api_group)
                    && self.resource_matches(resource, subresource)
                    && self.name_matches(name)
            }
        }
    }

    /// The authorizer's resource match: `*` matches everything, `pods` matches only the
    /// resource itself, `pods/exec` the subresource, and `*/scale` that subresource of any
    /// resource.
    fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|rule| {
            if rule == "*" {
                return true;
            }
            if subresource.is_empty() {
                return rule == resource;
            }
            match rule.split_once('/') {
                Some((r, s)) => s == subresource && (r == resource || r == "*"),
                None => false,
            }
        })
    }

    fn name_matches(&self, name: &ResourceName) -> bool {
        if self.resource_names.is_empty() {
            return true;
        }
        match name {
            ResourceName::Unnamed => false,
            ResourceName::Any => true,
            ResourceName::Named(n) => self.resource_names.iter().any(|r| r == n),
        }
    }

    /// True when any field the rule matches on holds `*`.
    pub fn has_wildcard(&self) -> bool {
        [
            &self.verbs,
            &self.api_groups,
            &self.resources,
            &self.non_resource_urls,
        ]
        .iter()
        .any(|list| list.iter().any(|v| v == "*" || v.starts_with("*/")))
    }
}

/// Role or ClusterRole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

/// RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

/// A role, resolved: for an aggregated ClusterRole, `rules` holds the aggregated rules.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    /// "" for a ClusterRole.
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The rules written on the object itself.
    pub own_rules: Vec<Rule>,
    /// The rules in effect (own rules plus aggregated ones).
    pub rules: Vec<Rule>,
    /// ClusterRoles whose rules were aggregated into this one.
    pub aggregated_from: Vec<String>,
}

impl Role {
    /// `ClusterRole/name` or `Role/namespace/name`.
    pub fn display_name(&self) -> String {
        match self.kind {
            RoleKind::ClusterRole => format!("ClusterRole/{}", self.name),
            RoleKind::Role => format!("Role/{}/{}", self.namespace, self.name),
        }
    }
}

/// A binding, resolved.
#[derive(Debug, Clone)]
pub struct Binding {
    pub kind: BindingKind,
    /// "" for a ClusterRoleBinding.
    pub namespace: String,
    pub name: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    /// Index into [`Rbac::roles`], `None` when the referenced role does not exist (such a
    /// binding grants nothing, as in the API server).
    pub role: Option<usize>,
}

impl Binding {
    /// `ClusterRoleBinding/name` or `RoleBinding/namespace/name`.
    pub fn display_name(&self) -> String {
        match self.kind {
            BindingKind::ClusterRoleBinding => format!("ClusterRoleBinding/{}", self.name),
            BindingKind::RoleBinding => format!("RoleBinding/{}/{}", self.namespace, self.name),
        }
    }

    /// `ClusterRole/name` or `Role/namespace/name`, as the roleRef names it.
    pub fn role_display_name(&self) -> String {
        match self.role_kind {
            RoleKind::ClusterRole => format!("ClusterRole/{}", self.role_name),
            RoleKind::Role => format!("Role/{}/{}", self.namespace, self.role_name),
        }
    }

    fn applies_in(&self, scope: &Scope) -> bool {
        match self.kind {
            BindingKind::ClusterRoleBinding => true,
            BindingKind::RoleBinding => match scope {
                Scope::Cluster => false,
                Scope::Namespace(ns) => *ns == self.namespace,
                Scope::AnyNamespace => true,
            },
        }
    }
}

/// One way a request is granted: this subject, through this binding, holding this role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub subject: Subject,
    /// `ClusterRoleBinding/name` or `RoleBinding/namespace/name`.
    pub binding: String,
    /// `ClusterRole/name` or `Role/namespace/name`.
    pub role: String,
    /// Index into [`Rbac::bindings`].
    pub binding_index: usize,
    /// When every matching rule is limited by `resourceNames`, those names; empty when the grant
    /// covers every object.
    pub only_names: Vec<String>,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} via {} ({})", self.subject, self.binding, self.role)?;
        if !self.only_names.is_empty() {
            write!(f, " [only: {}]", self.only_names.join(", "))?;
        }
        Ok(())
    }
}

/// The RBAC state of a cluster, indexed for questions.
#[derive(Debug, Default)]
pub struct Rbac {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    /// Objects that could not be understood (e.g. a binding without `roleRef`), one message
    /// each. They may hide grants, so checks must not PASS while this is non-empty.
    pub problems: Vec<String>,
    role_by_key: HashMap<(RoleKind, String, String), usize>,
    bindings_by_role: Vec<Vec<usize>>,
    /// verb -> rule resource -> (role, rule) pairs; `*` keys are kept as written.
    resource_index: HashMap<String, HashMap<String, Vec<(u32, u32)>>>,
    /// (role, rule) pairs with nonResourceURLs.
    non_resource_rules: Vec<(u32, u32)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMeta {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawRole {
    metadata: RawMeta,
    rules: Option<Vec<Rule>>,
    aggregation_rule: Option<RawAggregation>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawAggregation {
    cluster_role_selectors: Vec<LabelSelector>,
}

/// A label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelExpression>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct LabelExpression {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Kubernetes selector semantics; an empty selector matches everything.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBinding {
    #[serde(default)]
    metadata: RawMeta,
    role_ref: RawRoleRef,
    #[serde(default)]
    subjects: Option<Vec<RawSubject>>,
}

#[derive(Deserialize)]
struct RawRoleRef {
    kind: String,
    name: String,
}

#[derive(Deserialize)]
struct RawSubject {
    kind: String,
    name: String,
    #[serde(default)]
    namespace: String,
}

fn decode<T: for<'de> Deserialize<'de>>(object: &Object) -> Result<T, String> {
    T::deserialize(&object.value)
        .map_err(|e| format!("{} ({}): {e}", object.display_name(), object.origin))
}

impl Rbac {
    /// Resolves every RBAC object in `objects`. Objects that cannot be understood are recorded in
    /// [`Rbac::problems`] rather than failing the whole set.
    pub fn from_objects(objects: &Objects) -> Rbac {
        let mut rbac = Rbac::default();
        let mut selectors: Vec<(usize, Vec<LabelSelector>)> = Vec::new();

        for object in objects.items.iter() {
            let kind = match object.kind() {
                "ClusterRole" => RoleKind::ClusterRole,
                "Role" => RoleKind::Role,
                _ => continue,
            };
            let raw: RawRole = match decode(object) {
                Ok(r) => r,
                Err(e) => {
                    rbac.problems.push(e);
                    continue;
                }
            };
            let namespace = match kind {
                RoleKind::ClusterRole => String::new(),
                RoleKind::Role => raw.metadata.namespace.clone(),
            };
            if kind == RoleKind::Role && namespace.is_empty() {
                rbac.problems.push(format!(
                    "{} ({}): Role without metadata.namespace",
                    object.display_name(),
                    object.origin
                ));
                continue;
            }
            let own_rules = raw.rules.unwrap_or_default();
            let index = rbac.roles.len();
            if let Some(agg) = raw.aggregation_rule {
                if kind == RoleKind::ClusterRole {
                    selectors.push((index, agg.cluster_role_selectors));
                }
            }
            rbac.role_by_key
                .insert((kind, namespace.clone(), raw.metadata.name.clone()), index);
            rbac.roles.push(Role {
                kind,
                namespace,
                name: raw.metadata.name,
                labels: raw.metadata.labels,
                rules: own_rules.clone(),
                own_rules,
                aggregated_from: Vec::new(),
            });
        }
        rbac.aggregate(&selectors);

        for object in objects.items.iter() {
            let kind = match object.kind() {
                "ClusterRoleBinding" => BindingKind::ClusterRoleBinding,
                "RoleBinding" => BindingKind::RoleBinding,
                _ => continue,
            };
            match rbac.resolve_binding(kind, object) {
                Ok(binding) => rbac.bindings.push(binding),
                Err(e) => rbac.problems.push(e),
            }
        }
        rbac.build_index();
        rbac
    }

    /// Fills aggregated ClusterRoles with the rules of every ClusterRole their selectors match,
    /// following aggregation through other aggregated roles (the controller converges to that).
    fn aggregate(&mut self, selectors: &[(usize, Vec<LabelSelector>)]) {
        let by_index: HashMap<usize, &Vec<LabelSelector>> =
            selectors.iter().map(|(i, s)| (*i, s)).collect();
        for (start, _) in selectors {
            let mut seen = BTreeSet::from([*start]);
            let mut stack = vec![*start];
            let mut rules = self.roles[*start].own_rules.clone();
            let mut from = Vec::new();
            while let Some(current) = stack.pop() {
                let Some(sels) = by_index.get(&current) else {
                    continue;
                };
                for (i, role) in self.roles.iter().enumerate() {
                    if role.kind != RoleKind::ClusterRole || seen.contains(&i) {
                        continue;
                    }
                    if sels.iter().any(|s| s.matches(&role.labels)) {
                        seen.insert(i);
                        stack.push(i);
                        from.push(role.name.clone());
                        for rule in &role.own_rules {
                            if !rules.contains(rule) {
                                rules.push(rule.clone());
                            }
                        }
                    }
                }
            }
            from.sort();
            self.roles[*start].rules = rules;
            self.roles[*start].aggregated_from = from;
        }
    }

    fn resolve_binding(&self, kind: BindingKind, object: &Object) -> Result<Binding, String> {
        let raw: RawBinding = decode(object)?;
        let where_ = || format!("{} ({})", object.display_name(), object.origin);
        let namespace = match kind {
            BindingKind::ClusterRoleBinding => String::new(),
            BindingKind::RoleBinding if raw.metadata.namespace.is_empty() => {
                return Err(format!(
                    "{}: RoleBinding without metadata.namespace",
                    where_()
                ))
            }
            BindingKind::RoleBinding => raw.metadata.namespace.clone(),
        };
        let role_kind = match (kind, raw.role_ref.kind.as_str()) {
            (_, "ClusterRole") => RoleKind::ClusterRole,
            (BindingKind::RoleBinding, "Role") => RoleKind::Role,
            (_, other) => {
                return Err(format!(
                    "{}: roleRef.kind {other:?} is not allowed here",
                    where_()
                ))
            }
        };
        let mut subjects = Vec::new();
        for s in raw.subjects.unwrap_or_default() {
            let subject = match s.kind.as_str() {
                "User" => Subject::User(s.name),
                "Group" => Subject::Group(s.name),
                "ServiceAccount" => {
                    // A RoleBinding's service account subject defaults to the binding's namespace.
                    let ns = if s.namespace.is_empty() {
                        namespace.clone()
                    } else {
                        s.namespace
                    };
                    if ns.is_empty() {
                        return Err(format!(
                            "{}: ServiceAccount subject {:?} has no namespace",
                            where_(),
                            s.name
                        ));
                    }
                    Subject::ServiceAccount {
                        namespace: ns,
                        name: s.name,
                    }
                }
                other => return Err(format!("{}: unknown subject kind {other:?}", where_())),
            };
            subjects.push(subject);
        }
        let role_ns = match role_kind {
            RoleKind::ClusterRole => String::new(),
            RoleKind::Role => namespace.clone(),
        };
        let role = self
            .role_by_key
            .get(&(role_kind, role_ns, raw.role_ref.name.clone()))
            .copied();
        Ok(Binding {
            kind,
            namespace,
            name: raw.metadata.name,
            role_kind,
            role_name: raw.role_ref.name,
            subjects,
            role,
        })
    }

    fn build_index(&mut self) {
        self.bindings_by_role = vec![Vec::new(); self.roles.len()];
        for (i, b) in self.bindings.iter().enumerate() {
            if let Some(r) = b.role {
                self.bindings_by_role[r].push(i);
            }
        }
        for (ri, role) in self.roles.iter().enumerate() {
            // Only bound roles can grant anything.
            if self.bindings_by_role[ri].is_empty() {
                continue;
            }
            for (ui, rule) in role.rules.iter().enumerate() {
                let entry = (ri as u32, ui as u32);
                if !rule.non_resource_urls.is_empty() {
                    self.non_resource_rules.push(entry);
                }
                for verb in &rule.verbs {
                    let by_resource = self.resource_index.entry(verb.clone()).or_default();
                    for resource in &rule.resources {
                        by_resource.entry(resource.clone()).or_default().push(entry);
                    }
                }
            }
        }
    }

    /// The (role, rule) pairs that may match `request`, from the index.
    fn candidate_rules(&self, request: &Request) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        match &request.target {
            Target::NonResource { .. } => out.extend_from_slice(&self.non_resource_rules),
            Target::Resource {
                resource,
                subresource,
                ..
            } => {
                let mut keys = vec!["*".to_string()];
                if subresource.is_empty() {
                    keys.push(resource.clone());
                } else {
                    keys.push(format!("{resource}/{subresource}"));
                    keys.push(format!("*/{subresource}"));
                }
                for verb in [request.verb.as_str(), "*"] {
                    if let Some(by_resource) = self.resource_index.get(verb) {
                        for key in &keys {
                            if let Some(entries) = by_resource.get(key) {
                                out.extend_from_slice(entries);
                            }
                        }
                    }
                }
                out.sort_unstable();
                out.dedup();
            }
        }
        out
    }

    /// The scope a binding must apply in for `request`. Non-resource requests are
    /// cluster-scoped: only ClusterRoleBindings grant them.
    fn request_scope(request: &Request) -> Scope {
        match &request.target {
            Target::Resource { scope, .. } => scope.clone(),
            Target::NonResource { .. } => Scope::Cluster,
        }
    }

    /// Whether `identity` may make `request`, as the RBAC authorizer decides.
    pub fn allows(&self, identity: &Identity, request: &Request) -> bool {
        let scope = Self::request_scope(request);
        self.candidate_rules(request).into_iter().any(|(ri, ui)| {
            let rule = &self.roles[ri as usize].rules[ui as usize];
            rule.allows(request)
                && self.bindings_by_role[ri as usize].iter().any(|&bi| {
                    let b = &self.bindings[bi];
                    b.applies_in(&scope) && b.subjects.iter().any(|s| identity.is(s))
                })
        })
    }

    /// Shorthand for [`Rbac::allows`] with the implicit groups of `subject`.
    pub fn subject_allows(&self, subject: &Subject, request: &Request) -> bool {
        self.allows(&Identity::of(subject), request)
    }

    /// Every subject granted `request`, with the binding and role granting it; sorted, one
    /// entry per (subject, binding).
    pub fn who_can(&self, request: &Request) -> Vec<Grant> {
        let scope = Self::request_scope(request);
        // binding -> names limits (None = unrestricted)
        let mut granting: BTreeMap<usize, Option<BTreeSet<String>>> = BTreeMap::new();
        for (ri, ui) in self.candidate_rules(request) {
            let rule = &self.roles[ri as usize].rules[ui as usize];
            if !rule.allows(request) {
                continue;
            }
            for &bi in &self.bindings_by_role[ri as usize] {
                if !self.bindings[bi].applies_in(&scope) {
                    continue;
                }
                let limit = granting.entry(bi).or_insert_with(|| Some(BTreeSet::new()));
                if rule.resource_names.is_empty() {
                    *limit = None;
                } else if let Some(names) = limit {
                    names.extend(rule.resource_names.iter().cloned());
                }
            }
        }
        let mut grants = Vec::new();
        for (bi, limit) in granting {
            let b = &self.bindings[bi];
            let only_names: Vec<String> =
                limit.map(|s| s.into_iter().collect()).unwrap_or_default();
            for subject in &b.subjects {
                grants.push(Grant {
                    subject: subject.clone(),
                    binding: b.display_name(),
                    role: b.role_display_name(),
                    binding_index: bi,
                    only_names: only_names.clone(),
                });
            }
        }
        grants.sort();
        grants.dedup();
        grants
    }

    /// The role a binding references, if it exists.
    pub fn role_of(&self, binding: &Binding) -> Option<&Role> {
        binding.role.map(|i| &self.roles[i])
    }

    /// Bindings whose roleRef names the ClusterRole `name` (by ClusterRoleBindings or
    /// RoleBindings).
    pub fn bindings_to_cluster_role<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Binding> + 'a {
        self.bindings
            .iter()
            .filter(move |b| b.role_kind == RoleKind::ClusterRole && b.role_name == name)
    }

    /// Whether the input held any RBAC object at all.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.bindings.is_empty()
    }
}

/// Reads the `labels` of an object (used by callers that look at raw objects).
pub fn labels_of(value: &Value) -> BTreeMap<String, String> {
    value
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rbac(yaml: &str) -> Rbac {
        let mut o = Objects::default();
        o.add_text("t.yaml", yaml).unwrap();
        Rbac::from_objects(&o)
    }

    fn sa(ns: &str, name: &str) -> Subject {
        Subject::ServiceAccount {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    const PODS: &str = r#"
kind: Role
metadata: {name: pod-role, namespace: default}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list]}
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
- {apiGroups: [apps], resources: ["*/scale"], verbs: [update]}
- {apiGroups: [""], resources: [configmaps], verbs: [get], resourceNames: [app-config]}
---
kind: RoleBinding
metadata: {name: pod-rolebinding, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-role}
subjects:
- {kind: ServiceAccount, name: pod-sa}
"#;

    #[test]
    fn role_binding_grants_only_in_its_namespace_and_only_its_verbs() {
        let r = rbac(PODS);
        let s = sa("default", "pod-sa");
        let list = |ns: &str| {
            Request::resource("list", "", "pods")
                .scope(Scope::Namespace(ns.into()))
                .name(ResourceName::Unnamed)
        };
        assert!(r.subject_allows(&s, &list("default")));
        assert!(!r.subject_allows(&s, &list("kube-system")));
        assert!(!r.subject_allows(&s, &list("default").scope(Scope::Cluster)));
        let create =
            Request::resource("create", "", "pods").scope(Scope::Namespace("default".into()));
        assert!(!r.subject_allows(&s, &create));
        // Someone else's service account of the same name in another namespace gets nothing.
        assert!(!r.subject_allows(&sa("other", "pod-sa"), &list("other")));
    }

    #[test]
    fn subresources_match_as_the_authorizer_does() {
        let r = rbac(PODS);
        let s = sa("default", "pod-sa");
        let ns = Scope::Namespace("default".into());
        let req = |verb: &str, group: &str, res: &str| {
            Request::resource(verb, group, res).scope(ns.clone())
        };
        assert!(r.subject_allows(&s, &req("create", "", "pods/exec")));
        // `pods` does not cover its subresources.
        assert!(!r.subject_allows(&s, &req("list", "", "pods/log")));
        // `*/scale` covers the scale subresource of any resource in the group, not the resource.
        assert!(r.subject_allows(&s, &req("update", "apps", "deployments/scale")));
        assert!(r.subject_allows(&s, &req("update", "apps", "statefulsets/scale")));
        assert!(!r.subject_allows(&s, &req("update", "apps", "deployments")));
        assert!(!r.subject_allows(&s, &req("update", "", "replicationcontrollers/scale")));
    }

    #[test]
    fn resource_names_limit_named_requests_only() {
        let r = rbac(PODS);
        let s = sa("default", "pod-sa");
        let get = |name: ResourceName| {
            Request::resource("get", "", "configmaps")
                .scope(Scope::Namespace("default".into()))
                .name(name)
        };
        assert!(r.subject_allows(&s, &get(ResourceName::Named("app-config".into()))));
        assert!(!r.subject_allows(&s, &get(ResourceName::Named("other".into()))));
        assert!(!r.subject_allows(&s, &get(ResourceName::Unnamed)));
        let grants = r.who_can(&get(ResourceName::Any));
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].only_names, ["app-config"]);
    }

    #[test]
    fn service_accounts_get_their_implicit_groups_and_user_name() {
        let r = rbac(
            r#"
kind: ClusterRole
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
kind: ClusterRoleBinding
metadata: {name: all-sa-in-team}
roleRef: {kind: ClusterRole, name: reader}
subjects: [{kind: Group, name: "system:serviceaccounts:team"}]
---
kind: RoleBinding
metadata: {name: by-user-name, namespace: ops}
roleRef: {kind: ClusterRole, name: reader}
subjects: [{kind: User, name: "system:serviceaccount:ops:bot"}]
"#,
        );
        let get =
            |ns: &str| Request::resource("get", "", "secrets").scope(Scope::Namespace(ns.into()));
        assert!(r.subject_allows(&sa("team", "x"), &get("anywhere")));
        assert!(!r.subject_allows(&sa("other", "x"), &get("anywhere")));
        assert!(r.subject_allows(
            &Subject::from_user_name("system:serviceaccount:ops:bot"),
            &get("ops")
        ));
        assert!(!r.subject_allows(&sa("ops", "bot"), &get("default")));
        assert!(!r.subject_allows(
            &Subject::User("system:serviceaccounts:team".into()),
            &get("x")
        ));
    }

    #[test]
    fn wildcards_and_non_resource_urls() {
        let r = rbac(
            r#"
kind: ClusterRole
metadata: {name: god}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
- {nonResourceURLs: ["/healthz", "/logs/*"], verbs: [get]}
---
kind: ClusterRoleBinding
metadata: {name: god}
roleRef: {kind: ClusterRole, name: god}
subjects: [{kind: User, name: alice}]
---
kind: RoleBinding
metadata: {name: god-in-ns, namespace: dev}
roleRef: {kind: ClusterRole, name: god}
subjects: [{kind: User, name: bob}]
"#,
        );
        let alice = Subject::User("alice".into());
        let bob = Subject::User("bob".into());
        let nodes = Request::resource("delete", "", "nodes/proxy").scope(Scope::Cluster);
        assert!(r.subject_allows(&alice, &nodes));
        assert!(!r.subject_allows(&bob, &nodes));
        let x = Request::resource("escalate", "rbac.authorization.k8s.io", "roles")
            .scope(Scope::Namespace("dev".into()));
        assert!(r.subject_allows(&bob, &x));
        assert!(r.subject_allows(&alice, &Request::non_resource("get", "/logs/kube.log")));
        assert!(r.subject_allows(&alice, &Request::non_resource("get", "/healthz")));
        assert!(!r.subject_allows(&alice, &Request::non_resource("get", "/healthz/ready")));
        assert!(!r.subject_allows(&alice, &Request::non_resource("post", "/healthz")));
        // Non-resource rules never flow through RoleBindings.
        assert!(!r.subject_allows(&bob, &Request::non_resource("get", "/healthz")));
    }

    #[test]
    fn aggregated_cluster_roles_collect_matching_rules_transitively() {
        let r = rbac(
            r#"
kind: ClusterRole
metadata: {name: top}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {agg/top: "true"}
rules: []
---
kind: ClusterRole
metadata: {name: middle, labels: {agg/top: "true"}}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: tier, operator: In, values: [low, lower]}]
---
kind: ClusterRole
metadata: {name: leaf, labels: {tier: low}}
rules: [{apiGroups: [""], resources: [secrets], verbs: [list]}]
---
kind: ClusterRole
metadata: {name: unrelated, labels: {tier: high}}
rules: [{apiGroups: [""], resources: [nodes], verbs: [delete]}]
---
kind: ClusterRoleBinding
metadata: {name: top}
roleRef: {kind: ClusterRole, name: top}
subjects: [{kind: Group, name: readers}]
"#,
        );
        let g = Subject::Group("readers".into());
        assert!(r.subject_allows(
            &g,
            &Request::resource("list", "", "secrets").scope(Scope::Cluster)
        ));
        assert!(!r.subject_allows(
            &g,
            &Request::resource("delete", "", "nodes").scope(Scope::Cluster)
        ));
        let top = r.roles.iter().find(|x| x.name == "top").unwrap();
        assert_eq!(top.aggregated_from, ["leaf", "middle"]);
    }

    #[test]
    fn label_selector_operators() {
        let labels: BTreeMap<String, String> = [("a".to_string(), "1".to_string())].into();
        let sel = |yaml: &str| crate::yaml::from_str::<LabelSelector>("selector", yaml).unwrap();
        assert!(sel("{}").matches(&labels));
        assert!(sel("matchExpressions: [{key: a, operator: Exists}]").matches(&labels));
        assert!(!sel("matchExpressions: [{key: a, operator: DoesNotExist}]").matches(&labels));
        assert!(sel("matchExpressions: [{key: b, operator: NotIn, values: [x]}]").matches(&labels));
        assert!(
            !sel("matchExpressions: [{key: a, operator: NotIn, values: ['1']}]").matches(&labels)
        );
        assert!(!sel("matchLabels: {a: '2'}").matches(&labels));
    }

    #[test]
    fn who_can_names_subject_binding_and_role() {
        let r = rbac(PODS);
        let grants = r.who_can(&Request::resource("list", "", "pods"));
        let shown: Vec<String> = grants.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["ServiceAccount default/pod-sa via RoleBinding/default/pod-rolebinding (Role/default/pod-role)"]
        );
        assert!(r
            .who_can(&Request::resource("list", "", "pods").scope(Scope::Cluster))
            .is_empty());
    }

    #[test]
    fn broken_objects_are_problems_not_panics_and_missing_roles_grant_nothing() {
        let r = rbac(
            r#"
kind: ClusterRoleBinding
metadata: {name: no-ref}
subjects: [{kind: User, name: a}]
---
kind: ClusterRoleBinding
metadata: {name: to-role}
roleRef: {kind: Role, name: x}
---
kind: ClusterRoleBinding
metadata: {name: dangling}
roleRef: {kind: ClusterRole, name: does-not-exist}
subjects: [{kind: User, name: a}]
"#,
        );
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert!(
            r.problems[0].contains("ClusterRoleBinding/no-ref"),
            "{:?}",
            r.problems
        );
        assert!(r.problems[0].contains("roleRef"), "{:?}", r.problems);
        assert_eq!(r.bindings.len(), 1);
        assert!(r.bindings[0].role.is_none());
        assert!(r.who_can(&Request::resource("get", "", "pods")).is_empty());
    }
}
