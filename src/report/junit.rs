//! The JUnit XML report for CI systems: a test suite per group, a test case per check. FAIL is
//! a `<failure>`; WARN and INFO are `<skipped>` with the reason, so CI gates only on FAIL.

use std::io::{self, Write};

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::model::{Report, Status};

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    let mut xml = Writer::new_with_indent(w, b' ', 2);
    let io = |e: quick_xml::Error| io::Error::other(e.to_string());
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "kubecis"));
    suites.push_attribute(("tests", report.totals.total().to_string().as_str()));
    suites.push_attribute(("failures", report.totals.fail.to_string().as_str()));
    xml.write_event(Event::Start(suites)).map_err(io)?;
    for c in &report.controls {
        for g in &c.tests {
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", format!("{} {}", g.id, g.text).as_str()));
            suite.push_attribute(("tests", g.results.len().to_string().as_str()));
            suite.push_attribute(("failures", g.fail.to_string().as_str()));
            suite.push_attribute(("skipped", (g.warn + g.info).to_string().as_str()));
            xml.write_event(Event::Start(suite)).map_err(io)?;
            for r in &g.results {
                let mut case = BytesStart::new("testcase");
                case.push_attribute(("name", format!("{} {}", r.id, r.text).as_str()));
                case.push_attribute(("classname", format!("{}.{}", c.node_type, g.id).as_str()));
                if r.status == Status::Pass {
                    xml.write_event(Event::Empty(case)).map_err(io)?;
                    continue;
                }
                xml.write_event(Event::Start(case)).map_err(io)?;
                let (element, message) = match r.status {
                    Status::Fail => ("failure", format!("expected {}", r.expected_result)),
                    _ => ("skipped", format!("{}: {}", r.status, r.reason)),
                };
                let mut el = BytesStart::new(element);
                el.push_attribute(("message", message.as_str()));
                xml.write_event(Event::Start(el)).map_err(io)?;
                let body = format!("actual: {}\nremediation: {}", r.actual_value, r.remediation);
                xml.write_event(Event::Text(BytesText::new(&body)))
                    .map_err(io)?;
                xml.write_event(Event::End(BytesEnd::new(element)))
                    .map_err(io)?;
                xml.write_event(Event::End(BytesEnd::new("testcase")))
                    .map_err(io)?;
            }
            xml.write_event(Event::End(BytesEnd::new("testsuite")))
                .map_err(io)?;
        }
    }
    xml.write_event(Event::End(BytesEnd::new("testsuites")))
        .map_err(io)?;
    writeln!(xml.into_inner())
}
