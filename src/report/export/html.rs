//! `report.html`: one self-contained page (inline SVG and CSS; no script, no network) with the
//! anatomy, the tables, every chart and the environment snapshot.

use std::fmt::Write as _;

use anyhow::Result;

use super::exporter::Exporter;
use crate::report::about::run_line;
use crate::report::anatomy::{self, EXPLANATION, table};
use crate::report::kernel::{LEGEND as KERNEL_LEGEND, kernel_tables, profile_table};
use crate::report::model::Report;
use crate::report::plots::PLOTS_DIR;
use crate::report::plots::{Place, Plot};
use crate::report::stage_table;
use crate::report::table as cases;
use crate::store::record::{CaseRecord, RunRecord};

/// The HTML export.
pub struct Html;

/// The file name.
pub const FILE_NAME: &str = "report.html";

/// The page style every loopbench HTML page shares.
pub const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1500px;padding:0 1.5em 3em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{margin-top:1.6em;font-family:ui-monospace,monospace;font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th{background:#f4f4f4;white-space:normal}td:first-child,th:first-child{text-align:left}
td.wrap{white-space:normal;text-align:left;max-width:60em;word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figure svg{max-width:100%;height:auto;border:1px solid #eee}
.notes{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}.muted{color:#666}
code{font-family:ui-monospace,monospace;font-size:.9em;background:#f4f4f4;padding:0 .25em}
nav a{margin-right:1em}
";

/// Escapes text for HTML.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML table with a header row, every cell escaped.
pub fn html_table(header: &[impl AsRef<str>], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h.as_ref()));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

fn key_values(rows: &[(&str, String)]) -> String {
    let mut out = String::from("<table><tbody>\n");
    for (k, v) in rows {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"wrap\">{}</td></tr>",
            esc(k),
            esc(v)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn figures<'a>(plots: impl Iterator<Item = &'a Plot>) -> String {
    let mut out = String::from("<div class=\"charts\">\n");
    for p in plots {
        let svg = p.svg.trim_start_matches(|c| c != '<');
        let _ = writeln!(out, "<figure title=\"{}\">{svg}</figure>", esc(&p.title));
    }
    out.push_str("</div>\n");
    out
}

fn case_tables(c: &CaseRecord) -> String {
    let (h, rows) = cases::percentiles(c);
    let mut out = html_table(&h, &rows);
    let (h, rows) = cases::iterations(c);
    out.push_str(&html_table(&h, &rows));
    if let Some((h, rows)) = stage_table::detail(c) {
        let _ = write!(
            out,
            "<p>{}</p>\n{}",
            esc(stage_table::TITLE),
            html_table(&h, &rows)
        );
    }
    if let Some(line) = stage_table::coverage(c) {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(&line));
    }
    for e in &c.errors {
        let _ = writeln!(out, "<p class=\"notes\">error: {}</p>", esc(e));
    }
    out
}

/// The traced cases' kernel stage tables and the profiled cases' CPU categories.
fn kernel_sections(r: &RunRecord) -> String {
    let mut out = String::new();
    let traced = kernel_tables(r);
    for t in &traced {
        let _ = write!(
            out,
            "<h3>Kernel stages of {} (--trace)</h3>\n{}",
            esc(&t.case),
            html_table(&t.header, &t.rows)
        );
        for n in &t.notes {
            let _ = writeln!(out, "<p>{}.</p>", esc(n));
        }
    }
    if !traced.is_empty() {
        let _ = writeln!(out, "<p class=\"muted\">{}.</p>", esc(KERNEL_LEGEND));
    }
    for t in crate::report::service::service_tables(r) {
        let _ = writeln!(out, "<h3>Against the service: {}</h3>", esc(&t.case));
        if !t.rows.is_empty() {
            out.push_str(&html_table(&t.header, &t.rows));
        }
        for l in &t.lines {
            let _ = writeln!(out, "<p>{}</p>", esc(l));
        }
    }
    if let Some((header, rows)) = profile_table(r) {
        let _ = write!(
            out,
            "<h3>Where the workers' CPUs went (--profile, all sides)</h3>\n{}",
            html_table(&header, &rows)
        );
    }
    out
}

/// The stages section: the user-space stage table and the stage charts (user-space and kernel),
/// or nothing when the run has neither.
fn stages_section(report: &Report) -> String {
    let mut charts = report
        .plots
        .plots
        .iter()
        .filter(|p| p.place == Place::Stages)
        .peekable();
    let table = stage_table::overview(&report.data.record);
    if table.is_none() && charts.peek().is_none() {
        return String::new();
    }
    let mut o = String::from("<h2 id=\"stages\">Stages of a round trip (measured)</h2>\n");
    if let Some((h, rows)) = table {
        let _ = write!(
            o,
            "<h3>{}</h3>\n{}<p class=\"muted\">{}.</p>\n",
            esc(stage_table::TITLE),
            html_table(&h, &rows),
            esc(stage_table::LEGEND)
        );
    }
    o.push_str(&figures(charts));
    o
}

fn environment(r: &RunRecord) -> String {
    let e = &r.environment;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let lo: Vec<String> = e
        .loopback
        .iter()
        .map(|l| {
            let addrs: Vec<String> = l
                .addresses
                .iter()
                .map(|a| format!("{}/{}", a.address, a.prefix_len))
                .collect();
            format!(
                "{} mtu {} {} [{}]",
                l.name,
                l.mtu.map_or("-".into(), |m| m.to_string()),
                if l.up { "up" } else { "down" },
                addrs.join(", ")
            )
        })
        .collect();
    let mut out = key_values(&[
        ("host", e.hostname.clone()),
        (
            "kernel",
            format!("{} {}", e.kernel_release, e.kernel_version),
        ),
        ("kernel command line", e.kernel_cmdline.clone()),
        ("CPU", e.cpu_model.clone()),
        (
            "CPUs",
            format!(
                "{} online, {} physical cores, {} NUMA nodes, SMT {}",
                e.online_cpus,
                e.physical_cores,
                e.numa_nodes,
                if e.smt { "on" } else { "off" }
            ),
        ),
        (
            "governor / cpufreq driver",
            format!("{} / {}", opt(&e.governor), opt(&e.cpufreq_driver)),
        ),
        ("cpuidle driver", opt(&e.cpuidle_driver)),
        ("clock source", opt(&e.clocksource)),
        ("virtualization", opt(&e.virtualization)),
        (
            "load average (1 min) at start",
            e.loadavg_1m.map_or("-".into(), |l| format!("{l:.2}")),
        ),
        (
            "timer",
            format!(
                "{}: {:.1} ns per read, resolution {} ns",
                r.timer.clock, r.timer.read_cost_ns, r.timer.resolution_ns
            ),
        ),
        ("loopback", lo.join("; ")),
        ("root", e.root.to_string()),
        ("seed", r.seed.to_string()),
        (
            "tool",
            format!(
                "{} {} {}",
                r.tool.name,
                r.tool.version,
                r.tool.git_revision.clone().unwrap_or_default()
            ),
        ),
        ("command line", r.command_line.join(" ")),
    ]);
    let sysctls: Vec<(&str, String)> = e
        .sysctls
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let _ = write!(out, "<h3>sysctls</h3>\n{}", key_values(&sysctls));
    let mitigations: Vec<(&str, String)> = e
        .mitigations
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let _ = write!(
        out,
        "<h3>CPU vulnerability mitigations</h3>\n{}",
        key_values(&mitigations)
    );
    out
}

impl Exporter<Report> for Html {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, report: &Report) -> Result<String> {
        let r = &report.data.record;
        let plots = &report.plots.plots;
        let at = |place: Place| plots.iter().filter(move |p| p.place == place);
        let stages = stages_section(report);
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>loopbench {id}</title><style>{STYLE}</style></head><body>\n\
             <h1>loopbench run {id}</h1>\n<p class=\"muted\">{line}</p>\n\
             <nav>{stages_link}<a href=\"#anatomy\">anatomy</a><a href=\"#cases\">cases</a><a href=\"#overview\">charts</a>\
             <a href=\"#case-details\">per case</a><a href=\"#environment\">environment</a><a href=\"#files\">files</a></nav>\n",
            id = esc(&r.run_id),
            line = esc(&run_line(r)),
            stages_link = if stages.is_empty() {
                ""
            } else {
                "<a href=\"#stages\">stages</a>"
            },
        );
        let notes = report.notes();
        if !notes.is_empty() {
            o.push_str("<div class=\"notes\" id=\"notes\"><strong>Notes</strong><ul>\n");
            for n in notes {
                let _ = writeln!(o, "<li>{}</li>", esc(&n));
            }
            o.push_str("</ul></div>\n");
        }
        o.push_str(&stages);
        o.push_str("<h2 id=\"anatomy\">Loopback anatomy</h2>\n");
        match &report.anatomy {
            Ok(a) => {
                o.push_str(&figures(at(Place::Anatomy)));
                let (header, rows) = table(a);
                o.push_str(&html_table(&header, &rows));
                let _ = writeln!(o, "<p class=\"muted\">{}.</p>", esc(EXPLANATION));
                for n in anatomy::notes(a) {
                    let _ = writeln!(o, "<p>{}.</p>", esc(&n));
                }
            }
            Err(why) => {
                let _ = writeln!(o, "<p>{}</p>", esc(why));
            }
        }
        let rows: Vec<Vec<String>> = r.cases.iter().map(cases::row).collect();
        let _ = write!(
            o,
            "<h2 id=\"cases\">Cases</h2>\n{}<p class=\"muted\">{}</p>\n<h2 id=\"overview\">Charts</h2>\n",
            html_table(cases::HEADER, &rows),
            esc(cases::LEGEND)
        );
        for g in report.data.groups() {
            let _ = write!(
                o,
                "<h3>{}</h3>\n{}",
                esc(&g.key),
                figures(at(Place::Group(g.key.clone())))
            );
        }
        o.push_str(&figures(at(Place::Sizes)));
        o.push_str(&kernel_sections(r));
        o.push_str("<h2 id=\"case-details\">Per case</h2>\n");
        for (i, c) in r.cases.iter().enumerate() {
            let _ = write!(
                o,
                "<h3 id=\"case-{id}\">{id}</h3>\n{}{}",
                case_tables(c),
                figures(at(Place::Case(i))),
                id = esc(c.case_id.as_str())
            );
        }
        let _ = write!(
            o,
            "<h2 id=\"environment\">Environment</h2>\n{}\
             <h2 id=\"files\">Files</h2>\n<p><a href=\"run.json\">run.json</a> · <a href=\"summary.md\">summary.md</a> · \
             <a href=\"summary.csv\">summary.csv</a> · <a href=\"{PLOTS_DIR}/\">{PLOTS_DIR}/</a> (every chart as SVG) · \
             per case: <code>cases/&lt;case&gt;/latency.hgrm</code> and <code>latency.hlog</code></p>\n</body></html>\n",
            environment(r)
        );
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn the_page_is_self_contained_and_holds_every_chart_and_section() {
        let mut data = fixture::anatomy_run();
        data.record.environment.kernel_cmdline = "quiet <script>alert(1)</script>".into();
        let report = Report::new(data).unwrap();
        let page = Html.render(&report).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
        for forbidden in ["<script", "<link", "src=", "https://", "@import"] {
            assert!(!page.contains(forbidden), "{forbidden} in the page");
        }
        let without_svg_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !without_svg_namespace.contains("http://"),
            "no network reference"
        );
        assert_eq!(page.matches("<svg").count(), report.plots.plots.len());
        for id in [
            "anatomy",
            "cases",
            "overview",
            "case-details",
            "environment",
            "files",
        ] {
            assert!(page.contains(&format!("id=\"{id}\"")), "section {id}");
        }
        assert!(page.contains("id=\"case-tcp4-rr-spin-cross-core-64B\""));
        assert!(
            page.contains("quiet &lt;script&gt;alert(1)&lt;/script&gt;"),
            "text is escaped"
        );
        assert!(page.contains("net.core.rmem_max"));
        assert!(
            !page.contains("id=\"stages\"") && !page.contains("#stages"),
            "no stamps, no stages section and no link to it"
        );
    }

    #[test]
    fn a_stamped_run_leads_with_its_stages() {
        let report = Report::new(fixture::stamped_run()).unwrap();
        let page = Html.render(&report).unwrap();
        assert_eq!(page.matches("<svg").count(), report.plots.plots.len());
        let stages = page.find("id=\"stages\"").expect("a stages section");
        assert!(stages < page.find("id=\"anatomy\"").unwrap());
        assert!(page.contains("<a href=\"#stages\">stages</a>"));
        assert!(page.contains("<th>server_turnaround</th>"));
        assert!(page.contains("stamped round trips: 990"));
        assert!(
            page.contains("title=\"tcp4-rr-blocking-cross-core-64B-stages: a typical round trip\"")
        );
    }
}
