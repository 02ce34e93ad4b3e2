//! The engine, apart from the tiers: the event queue, the network with its partitions and link faults, the driver that runs the loop and carries out effects, building a world, and the ground truth's view across tiers.

mod build;
mod driver;
mod net;
mod observe;
pub(crate) mod queue;
#[cfg(test)]
mod tests;

pub use driver::Simulation;
pub(crate) use driver::{Event, with_cx};
pub(crate) use net::LinkFault;
