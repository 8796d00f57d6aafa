//! Where the pod template lives in each kind of workload object, so pod-level checks see every
//! controller the same way and name fields by their full path in the object the user wrote
//! (`spec.template.spec.containers[0]...` for a Deployment, `spec.jobTemplate.spec.template.spec`
//! for a CronJob).

use std::collections::HashSet;

use serde_json::Value;

use super::objects::{Object, Objects, Origin};

/// The pod spec and pod metadata of one object, with the paths at which they sit in it.
#[derive(Debug, Clone)]
pub struct PodTemplate<'a> {
    pub spec: &'a Value,
    /// The pod (template) metadata; `Value::Null` when the template has none.
    pub metadata: &'a Value,
    /// e.g. `spec.template.spec`
    pub spec_path: String,
    /// e.g. `spec.template.metadata`
    pub metadata_path: String,
}

impl<'a> PodTemplate<'a> {
    /// A bare pod spec at the paths a Pod object uses (`spec`, `metadata`).
    pub fn pod(spec: &'a Value, metadata: &'a Value) -> PodTemplate<'a> {
        PodTemplate {
            spec,
            metadata,
            spec_path: "spec".into(),
            metadata_path: "metadata".into(),
        }
    }

    /// `spec.os.name == "windows"`: the pod declares it runs on Windows.
    pub fn is_windows(&self) -> bool {
        self.spec.pointer("/os/name").and_then(Value::as_str) == Some("windows")
    }

    /// Every container with its path: init containers, containers, then ephemeral containers —
    /// the order and the set the admission controller visits.
    pub fn containers(&self) -> impl Iterator<Item = (String, &'a Value)> + '_ {
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |list| {
                let items: &'a [Value] = self
                    .spec
                    .get(list)
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                items
                    .iter()
                    .enumerate()
                    .map(move |(i, c)| (format!("{}.{list}[{i}]", self.spec_path), c))
            })
    }
}

/// Path segments from the object root to the pod spec and pod metadata, by kind.
fn template_location(kind: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    const TEMPLATE_SPEC: &[&str] = &["spec", "template", "spec"];
    const TEMPLATE_META: &[&str] = &["spec", "template", "metadata"];
    match kind {
        "Pod" => Some((&["spec"], &["metadata"])),
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => Some((TEMPLATE_SPEC, TEMPLATE_META)),
        "CronJob" => Some((
            &["spec", "jobTemplate", "spec", "template", "spec"],
            &["spec", "jobTemplate", "spec", "template", "metadata"],
        )),
        "PodTemplate" => Some((&["template", "spec"], &["template", "metadata"])),
        _ => None,
    }
}

/// A workload whose pod template is malformed: named by file, document, object and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: {object}: {field}: {message}")]
pub struct TemplateError {
    pub origin: Origin,
    pub object: String,
    pub field: String,
    pub message: String,
}

/// True when objects of `kind` carry a pod template.
pub fn has_pod_template(kind: &str) -> bool {
    template_location(kind).is_some()
}

/// The pod template of `object`: `Ok(None)` for kinds without one (Service, ConfigMap, ...),
/// an error when the kind should have one but it is missing or not shaped like a pod spec.
pub fn pod_template(object: &Object) -> Result<Option<PodTemplate<'_>>, TemplateError> {
    let Some((spec_at, meta_at)) = template_location(object.kind()) else {
        return Ok(None);
    };
    let err = |field: String, message: String| TemplateError {
        origin: object.origin.clone(),
        object: object.display_name(),
        field,
        message,
    };
    let spec_path = spec_at.join(".");
    let mut spec = &object.value;
    for key in spec_at {
        spec = spec.get(key).unwrap_or(&Value::Null);
    }
    if !spec.is_object() {
        let message = if spec.is_null() {
            "missing: the object has no pod spec".to_string()
        } else {
            "not a mapping".to_string()
        };
        return Err(err(spec_path, message));
    }
    let mut metadata = &object.value;
    for key in meta_at {
        metadata = metadata.get(key).unwrap_or(&Value::Null);
    }
    let template = PodTemplate {
        spec,
        metadata,
        spec_path,
        metadata_path: meta_at.join("."),
    };
    validate_shape(&template).map_err(|(field, message)| err(field, message))?;
    Ok(Some(template))
}

/// Rejects the shapes the API server would reject before any policy ran (a container list that
/// is not a list, a security context that is not a mapping), so checks never judge garbage.
fn validate_shape(t: &PodTemplate<'_>) -> Result<(), (String, String)> {
    let containers = t.spec.get("containers");
    match containers {
        Some(Value::Array(items)) if !items.is_empty() => {}
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err((
                format!("{}.containers", t.spec_path),
                "a pod needs at least one container".into(),
            ))
        }
        Some(_) => {
            return Err((
                format!("{}.containers", t.spec_path),
                "not a sequence".into(),
            ))
        }
    }
    for list in ["initContainers", "ephemeralContainers", "volumes"] {
        match t.spec.get(list) {
            None | Some(Value::Null) | Some(Value::Array(_)) => {}
            Some(_) => {
                return Err((format!("{}.{list}", t.spec_path), "not a sequence".into()));
            }
        }
    }
    expect_mapping(t.spec.get("securityContext"), || {
        format!("{}.securityContext", t.spec_path)
    })?;
    expect_mapping(Some(t.metadata), || t.metadata_path.clone())?;
    expect_mapping(t.metadata.get("annotations"), || {
        format!("{}.annotations", t.metadata_path)
    })?;
    for (path, c) in t.containers() {
        if !c.is_object() {
            return Err((path, "a container must be a mapping".into()));
        }
        expect_mapping(c.get("securityContext"), || {
            format!("{path}.securityContext")
        })?;
    }
    Ok(())
}

fn expect_mapping(
    v: Option<&Value>,
    path: impl FnOnce() -> String,
) -> Result<(), (String, String)> {
    match v {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err((path(), "not a mapping".into())),
    }
}

/// One object with a pod template.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    pub object: &'a Object,
    pub template: PodTemplate<'a>,
}

/// Every object with a pod template, minus the ones whose controlling owner is also in the input
/// (a live cluster lists a Deployment, its ReplicaSets and their Pods: the finding belongs to the
/// object a user edits, once). The first malformed template is an error.
pub fn workloads(objects: &Objects) -> Result<Vec<Workload<'_>>, TemplateError> {
    let (found, mut errors) = workloads_lenient(objects);
    match errors.is_empty() {
        true => Ok(found),
        false => Err(errors.swap_remove(0)),
    }
}

/// [`workloads`], keeping going past malformed templates: the well-formed workloads and the
/// errors of the others, for checks that judge what they can and say what they could not.
pub fn workloads_lenient(objects: &Objects) -> (Vec<Workload<'_>>, Vec<TemplateError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    // Controllers present, by (kind, namespace, name): one pass, so owner lookups stay O(1)
    // on clusters with thousands of Pods.
    let controllers: HashSet<(&str, &str, &str)> = objects
        .items
        .iter()
        .filter(|o| has_pod_template(o.kind()))
        .map(|o| (o.kind(), o.namespace(), o.name()))
        .collect();
    for object in &objects.items {
        match pod_template(object) {
            Ok(Some(template)) if !controller_in_input(object, &controllers) => {
                found.push(Workload { object, template })
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    (found, errors)
}

fn controller_in_input(object: &Object, controllers: &HashSet<(&str, &str, &str)>) -> bool {
    let Some(owners) = object
        .value
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
    else {
        return false;
    };
    owners
        .iter()
        .filter(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .any(|owner| {
            let kind = owner.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = owner.get("name").and_then(Value::as_str).unwrap_or("");
            controllers.contains(&(kind, object.namespace(), name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Objects {
        let mut o = Objects::default();
        o.add_text("w.yaml", text).unwrap();
        o
    }

    const CONTAINERS: &str = "containers: [{name: c, image: nginx}]";

    #[test]
    fn every_controller_kind_has_its_template_path() {
        let cases = [
            ("Pod", format!("spec: {{{CONTAINERS}}}"), "spec", "metadata"),
            (
                "Deployment",
                format!("spec: {{template: {{spec: {{{CONTAINERS}}}}}}}"),
                "spec.template.spec",
                "spec.template.metadata",
            ),
            (
                "CronJob",
                format!(
                    "spec: {{jobTemplate: {{spec: {{template: {{spec: {{{CONTAINERS}}}}}}}}}}}"
                ),
                "spec.jobTemplate.spec.template.spec",
                "spec.jobTemplate.spec.template.metadata",
            ),
        ];
        for kind in [
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "ReplicationController",
        ] {
            let objects = load(&format!(
                "kind: {kind}\nmetadata: {{name: x}}\nspec: {{template: {{spec: {{{CONTAINERS}}}}}}}\n"
            ));
            let t = pod_template(&objects.items[0]).unwrap().unwrap();
            assert_eq!(t.spec_path, "spec.template.spec", "{kind}");
            assert_eq!(t.containers().count(), 1);
        }
        for (kind, spec, spec_path, meta_path) in cases {
            let objects = load(&format!("kind: {kind}\nmetadata: {{name: x}}\n{spec}\n"));
            let t = pod_template(&objects.items[0]).unwrap().unwrap();
            assert_eq!(t.spec_path, spec_path, "{kind}");
            assert_eq!(t.metadata_path, meta_path, "{kind}");
            let (path, c) = t.containers().next().unwrap();
            assert_eq!(path, format!("{spec_path}.containers[0]"));
            assert_eq!(c["image"], "nginx");
        }
    }

    #[test]
    fn kinds_without_template_are_skipped_and_broken_templates_named() {
        let objects = load(
            "kind: Service\nmetadata: {name: s}\n---\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec: {replicas: 1}\n",
        );
        assert!(pod_template(&objects.items[0]).unwrap().is_none());
        let e = pod_template(&objects.items[1]).unwrap_err();
        assert_eq!(e.field, "spec.template.spec");
        assert_eq!(
            e.to_string(),
            "w.yaml (document 2): Deployment/ns/d: spec.template.spec: missing: the object has no pod spec"
        );
        let objects = load("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, securityContext: [1]}]}\n");
        let e = pod_template(&objects.items[0]).unwrap_err();
        assert_eq!(e.field, "spec.containers[0].securityContext");
    }

    #[test]
    fn init_and_ephemeral_containers_are_visited_in_admission_order() {
        let objects = load(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  ephemeralContainers: [{name: e}]\n  containers: [{name: c}]\n  initContainers: [{name: i}]\n",
        );
        let t = pod_template(&objects.items[0]).unwrap().unwrap();
        let paths: Vec<String> = t.containers().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "spec.initContainers[0]",
                "spec.containers[0]",
                "spec.ephemeralContainers[0]"
            ]
        );
    }

    #[test]
    fn owned_pods_are_reported_through_their_controller() {
        let objects = load(
            "kind: ReplicaSet\nmetadata: {name: rs, namespace: ns}\nspec: {template: {spec: {containers: [{name: c}]}}}\n---\nkind: Pod\nmetadata: {name: rs-abc, namespace: ns, ownerReferences: [{kind: ReplicaSet, name: rs, controller: true}]}\nspec: {containers: [{name: c}]}\n---\nkind: Pod\nmetadata: {name: orphan, namespace: ns, ownerReferences: [{kind: ReplicaSet, name: gone, controller: true}]}\nspec: {containers: [{name: c}]}\n",
        );
        let names: Vec<String> = workloads(&objects)
            .unwrap()
            .iter()
            .map(|w| w.object.display_name())
            .collect();
        assert_eq!(names, ["ReplicaSet/ns/rs", "Pod/ns/orphan"]);
    }
}
