//! Session-security scanner (issue 8): pure analysis of what a probe observed.
