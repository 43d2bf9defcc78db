//! Policy evaluation on a large failing template, through the library API (no process start,
//! no file discovery): `cargo bench --bench policy_eval`.
//!
//! The template is the one `scripts/bench-policy` generates: N S3 buckets without encryption
//! or public access block (half without versioning), N SQS queues without server-side
//! encryption and N security groups that open SSH to 0.0.0.0/0, N = 1,000 by default
//! (`PROCTOR_BENCH_N`). `PROCTOR_BENCH_TEMPLATE=FILE` benchmarks another template instead.
//! `PROCTOR_BENCH_ITERATIONS` (default 10) sets the number of timed iterations of each stage.
//! Under `cargo test --all-targets` (no `--bench` argument) it runs once on N = 10, as a smoke test.
//!
//! Each stage is timed on its own and its median (and minimum) printed:
//! parse (YAML to the policy data tree), evaluate (every rule of the built-in pack, PASS/FAIL/
//! SKIP and failures), check_document (evaluate + building the P100 diagnostics), and the two
//! reporters on those diagnostics. The CloudFormation checks that `proctor check` also runs on
//! a plain template are timed too, for comparison.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use proctor::policy::{self, Target, Waivers};
use proctor::source::SourceFile;

#[path = "support/template.rs"]
mod template;
use template::generate;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `f` `iterations` times; returns (median, min) and the last result.
fn time<T>(iterations: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(iterations);
    let mut last = None;
    for _ in 0..iterations {
        let start = Instant::now();
        let out = black_box(f());
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (
        times[times.len() / 2],
        times[0],
        last.expect("at least one iteration"),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and then a small template and one iteration are enough to check that it still works.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations = env_usize("PROCTOR_BENCH_ITERATIONS", if benching { 10 } else { 1 }).max(1);
    let (name, text) = match std::env::var("PROCTOR_BENCH_TEMPLATE") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).expect("PROCTOR_BENCH_TEMPLATE is readable");
            (path, text)
        }
        Err(_) => {
            let n = env_usize("PROCTOR_BENCH_N", if benching { 1000 } else { 10 });
            (format!("generated ({} resources)", 3 * n), generate(n))
        }
    };
    let source = SourceFile::new("template.yaml", "template.yaml", text);

    let root_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = policy::files_in(
        &root_dir.join("policies"),
        "policies",
        &proctor::paths::WalkBudget::unlimited(),
    );
    let (policies, load_diags) = policy::load_all(&files, &proctor::limits::Limits::default());
    assert!(
        load_diags.is_empty(),
        "the built-in pack loads without diagnostics"
    );
    let rules: usize = policies.iter().map(|p| p.file.rules.len()).sum();

    println!(
        "policy_eval: {name}, {} bytes; {} policy files, {rules} rules; median (min) of {iterations} iterations",
        source.text().len(),
        policies.len()
    );

    let mut rows: Vec<(&str, Duration, Duration, String)> = Vec::new();

    let (med, min, data) = time(iterations, || {
        proctor::policy::data::parse(&source, &mut Vec::new())
    });
    let data = data.expect("the template parses");
    rows.push(("policy::data::parse", med, min, String::new()));

    let (med, min, failures) = time(iterations, || {
        policies
            .iter()
            .map(|p| policy::evaluate(p, &data).1.len())
            .sum::<usize>()
    });
    rows.push((
        "evaluate (all rules)",
        med,
        min,
        format!("{failures} failures"),
    ));

    let waivers = Waivers::default();
    let target = Target {
        deployment: "template.yaml",
        waivers: &waivers,
        verdicts: None,
        locate: &|_| None,
        fallback: None,
    };
    let (med, min, diags) = time(iterations, || {
        policy::check_document(&policies, &source, &data, &target)
    });
    let summary = proctor::diag::Summary::of(&diags);
    rows.push((
        "check_document (evaluate + diagnostics)",
        med,
        min,
        format!(
            "{} diagnostics ({} errors, {} warnings)",
            diags.len(),
            summary.errors,
            summary.warnings
        ),
    ));

    let (med, min, json) = time(iterations, || proctor::report::json::render(&diags));
    rows.push((
        "report::json::render",
        med,
        min,
        format!("{} bytes", json.len()),
    ));

    let (med, min, human) = time(iterations, || {
        proctor::report::human::render(&diags, proctor::report::human::HumanOptions::default())
    });
    rows.push((
        "report::human::render",
        med,
        min,
        format!("{} bytes", human.len()),
    ));

    let (med, min, cfn_diags) = time(iterations, || {
        let mut d = Vec::new();
        if let Some(root) = proctor::cfn::parse(&source, &mut d) {
            proctor::cfn::checks::check(&source, &root, &mut d);
        }
        d.len()
    });
    rows.push((
        "cfn::parse + cfn::checks (not policy)",
        med,
        min,
        format!("{cfn_diags} diagnostics"),
    ));

    println!("{:<42} {:>12} {:>12}  result", "stage", "median", "min");
    for (stage, med, min, note) in rows {
        println!("{stage:<42} {:>12} {:>12}  {note}", ms(med), ms(min));
    }
}
