//! What the dataset gives for a resource type's name, made once per process and kept for its
//! life (the dataset holds a bounded number of types), with a copy per thread looked up
//! first. Every resource of every template looks its type up, from every thread: behind one
//! lock with a shared reference count, the two cores took turns (the lock) and passed the
//! count's cache line back and forth.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::LocalKey;

/// The process's table: a type's name to what was made of it (`None`: the dataset does
/// not know it).
pub(crate) type Global<T> = Mutex<HashMap<Box<str>, Option<&'static T>>>;

/// A thread's copy of the table.
pub(crate) type Local<T> = RefCell<foldhash::HashMap<Box<str>, Option<&'static T>>>;

/// What `make` gives for `name`, made at most once per process (two threads asking at once
/// may both make it; one is kept).
pub(crate) fn get<T: Sync>(
    (global, local): (&'static Global<T>, &'static LocalKey<Local<T>>),
    name: &str,
    make: impl FnOnce() -> Option<T>,
) -> Option<&'static T> {
    if let Some(hit) = local.with_borrow(|l| l.get(name).copied()) {
        return hit;
    }
    let known = global.lock().ok().and_then(|g| g.get(name).copied());
    let found = match known {
        Some(found) => found,
        None => {
            let made: Option<&'static T> = make().map(|t| &*Box::leak(Box::new(t)));
            match global.lock() {
                Ok(mut g) => *g.entry(name.into()).or_insert(made),
                Err(_) => made,
            }
        }
    };
    local.with_borrow_mut(|l| l.insert(name.into(), found));
    found
}
