#![no_main]
//! `cargo fuzz run yaml`: see fuzz/README.md and `proctor_fuzz::yaml`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: proctor_fuzz::init(),
    |data: &[u8]| {
        // proctor reads only UTF-8 files (`files::read_source` reports the others).
        if let Ok(text) = std::str::from_utf8(data) {
            proctor_fuzz::assert_sound(&proctor_fuzz::yaml(text));
        }
    }
);
