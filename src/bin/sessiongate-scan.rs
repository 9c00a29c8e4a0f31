//! Placeholder until the scanner lands (issue 8).
fn main() {
    eprintln!("sessiongate-scan: not built yet");
    std::process::exit(2);
}
