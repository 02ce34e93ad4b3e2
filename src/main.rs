//! The PathLab web binary: Trunk builds this into the page's WebAssembly module.

fn main() {
    pathlab::start();
}
