//! The simulation core's worker binary: Trunk builds it into `pathlab-core.js` and `pathlab-core_bg.wasm`, which the page runs in a Web Worker for the live run (see `live`) and in another for replays that answer questions (see `replay`).

/// Counts the bytes in use, which frames report (the memory benchmark reads
/// them).
#[global_allocator]
static ALLOC: heapcount::Counting = heapcount::Counting;

fn main() {
    #[cfg(target_arch = "wasm32")]
    pathlab::replay::serve();
}
