//! End-user pages (stub; being written).
