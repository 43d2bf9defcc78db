//! A bug in proctor while working on one unit must not stop the others: `isolated` runs a
//! piece of work and turns a panic in it into an internal-error diagnostic (E001) for that
//! unit. The process's panic hook (in `cli`) leaves such panics to this module; any other
//! panic still ends the run with exit code 3.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Diagnostic, codes};

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static MESSAGE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Whether the current thread is inside `isolated` (the panic hook asks).
pub fn active() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Called by the panic hook for a panic inside `isolated`: keeps its message and place.
pub fn record(message: String) {
    MESSAGE.with(|m| *m.borrow_mut() = Some(message));
}

/// Runs `f`; a panic in it becomes E001 naming `what` (e.g. "rendering service instance `api`"),
/// which is only made then.
pub fn isolated<T>(
    what: impl FnOnce() -> String,
    f: impl FnOnce() -> T,
) -> Result<T, Box<Diagnostic>> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        let message = MESSAGE
            .with(|m| m.borrow_mut().take())
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Box::new(Diagnostic::new(
            codes::E001,
            format!("internal error in proctor while {}: {message}", what()),
        )
        .help(format!(
            "this is a bug in proctor {}, not in your files: please report it with this message; the other units were checked",
            env!("CARGO_PKG_VERSION")
        )))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_becomes_a_diagnostic_and_the_value_passes_through() {
        assert_eq!(super::isolated(|| "adding".into(), || 1 + 1).unwrap(), 2);
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let d = super::isolated(
            || "rendering `dev`".into(),
            || -> u8 { panic!("index out of bounds") },
        )
        .unwrap_err();
        std::panic::set_hook(prev);
        assert_eq!(d.code.id, "E001");
        assert!(
            d.message
                .contains("while rendering `dev`: index out of bounds"),
            "{}",
            d.message
        );
        assert!(!super::active());
    }
}
