//! The topology diagram: nodes as glyphs in columns along the request path, links between tiers, cut links and partition sides, with states readable without colour.

use crate::engine::Engine;
use crate::layout::{self, Orientation, Place};
use crate::links;
use pathlab_sim::{NodeKind, NodeState, NodeView, Role, Snapshot};
use std::fmt::Write as _;
use yew::prelude::*;

/// Callbacks the diagram raises.
#[derive(Clone, PartialEq)]
pub struct DiagramEvents {
    /// A node was clicked (or activated from the keyboard).
    pub node: Callback<usize>,
    /// The empty background was clicked at diagram coordinates.
    pub background: Callback<(f64, f64)>,
}

/// Renders the diagram for the current snapshot.
pub fn view(engine: &Engine, snap: &Snapshot, events: &DiagramEvents, canvas: &NodeRef) -> Html {
    draw(engine, snap, &engine.places, events, canvas, false)
}

/// Renders run B's diagram while comparing (nodes are not selected or
/// picked in it: what is done to a node is done in both runs).
pub fn view_b(engine: &Engine, snap: &Snapshot, events: &DiagramEvents, canvas: &NodeRef) -> Html {
    draw(engine, snap, &engine.versus_places, events, canvas, true)
}

fn draw(
    engine: &Engine,
    snap: &Snapshot,
    places: &[Place],
    events: &DiagramEvents,
    canvas: &NodeRef,
    b: bool,
) -> Html {
    let all_links = links::links(&snap.nodes);
    let sides = links::sides(snap.nodes.len(), &snap.cut);
    let mut normal = String::with_capacity(all_links.len() * 24);
    let mut cut = String::new();
    let mut cut_marks = Vec::new();
    for &(a, b) in &all_links {
        let (Some(p), Some(q)) = (places.get(a), places.get(b)) else {
            continue;
        };
        let target = if links::is_cut(&snap.cut, a, b) {
            cut_marks.push(((p.x + q.x) / 2.0, (p.y + q.y) / 2.0));
            &mut cut
        } else {
            &mut normal
        };
        let _ = write!(target, "M{:.1} {:.1}L{:.1} {:.1}", p.x, p.y, q.x, q.y);
    }
    let n_cut = cut_marks.len();
    let (width, height) = engine.orientation.size();
    let onclick_bg = {
        let cb = events.background.clone();
        Callback::from(move |e: MouseEvent| {
            let Some(svg) = e
                .current_target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            else {
                return;
            };
            let rect = svg.get_bounding_client_rect();
            if rect.width() <= 0.0 || rect.height() <= 0.0 {
                return;
            }
            // The SVG keeps the diagram's aspect ratio, so one scale serves both axes.
            let scale = (rect.width() / width).min(rect.height() / height);
            let ox = (rect.width() - width * scale) / 2.0;
            let oy = (rect.height() - height * scale) / 2.0;
            let x = (e.client_x() as f64 - rect.left() - ox) / scale;
            let y = (e.client_y() as f64 - rect.top() - oy) / scale;
            cb.emit((x, y));
        })
    };
    let visible: Vec<pathlab_sim::NodeKind> = snap
        .nodes
        .iter()
        .filter(|n| !n.retired)
        .map(|n| n.kind)
        .collect();
    let titles = layout::titles(&visible, engine.orientation)
        .into_iter()
        .map(|(title, x, y, start)| {
            html! { <text class="column-title" x={format!("{x:.0}")} y={format!("{y:.0}")} text-anchor={if start { "start" } else { "middle" }}>{ title }</text> }
        });
    let nodes = snap
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.retired)
        .map(|(i, n)| {
            let place = places.get(i).copied().unwrap_or(Place {
                x: 0.0,
                y: 0.0,
                r: 4.0,
            });
            node_view(
                i,
                n,
                place,
                engine,
                Marks {
                    side: sides.get(i).copied().flatten(),
                    holds_vip: snap.vips.contains(&(i as u16)),
                    b,
                },
                &events.node,
            )
        });
    let status = if n_cut > 0 {
        format!("Network partitioned: {n_cut} links cut")
    } else {
        String::new()
    };
    html! {
        <div class={classes!("diagram-wrap", (engine.orientation == Orientation::Down).then_some("down"))}>
            <canvas ref={canvas.clone()} class="particles" aria-hidden="true"></canvas>
            <svg class={classes!("diagram", engine.picking.then_some("picking"))}
                 viewBox={format!("0 0 {width} {height}")}
                 preserveAspectRatio="xMidYMid meet"
                 role="group" aria-label="The request path: users, DNS, CDN, load balancers, app servers, cache and database"
                 data-testid={if b { "diagram-b" } else { "diagram" }} data-cut-links={n_cut.to_string()}
                 data-in-flight={if b { snap.flights.len() } else { engine.sim.in_flight() }.to_string()}
                 onclick={onclick_bg}>
                { for titles }
                <path class="links" d={normal} />
                if !cut.is_empty() {
                    <path class="links cut" d={cut} data-testid="cut-links" />
                    { for cut_marks.iter().map(|(x, y)| html! {
                        <text class="cut-mark" x={format!("{x:.1}")} y={format!("{y:.1}")} text-anchor="middle" dominant-baseline="central">{ "✂" }</text>
                    }) }
                }
                { for nodes }
            </svg>
            <p class="diagram-status" role="status" aria-live="polite">{ status }</p>
        </div>
    }
}

/// Short words for a node's state, for labels and screen readers.
pub fn describe(n: &NodeView) -> String {
    let mut parts = vec![
        n.id.clone(),
        n.kind.label().to_string(),
        n.state.label().to_string(),
    ];
    // A crashed replica leads or follows nobody.
    if let Some(role) = n.role.filter(|_| n.state != NodeState::Down) {
        parts.push(match role {
            Role::Leader => format!("leader, term {}", n.term.unwrap_or(0)),
            Role::Candidate => format!("candidate, term {}", n.term.unwrap_or(0)),
            Role::Follower => "follower".to_string(),
        });
    }
    if let Some(lag) = n.lag_ms {
        parts.push(format!("lag {lag:.0} ms"));
    }
    if let Some(active) = n.active {
        parts.push(if active {
            "active".into()
        } else {
            "standby".into()
        });
    }
    if n.slow > 1.0 {
        parts.push(format!("slowed ×{}", n.slow));
    }
    if n.partitioned {
        parts.push("cut off by a partition".into());
    }
    parts.join(", ")
}

/// What a node is drawn with besides its state: its side of a partition,
/// whether it holds the shared address, and whether it is run B's.
struct Marks {
    side: Option<char>,
    holds_vip: bool,
    b: bool,
}

fn node_view(
    i: usize,
    n: &NodeView,
    p: Place,
    engine: &Engine,
    marks: Marks,
    on_click: &Callback<usize>,
) -> Html {
    let Marks { side, holds_vip, b } = marks;
    let onclick = {
        let cb = on_click.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            cb.emit(i);
        })
    };
    let onkeydown = {
        let cb = on_click.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                e.stop_propagation();
                cb.emit(i);
            }
        })
    };
    let state = match (n.state, n.role) {
        (NodeState::Down, _) => "down",
        (_, Some(Role::Leader)) => "leader",
        (_, Some(Role::Candidate)) => "candidate",
        (NodeState::Slow, _) => "slow",
        (NodeState::Suspect, _) => "suspect",
        (_, Some(Role::Follower)) => "follower",
        _ if n.active == Some(false) => "standby",
        _ => "up",
    };
    let small = p.r < 10.0;
    let (x, y, r) = (p.x, p.y, p.r);
    let class = classes!(
        "node",
        format!("kind-{}", kind_class(n.kind)),
        format!("state-{state}"),
        (!b && engine.selected == Some(i)).then_some("selected"),
        (!b && engine.picked.contains(&i)).then_some("picked"),
        engine
            .lesson
            .as_ref()
            .and_then(|l| l.step())
            .is_some_and(|s| s.highlight.contains(&n.id))
            .then_some("highlight"),
        n.partitioned.then_some("partitioned"),
    );

    let badge = badge_text(n, holds_vip, engine.presenter);
    // The badge sits left of glyphs in the last column, right of all others.
    let badge_left = x > engine.orientation.size().0 - 160.0;
    // Below the glyph when there is room; in a crowded column (glyphs
    // closer than a label's height) beside it, on the side the badge is not.
    let (label_x, label_y, label_anchor) = if r >= 16.0 {
        // Centred under the glyph, but never past the diagram's edges (a
        // letter is at most about 0.6 em wide, and presenter mode uses 19 px).
        let half = n.id.chars().count() as f64 * 19.0 * 0.6 / 2.0;
        let width = engine.orientation.size().0;
        let cx = x.clamp(half + 2.0, (width - half - 2.0).max(half + 2.0));
        (cx, y + r + 15.0, "middle")
    } else if badge_left {
        (x + r + 4.0, y + 4.0, "start")
    } else {
        (x - r - 4.0, y + 4.0, "end")
    };
    let badge_w = badge
        .as_ref()
        .map(|b| b.chars().count() as f64 * 6.6)
        .unwrap_or(0.0);
    // An invisible area covering glyph, label and badge, so the whole node
    // answers clicks (not only the glyph's outline).
    let (hit_x0, hit_x1) = if badge_left {
        (x - r - 6.0 - badge_w, x + r + 6.0)
    } else {
        (x - r - 6.0, x + r + 6.0 + badge_w)
    };
    html! {
        <g class={class} data-node={n.id.clone()} data-state={state} data-kind={kind_class(n.kind)}
           role="button" tabindex={if small { "-1" } else { "0" }} aria-label={describe(n)} aria-pressed={(!b && engine.selected == Some(i)).to_string()}
           onclick={onclick} onkeydown={onkeydown}>
            <title>{ describe(n) }</title>
            <rect class="hit-area" x={format!("{hit_x0:.1}")} y={format!("{:.1}", y - r - 6.0)} width={format!("{:.1}", hit_x1 - hit_x0)} height={format!("{:.1}", 2.0 * r + if small { 12.0 } else { 26.0 })} />
            { glyph(n.kind, x, y, r) }
            if n.state == NodeState::Down {
                <path class="down-cross" d={format!("M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}", x - r, y - r, x + r, y + r, x + r, y - r, x - r, y + r)} />
            }
            if let Some(lag) = n.lag_ms.filter(|_| n.role == Some(Role::Follower)) {
                <rect class="lag-track" x={format!("{:.1}", x - r)} y={format!("{:.1}", y + r + 17.0)} width={format!("{:.1}", 2.0 * r)} height="5" />
                <rect class="lag-bar" x={format!("{:.1}", x - r)} y={format!("{:.1}", y + r + 17.0)} width={format!("{:.1}", 2.0 * r * (lag / 500.0).clamp(0.0, 1.0))} height="5" />
            }
            if !small {
                <text class="node-label" x={format!("{label_x:.1}")} y={format!("{label_y:.1}")} text-anchor={label_anchor}>{ &n.id }</text>
            }
            if let Some(b) = badge.filter(|_| !small) {
                <text class="node-badge" x={format!("{:.1}", if badge_left { x - r - 4.0 } else { x + r + 4.0 })} y={format!("{:.1}", y - r + 4.0)}
                      text-anchor={if badge_left { "end" } else { "start" }}>{ b }</text>
            }
            if let Some(s) = side {
                <text class="side-badge" x={format!("{x:.1}")} y={format!("{:.1}", y - r - 5.0)} text-anchor="middle">{ format!("side {s}") }</text>
            }
        </g>
    }
}

/// What a node's badge says; `brief` (presenter mode, large type) leaves
/// out busy workers unless requests are queued.
fn badge_text(n: &NodeView, holds_vip: bool, brief: bool) -> Option<String> {
    if n.state == NodeState::Down {
        return Some("down".into());
    }
    let mut parts = Vec::new();
    match n.role {
        Some(Role::Leader) => parts.push(format!("★ leader t{}", n.term.unwrap_or(0))),
        Some(Role::Candidate) => parts.push(format!("? candidate t{}", n.term.unwrap_or(0))),
        Some(Role::Follower) => {
            if let Some(l) = n.lag_ms {
                parts.push(format!("lag {l:.0} ms"));
            }
        }
        None => {}
    }
    match n.active {
        Some(true) if holds_vip => parts.push("active".into()),
        Some(true) => parts.push("active?".into()),
        Some(false) => parts.push("standby".into()),
        None => {}
    }
    if n.slow > 1.0 {
        parts.push(format!("slow ×{}", n.slow));
    }
    if n.state == NodeState::Suspect {
        parts.push("? unhealthy".into());
    }
    if n.kind == NodeKind::App
        && let Some(share) = n.share.filter(|s| *s > 0.0)
    {
        parts.push(format!("{:.0} % load", share * 100.0));
    }
    if n.kind == NodeKind::Db
        && n.role == Some(Role::Leader)
        && let Some(share) = n.share
    {
        parts.push(format!(
            "shard {}: {:.0} % of load",
            n.shard.unwrap_or(0),
            share * 100.0
        ));
    }
    if n.kind == NodeKind::Queue {
        parts.push(format!("backlog {}", n.queued.unwrap_or(0)));
    } else if n.kind == NodeKind::Worker {
        parts.push(if n.busy == Some(1) {
            "working".into()
        } else {
            "idle".into()
        });
    } else if let (Some(b), Some(q)) = (n.busy, n.queued)
        && (q > 0 || (b > 0 && !brief))
    {
        parts.push(format!(
            "{b} busy{}",
            if q > 0 {
                format!(", {q} queued")
            } else {
                String::new()
            }
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// CSS-friendly name of a kind.
pub fn kind_class(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Client => "client",
        NodeKind::Resolver => "resolver",
        NodeKind::DnsAuthority => "dns-authority",
        NodeKind::Cdn => "cdn",
        NodeKind::Lb => "lb",
        NodeKind::App => "app",
        NodeKind::Cache => "cache",
        NodeKind::Db => "db",
        NodeKind::Queue => "queue",
        NodeKind::Worker => "worker",
    }
}

/// A distinct outline per kind, so kinds differ by shape, not only colour.
fn glyph(kind: NodeKind, x: f64, y: f64, r: f64) -> Html {
    let f = |v: f64| format!("{v:.1}");
    match kind {
        NodeKind::Client => html! {
            <g class="glyph">
                <circle cx={f(x)} cy={f(y - r * 0.35)} r={f(r * 0.38)} />
                <path d={format!("M{} {}Q{} {} {} {}Z", f(x - r * 0.8), f(y + r * 0.85), f(x), f(y - r * 0.2), f(x + r * 0.8), f(y + r * 0.85))} />
                <circle class="hit" cx={f(x)} cy={f(y)} r={f(r)} />
            </g>
        },
        NodeKind::Resolver | NodeKind::DnsAuthority => {
            // The corners of a hexagon (cosine and sine of k × 60°), as
            // constants: trigonometry would pull a second copy of the
            // math routines into the bundle.
            const HEX: [(f64, f64); 6] = [
                (1.0, 0.0),
                (0.5, 0.866_025_403_784_438_6),
                (-0.5, 0.866_025_403_784_438_6),
                (-1.0, 0.0),
                (-0.5, -0.866_025_403_784_438_6),
                (0.5, -0.866_025_403_784_438_6),
            ];
            let pts: Vec<String> = HEX
                .iter()
                .map(|(c, s)| format!("{:.1},{:.1}", x + r * c, y + r * s))
                .collect();
            html! { <polygon class="glyph" points={pts.join(" ")} /> }
        }
        NodeKind::Cdn => {
            html! { <ellipse class="glyph" cx={f(x)} cy={f(y)} rx={f(r * 1.15)} ry={f(r * 0.8)} /> }
        }
        NodeKind::Lb => html! {
            <polygon class="glyph" points={format!("{},{} {},{} {},{} {},{}", f(x), f(y - r), f(x + r), f(y), f(x), f(y + r), f(x - r), f(y))} />
        },
        NodeKind::App => {
            html! { <rect class="glyph" x={f(x - r)} y={f(y - r * 0.8)} width={f(2.0 * r)} height={f(1.6 * r)} rx={f(r * 0.15)} /> }
        }
        NodeKind::Cache => html! {
            <g class="glyph">
                <rect x={f(x - r)} y={f(y - r * 0.8)} width={f(2.0 * r)} height={f(1.6 * r)} rx={f(r * 0.6)} />
                <path class="bolt" d={format!("M{} {}L{} {}L{} {}L{} {}", f(x + r * 0.15), f(y - r * 0.6), f(x - r * 0.3), f(y + r * 0.1), f(x + r * 0.1), f(y + r * 0.1), f(x - r * 0.15), f(y + r * 0.6))} />
            </g>
        },
        NodeKind::Queue => html! {
            <g class="glyph">
                <rect x={f(x - r * 1.2)} y={f(y - r * 0.6)} width={f(2.4 * r)} height={f(1.2 * r)} rx={f(r * 0.2)} />
                <path d={format!("M{} {}L{} {}M{} {}L{} {}", f(x - r * 0.4), f(y - r * 0.6), f(x - r * 0.4), f(y + r * 0.6), f(x + r * 0.4), f(y - r * 0.6), f(x + r * 0.4), f(y + r * 0.6))} />
            </g>
        },
        NodeKind::Worker => html! {
            <polygon class="glyph" points={format!("{},{} {},{} {},{}", f(x), f(y - r), f(x + r), f(y + r * 0.8), f(x - r), f(y + r * 0.8))} />
        },
        NodeKind::Db => html! {
            <g class="glyph">
                <path d={format!("M{} {}L{} {}A{} {} 0 0 0 {} {}L{} {}", f(x - r * 0.85), f(y - r * 0.6), f(x - r * 0.85), f(y + r * 0.6), f(r * 0.85), f(r * 0.3), f(x + r * 0.85), f(y + r * 0.6), f(x + r * 0.85), f(y - r * 0.6))} />
                <ellipse cx={f(x)} cy={f(y - r * 0.6)} rx={f(r * 0.85)} ry={f(r * 0.3)} />
            </g>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathlab_sim::{Command, Simulation, presets};

    #[test]
    fn a_crashed_leader_is_described_as_down_not_as_a_follower() {
        let mut sim = Simulation::new(&presets::preset("default").unwrap(), 1).unwrap();
        sim.run_for(1.0);
        sim.apply(&Command::Crash {
            node: "db-0-0".into(),
        })
        .unwrap();
        let snap = sim.snapshot(0);
        let n = snap.nodes.iter().find(|n| n.id == "db-0-0").unwrap();
        let words = describe(n);
        assert!(words.contains("down"), "{words}");
        assert!(
            !words.contains("follower") && !words.contains("leader"),
            "{words}"
        );
    }
}
