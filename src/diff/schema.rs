//! Schema compatibility between two versions of a bundle (proton-format.md §5).
