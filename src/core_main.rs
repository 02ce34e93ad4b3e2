//! The replay worker's binary: Trunk builds it into `pathlab-core.js` and `pathlab-core_bg.wasm`, which the page loads into a Web Worker the first time it needs a run replayed.

fn main() {
    #[cfg(target_arch = "wasm32")]
    pathlab::replay::serve();
}
