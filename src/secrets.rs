//! Which keys of a YAML/JSON document hold secrets: kubeconfig credentials (`token`,
//! `password`, `client-key-data`, auth-provider `id-token`, `refresh-token`, `client-secret`)
//! and EncryptionConfiguration keys (`secret`). Reports and snapshots never show their values.

/// Keys whose values are secrets.
pub const SECRET_KEYS: &[&str] = &[
    "secret",
    "token",
    "password",
    "client-key-data",
    "id-token",
    "refresh-token",
    "client-secret",
];

/// What replaces a secret value.
pub const REDACTED: &str = "REDACTED";

pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// A copy of `value` with every string under a secret key replaced by [`REDACTED`].
pub fn redact_value(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(_) if is_secret_key(k) => Value::String(REDACTED.into()),
                        other => redact_value(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_value).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_replaced_at_any_depth() {
        let v = json!({"aescbc": {"keys": [{"name": "key1", "secret": "c2VjcmV0IGlzIHNlY3VyZQ=="}]}, "token": 3});
        assert_eq!(
            redact_value(&v),
            json!({"aescbc": {"keys": [{"name": "key1", "secret": "REDACTED"}]}, "token": 3})
        );
    }
}
