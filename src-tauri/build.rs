//! Generates the Tauri context (configuration, capabilities, embedded front end).

fn main() {
    tauri_build::build();
}
