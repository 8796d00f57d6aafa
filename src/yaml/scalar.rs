//! What a YAML scalar means when it is read untyped, the way Kubernetes reads it:
//! sigs.k8s.io/yaml runs go-yaml v2 (YAML 1.1) into `interface{}` and converts the result to
//! JSON. The rules here follow go-yaml v2's `resolve` and sigs.k8s.io/yaml's
//! `convertToJSONableObject`, case by case:
//!
//! - `y Y yes Yes YES on On ON true True TRUE` are true, `n N no No NO off Off OFF false False
//!   FALSE` false; `"" ~ null Null NULL` null; other spellings (`yEs`, `tRUE`) are strings.
//! - Integers as Go's `strconv.ParseInt(s, 0, 64)` reads them once every `_` is removed: `0x1F`
//!   is 31, `0o17` and `0644` octal (420), `0b101` binary, `+12` 12, `1_000` 1000; too large
//!   for `int64` but fitting `uint64` is unsigned; otherwise a decimal float if the text looks
//!   like one (`1.10` is 1.1, `08` is 8).
//! - `.inf`, `.nan` and friends are floats JSON cannot hold: Kubernetes refuses the document,
//!   and so does this module. A float that overflows (`1e400`) stays a string, as in Go.
//! - Timestamps stay strings (go-yaml keeps their text when decoding into `interface{}`).
//! - Quoted and block scalars are strings; an explicit core tag (`!!str`, `!!int`, `!!float`,
//!   `!!bool`, `!!null`) is obeyed or is an error; any other tag leaves the text a string.
//! - A float is written into JSON the way Go's encoder prints it, so an integral float below
//!   1e21 (`8080.0`, `1e3`) becomes a JSON integer, as it does on its way to the API server.
//! - Mapping keys become strings: integers in decimal, floats as Go's `FormatFloat(f, 'g', -1,
//!   32)` prints them (`1.10` is "1.1", `1e6` "1e+06"), booleans "true"/"false". A null key,
//!   an unsigned (> int64) key or a collection key is an error, as in sigs.k8s.io/yaml.

use serde_json::{Number, Value};

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// A scalar as go-yaml resolves it, before it becomes a JSON value or key.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}

/// How a scalar was written: enough to tell what it resolves to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Written<'a> {
    pub text: &'a str,
    /// Plain (not quoted, not a block scalar).
    pub plain: bool,
    /// The resolved tag URI, if the scalar carries one.
    pub tag: Option<&'a str>,
}

impl Written<'_> {
    /// The tag's name when it is a `tag:yaml.org,2002:` tag (`str`, `int`, `merge`, ...).
    fn core_tag(&self) -> Option<&str> {
        self.tag.and_then(|t| t.strip_prefix(CORE_PREFIX))
    }

    /// Whether this scalar, as a mapping key, is YAML 1.1's merge key `<<`.
    pub fn is_merge_key(&self) -> bool {
        self.text == "<<"
            && ((self.plain && self.tag.is_none()) || self.core_tag() == Some("merge"))
    }

    /// What the scalar means; `Err` names the conflict between an explicit tag and the text.
    pub fn resolve(&self) -> Result<Resolved, String> {
        if self.tag.is_none() {
            return Ok(if self.plain {
                resolve_plain(self.text)
            } else {
                Resolved::Str
            });
        };
        let want = match self.core_tag() {
            Some(t @ ("int" | "float" | "bool" | "null")) => t,
            Some("binary") => {
                return Err(
                    "`!!binary` values are not supported; write base64 text without the tag".into(),
                )
            }
            // `!!str`, `!!timestamp`, `!!merge` on a value, local and unknown tags: the text.
            _ => return Ok(Resolved::Str),
        };
        let resolved = resolve_plain(self.text);
        let ok = match (want, &resolved) {
            ("int", Resolved::Int(_) | Resolved::Uint(_))
            | ("bool", Resolved::Bool(_))
            | ("null", Resolved::Null)
            | ("float", Resolved::Float(_)) => true,
            ("float", Resolved::Int(i)) => return Ok(Resolved::Float(*i as f64)),
            ("float", Resolved::Uint(u)) => return Ok(Resolved::Float(*u as f64)),
            _ => false,
        };
        if ok {
            Ok(resolved)
        } else {
            Err(format!("cannot read `{}` as !!{want}", self.text))
        }
    }

    /// The scalar as a JSON value.
    pub fn value(&self) -> Result<Value, String> {
        Ok(match self.resolve()? {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::from(i),
            Resolved::Uint(u) => Value::from(u),
            Resolved::Float(f) => Value::Number(json_float(f).ok_or_else(|| {
                format!(
                    "`{}` is not a number JSON can hold (Kubernetes refuses it too)",
                    self.text
                )
            })?),
            Resolved::Str => Value::String(self.text.to_string()),
        })
    }

    /// The scalar as a JSON object key.
    pub fn key(&self) -> Result<String, String> {
        Ok(match self.resolve()? {
            Resolved::Str => self.text.to_string(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Float(f) => go_format_g32(f),
            Resolved::Null => return Err("a mapping key cannot be null".into()),
            Resolved::Uint(_) => {
                return Err(format!(
                    "mapping key `{}` is too large (Kubernetes refuses keys beyond int64)",
                    self.text
                ))
            }
        })
    }
}

/// go-yaml v2's resolution of an untagged plain scalar.
fn resolve_plain(text: &str) -> Resolved {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'.' => {
            if is_go_decimal_float(text) {
                if let Some(f) = parse_finite(text) {
                    return Resolved::Float(f);
                }
            }
            Resolved::Str
        }
        b'+' | b'-' | b'0'..=b'9' => resolve_number(text),
        _ => Resolved::Str,
    }
}

/// Integers, then floats, as go-yaml's `D`/`S` hint tries them.
fn resolve_number(text: &str) -> Resolved {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, unsigned) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    match go_parse_uint(unsigned) {
        Parsed::Ok(u) => {
            if negative {
                if u <= 1 << 63 {
                    return Resolved::Int((u as i64).wrapping_neg());
                }
            } else if let Ok(i) = i64::try_from(u) {
                return Resolved::Int(i);
            } else if unsigned.len() == plain.len() {
                // strconv.ParseUint takes no sign.
                return Resolved::Uint(u);
            }
        }
        Parsed::Syntax => {}
        Parsed::Range => {}
    }
    if is_yaml_style_float(&plain) {
        if let Some(f) = parse_finite(&plain) {
            return Resolved::Float(f);
        }
    }
    // An unsigned integer beyond uint64 written with a base prefix is a big.Int in go-yaml,
    // a long JSON number, and a float once read back.
    if unsigned.len() == plain.len() {
        if let Some(f) = big_prefixed(&plain) {
            return Resolved::Float(f);
        }
    }
    Resolved::Str
}

enum Parsed {
    Ok(u64),
    Syntax,
    Range,
}

/// Go's `strconv.ParseUint(s, 0, 64)` on text without `_` and without a sign.
fn go_parse_uint(s: &str) -> Parsed {
    let (base, digits) = go_base(s);
    if digits.is_empty() && !(base == 8 && s == "0") {
        return Parsed::Syntax;
    }
    let mut n: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(base) else {
            return Parsed::Syntax;
        };
        n = match n
            .checked_mul(base as u64)
            .and_then(|n| n.checked_add(d as u64))
        {
            Some(n) => n,
            None => {
                // Go reports a range error only after seeing every digit valid.
                return if digits.chars().all(|c| c.is_digit(base)) {
                    Parsed::Range
                } else {
                    Parsed::Syntax
                };
            }
        };
    }
    Parsed::Ok(n)
}

/// Base and digits of an unsigned integer literal, with Go's base-0 prefixes.
fn go_base(s: &str) -> (u32, &str) {
    let b = s.as_bytes();
    if b.first() != Some(&b'0') {
        return (10, s);
    }
    if b.len() >= 3 {
        match b[1] {
            b'b' | b'B' => return (2, &s[2..]),
            b'o' | b'O' => return (8, &s[2..]),
            b'x' | b'X' => return (16, &s[2..]),
            _ => {}
        }
    }
    (8, &s[1..])
}

/// A prefixed (or leading-zero octal) unsigned literal too large for uint64, as a float.
fn big_prefixed(s: &str) -> Option<f64> {
    let (base, digits) = go_base(s);
    if base == 10 || digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    Some(digits.chars().fold(0.0, |n, c| {
        n * base as f64 + c.to_digit(base).unwrap_or(0) as f64
    }))
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// What Go's `strconv.ParseFloat` accepts of a text starting with `.`: `.5`, `.5e3`.
fn is_go_decimal_float(s: &str) -> bool {
    s.starts_with('.') && is_yaml_style_float(s)
}

/// A finite float, or `None` where Go's `ParseFloat` reports a range error.
fn parse_finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The JSON number Go's encoder writes for `f`, as serde_json reads it back: integral values
/// below 1e21 are printed without a fraction and so read as integers.
fn json_float(f: f64) -> Option<Number> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 1e21 && !(f == 0.0 && f.is_sign_negative()) {
        if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
            return Some(Number::from(f as u64));
        }
        if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
            return Some(Number::from(f as i64));
        }
    }
    Number::from_f64(f)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, with go-yaml's spellings of the non-finite.
fn go_format_g32(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let x = f as f32;
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust prints the shortest digits that read back as the same f32, as Go does.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(text: &str) -> Written<'_> {
        Written {
            text,
            plain: true,
            tag: None,
        }
    }

    fn value(text: &str) -> Value {
        plain(text).value().unwrap()
    }

    #[test]
    fn booleans_and_nulls_are_yaml_1_1() {
        for t in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(value(t), json!(true), "{t}");
        }
        for t in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(value(t), json!(false), "{t}");
        }
        for t in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(value(t), Value::Null, "{t}");
        }
        for t in ["yEs", "tRUE", "oN", "nULL", "Nope", "t", "f"] {
            assert_eq!(value(t), json!(t), "{t} stays a string");
        }
    }

    #[test]
    fn integers_follow_go_parse_int_base_0() {
        let cases = [
            ("0644", json!(420)),
            ("0x1F", json!(31)),
            ("0X1f", json!(31)),
            ("0o17", json!(15)),
            ("0b101", json!(5)),
            ("-0b101", json!(-5)),
            ("1_000", json!(1000)),
            ("1__0", json!(10)),
            ("+12", json!(12)),
            ("-0", json!(0)),
            ("00", json!(0)),
            ("0", json!(0)),
            ("9223372036854775807", json!(9223372036854775807i64)),
            ("-9223372036854775808", json!(-9223372036854775808i64)),
            ("18446744073709551615", json!(18446744073709551615u64)),
            ("0xFFFFFFFFFFFFFFFF", json!(18446744073709551615u64)),
        ];
        for (t, want) in cases {
            assert_eq!(value(t), want, "{t}");
        }
        // Not integers: floats where Go's float syntax takes them, else strings.
        assert_eq!(value("08"), json!(8));
        assert_eq!(value("012345678"), json!(12345678));
        assert_eq!(value("18446744073709551616"), json!(18446744073709551616.0));
        // A float that Go prints as an integer JSON number, read back as one.
        assert_eq!(
            value("-9223372036854775809"),
            json!(-9223372036854775808i64)
        );
        for t in [
            "0x",
            "0b",
            "_1",
            "1_",
            "0x1G",
            "12abc",
            "+",
            "-",
            "1.2.3",
            "190:20:30",
        ] {
            let v = value(t);
            if t == "1_" {
                assert_eq!(v, json!(1), "{t}: `_` is dropped before parsing");
            } else {
                assert_eq!(v, json!(t), "{t} stays a string");
            }
        }
    }

    #[test]
    fn floats_and_their_json_form() {
        assert_eq!(value("1.10"), json!(1.1));
        assert_eq!(value(".5"), json!(0.5));
        assert_eq!(
            value("1e3"),
            json!(1000),
            "integral floats print as integers"
        );
        assert_eq!(value("8080.0"), json!(8080));
        assert_eq!(value("1_0.5"), json!(10.5));
        assert_eq!(value("685.230_15e+03"), json!(685230.15));
        assert_eq!(value("1."), json!(1));
        assert_eq!(value("-1.5E+3"), json!(-1500));
        assert_eq!(
            value("1e400"),
            json!("1e400"),
            "overflow stays text, as in Go"
        );
        assert_eq!(value("."), json!("."));
        assert_eq!(
            value("2001-12-14"),
            json!("2001-12-14"),
            "timestamps stay text"
        );
        for t in [".inf", "-.Inf", "+.INF", ".nan", ".NaN"] {
            assert!(plain(t).value().is_err(), "{t} cannot be JSON");
        }
    }

    #[test]
    fn quoted_and_tagged_scalars() {
        let w = |text, plain, tag| Written { text, plain, tag };
        let int = Some("tag:yaml.org,2002:int");
        assert_eq!(w("yes", false, None).value().unwrap(), json!("yes"));
        assert_eq!(w("0644", false, None).value().unwrap(), json!("0644"));
        assert_eq!(w("12", false, int).value().unwrap(), json!(12));
        assert!(w("abc", true, int).value().is_err());
        assert_eq!(
            w("1", true, Some("tag:yaml.org,2002:float")).resolve(),
            Ok(Resolved::Float(1.0))
        );
        assert_eq!(
            w("true", true, Some("tag:yaml.org,2002:str"))
                .value()
                .unwrap(),
            json!("true")
        );
        assert_eq!(
            w("true", true, Some("!foo")).value().unwrap(),
            json!("true")
        );
        assert!(w("aGk=", true, Some("tag:yaml.org,2002:binary"))
            .value()
            .is_err());
        assert!(plain("<<").is_merge_key());
        assert!(!w("<<", false, None).is_merge_key());
        assert!(w("<<", false, Some("tag:yaml.org,2002:merge")).is_merge_key());
        assert!(!w("<<", true, Some("tag:yaml.org,2002:str")).is_merge_key());
    }

    #[test]
    fn keys_become_strings_like_sigs_k8s_io_yaml() {
        let key = |t| plain(t).key().unwrap();
        assert_eq!(key("name"), "name");
        assert_eq!(key("yes"), "true");
        assert_eq!(key("off"), "false");
        assert_eq!(key("0x10"), "16");
        assert_eq!(key("1.10"), "1.1");
        assert_eq!(key("1.5"), "1.5");
        assert_eq!(key("3.14159265358979"), "3.1415927");
        assert_eq!(key("100000.0"), "100000");
        assert_eq!(key("1e6"), "1e+06");
        assert_eq!(key("0.0001"), "0.0001");
        assert_eq!(key("0.00001"), "1e-05");
        assert_eq!(key("-1234567.0"), "-1.234567e+06");
        assert_eq!(key(".inf"), ".inf");
        assert!(plain("~").key().is_err());
        assert!(plain("18446744073709551615").key().is_err());
    }
}
