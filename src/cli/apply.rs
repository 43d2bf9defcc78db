//! `proctor apply`: deploy built artifacts through CloudFormation change sets.

use std::process::ExitCode;

use super::*;

/// Exit codes of `proctor apply`: 0 every unit deployed (or had no changes, or the dry run
/// showed them), 1 a deployment failed or was declined, 2 the build or the arguments were
/// refused or AWS could not be used (nothing was deployed), 130 interrupted.
#[cfg(feature = "aws")]
pub(super) fn run_apply(args: ApplyArgs) -> ExitCode {
    use std::io::IsTerminal;

    use crate::apply::{self, Outcome};
    // Every check of the build comes before any AWS call.
    let verified = match crate::build::verify(std::path::Path::new(&args.build_dir)) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("proctor: refusing to apply `{}`: {e}", args.build_dir);
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    if let Err(e) = apply::select(&verified, args.unit.as_deref()) {
        eprintln!("proctor: {e}");
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    let _ = ctrlc::set_handler(|| {
        let f = apply::IN_FLIGHT.lock().ok().and_then(|g| g.clone());
        if let Some(f) = &f {
            let _ = std::fs::remove_file(&f.lock);
        }
        eprintln!("\nproctor: {}", apply::interrupted_message(f.as_ref()));
        std::process::exit(130);
    });
    let sdk = match apply::aws::Sdk::connect(args.region, args.endpoint_url) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proctor: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let mut ask = |question: &str| -> bool {
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut opts = apply::Options {
        dry_run: args.dry_run,
        yes: args.yes,
        unit: args.unit,
        poll: std::time::Duration::from_millis(
            std::env::var("PROCTOR_POLL_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2000),
        ),
        confirm: if terminal { Some(&mut ask) } else { None },
    };
    let mut out = std::io::stdout();
    match apply::apply(&verified, &sdk, &mut opts, &mut out) {
        Ok(results) => {
            for (unit, why) in &verified.waiting {
                if opts.unit.is_none() {
                    println!("not in this build: {unit}: {why}, then build and apply again");
                }
            }
            let failed = results
                .iter()
                .any(|(_, o)| matches!(o, Outcome::Failed { .. } | Outcome::Declined));
            ExitCode::from(if failed { EXIT_FINDINGS } else { EXIT_OK })
        }
        Err(e) => {
            eprintln!("proctor: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

#[cfg(not(feature = "aws"))]
pub(super) fn run_apply(_: ApplyArgs) -> ExitCode {
    eprintln!(
        "proctor: this proctor was built without the `aws` feature, so it cannot apply; build it with default features (`cargo install proctor`)"
    );
    ExitCode::from(EXIT_CANNOT_RUN)
}

/// Exit codes of `proctor adopt`: 0 bound (or nothing to bind) and every adopted stack in
/// sync, 1 written but some stack's live template differs from today's render (the first
/// apply will change it), 2 nothing written (proctor.toml unusable, a binding not certain,
/// AWS not usable).
#[cfg(feature = "aws")]
pub(super) fn run_adopt(args: AdoptArgs) -> ExitCode {
    use crate::apply::adopt;
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let sdk = match crate::apply::aws::Sdk::connect(args.region, args.endpoint_url) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proctor: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let opts = adopt::Options {
        cwd,
        config: args.config,
        dry_run: args.dry_run,
    };
    let mut out = std::io::stdout();
    match adopt::run(&opts, &sdk, &mut out) {
        Ok(a) if a.drifted.is_empty() => ExitCode::from(EXIT_OK),
        Ok(_) => ExitCode::from(EXIT_FINDINGS),
        Err(e) => {
            eprintln!("proctor: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

#[cfg(not(feature = "aws"))]
pub(super) fn run_adopt(_: AdoptArgs) -> ExitCode {
    eprintln!(
        "proctor: this proctor was built without the `aws` feature, so it cannot adopt; build it with default features (`cargo install proctor`)"
    );
    ExitCode::from(EXIT_CANNOT_RUN)
}
