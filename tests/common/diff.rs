//! The first difference between two texts, for tests that compare with committed files.

/// A unified-style diff of the first change between two texts, with three lines of context and
/// at most `SHOWN` lines of each side: enough for a test log to say what moved. The whole change
/// is the git diff after blessing.
pub fn first_diff(want: &str, got: &str) -> Option<String> {
    const CONTEXT: usize = 3;
    const SHOWN: usize = 12;
    if want == got {
        return None;
    }
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    if a == b {
        return Some("  (only the final newline differs)\n".to_string());
    }
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (del, ins) = resync(&a[head..], &b[head..], CONTEXT);
    let (removed, added) = (&a[head..head + del], &b[head..head + ins]);
    let after = &a[head + del..];
    let start = head.saturating_sub(CONTEXT);
    let trailing = after.len().min(CONTEXT);
    let mut out = format!(
        "@@ -{},{} +{},{} @@\n",
        start + 1,
        head - start + del + trailing,
        start + 1,
        head - start + ins + trailing,
    );
    for line in &a[start..head] {
        out += &format!(" {line}\n");
    }
    for (sign, lines) in [('-', removed), ('+', added)] {
        for line in lines.iter().take(SHOWN) {
            out += &format!("{sign}{line}\n");
        }
        if lines.len() > SHOWN {
            out += &format!("{sign}... {} more lines\n", lines.len() - SHOWN);
        }
    }
    for line in &after[..trailing] {
        out += &format!(" {line}\n");
    }
    if after != &b[head + ins..] {
        out += "  (more differences follow)\n";
    }
    Some(out)
}

/// Where two texts that differ on their first line agree again: the fewest lines `(i, j)` to
/// drop from each so that the rest start with `agree` equal lines (or end together).
fn resync(a: &[&str], b: &[&str], agree: usize) -> (usize, usize) {
    for k in 1..=a.len() + b.len() {
        for i in k.saturating_sub(b.len())..=k.min(a.len()) {
            let (ra, rb) = (&a[i..], &b[k - i..]);
            let long_enough = ra.len().min(rb.len()) >= agree || ra.len() == rb.len();
            if long_enough && ra.iter().take(agree).eq(rb.iter().take(agree)) {
                return (i, k - i);
            }
        }
    }
    (a.len(), b.len())
}
