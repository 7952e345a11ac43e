//! Console tests against a real muster-server.
