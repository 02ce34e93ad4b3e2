//! Diagram layout: where each node sits, in columns that follow a request from the users to the database.

use pathlab_sim::NodeKind;

/// Width of the diagram's coordinate space (SVG viewBox and canvas).
pub const WIDTH: f64 = 1200.0;
/// Height of the diagram's coordinate space.
pub const HEIGHT: f64 = 560.0;
/// Space above the first row for column titles.
const TOP: f64 = 64.0;
/// Space below the last row.
const BOTTOM: f64 = 28.0;

/// Most nodes stacked in one sub-column before the column widens.
const MAX_ROWS: usize = 24;

/// Width of the coordinate space when the path runs down (narrow screens).
pub const DOWN_WIDTH: f64 = 600.0;
/// Height of the coordinate space when the path runs down.
pub const DOWN_HEIGHT: f64 = 1300.0;
/// Most nodes side by side in one row when the path runs down.
const MAX_ACROSS: usize = 6;
/// Space left and right of the rows, and above each row for its title.
const DOWN_MARGIN: f64 = 24.0;
const DOWN_TITLE: f64 = 30.0;

/// Which way the request path runs on the diagram: across a wide screen
/// (columns, users on the left), or down a narrow one (rows, users on top).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Orientation {
    /// Columns from left to right.
    #[default]
    Across,
    /// Rows from top to bottom.
    Down,
}

impl Orientation {
    /// The size of the coordinate space (width, height).
    pub fn size(self) -> (f64, f64) {
        match self {
            Orientation::Across => (WIDTH, HEIGHT),
            Orientation::Down => (DOWN_WIDTH, DOWN_HEIGHT),
        }
    }
}

/// Where each tier's title goes: (x, y, anchored at its start).
pub fn titles(kinds: &[NodeKind], o: Orientation) -> Vec<(&'static str, f64, f64, bool)> {
    let pos = column_xs_for(kinds, o);
    COLUMNS
        .iter()
        .zip(pos)
        .filter_map(|((title, _), p)| {
            let p = p?;
            Some(match o {
                Orientation::Across => (*title, p, 26.0, false),
                Orientation::Down => (
                    *title,
                    DOWN_MARGIN / 2.0,
                    p - down_step(kinds) / 2.0 + 20.0,
                    true,
                ),
            })
        })
        .collect()
}

/// The height of one row when the path runs down.
fn down_step(kinds: &[NodeKind]) -> f64 {
    let rows = column_xs(kinds)
        .iter()
        .filter(|x| x.is_some())
        .count()
        .max(1);
    (DOWN_HEIGHT - 10.0) / rows as f64
}

/// The centre of each tier along the path (x across, y down).
fn column_xs_for(kinds: &[NodeKind], o: Orientation) -> [Option<f64>; COLUMNS.len()] {
    let mut xs = column_xs(kinds);
    if o == Orientation::Down {
        let step = down_step(kinds);
        let mut i = 0.0;
        for x in xs.iter_mut().flatten() {
            *x = 5.0 + step * (i + 0.5);
            i += 1.0;
        }
    }
    xs
}

/// For each node, in order: its tier, its place among that tier's nodes,
/// and how many nodes the tier has.
fn slots(kinds: &[NodeKind]) -> Vec<(usize, usize, usize)> {
    let mut per_tier = [0usize; COLUMNS.len()];
    for &k in kinds {
        per_tier[column_of(k)] += 1;
    }
    let mut seen = [0usize; COLUMNS.len()];
    kinds
        .iter()
        .map(|&k| {
            let tier = column_of(k);
            seen[tier] += 1;
            (tier, seen[tier] - 1, per_tier[tier].max(1))
        })
        .collect()
}

/// Places every node for orientation `o`.
pub fn layout_for(kinds: &[NodeKind], o: Orientation) -> Vec<Place> {
    match o {
        Orientation::Across => layout(kinds),
        Orientation::Down => layout_down(kinds),
    }
}

/// Places every node in rows down a narrow screen: each tier's row spreads
/// its nodes across (a crowded tier wraps into several lines), under its title.
fn layout_down(kinds: &[NodeKind]) -> Vec<Place> {
    let ys = column_xs_for(kinds, Orientation::Down);
    let step = down_step(kinds);
    slots(kinds)
        .into_iter()
        .map(|(row, i, n)| {
            let across = n.min(MAX_ACROSS);
            let lines = n.div_ceil(across);
            let (col, line) = (i % across, i / across);
            let gap_x = (DOWN_WIDTH - 2.0 * DOWN_MARGIN) / across as f64;
            let usable = step - DOWN_TITLE - 20.0;
            let gap_y = usable / lines as f64;
            let r = (gap_x * 0.3).min(gap_y * 0.3).clamp(2.0, 30.0);
            let top = ys[row].unwrap_or(0.0) - step / 2.0 + DOWN_TITLE;
            Place {
                x: DOWN_MARGIN + gap_x * (col as f64 + 0.5),
                y: top + gap_y * (line as f64 + 0.5),
                r,
            }
        })
        .collect()
}

/// The columns, in the order a request meets them.
pub const COLUMNS: [(&str, &[NodeKind]); 8] = [
    ("Users", &[NodeKind::Client]),
    ("DNS", &[NodeKind::Resolver, NodeKind::DnsAuthority]),
    ("CDN", &[NodeKind::Cdn]),
    ("Load balancers", &[NodeKind::Lb]),
    ("App servers", &[NodeKind::App]),
    ("Cache", &[NodeKind::Cache]),
    ("Queue", &[NodeKind::Queue, NodeKind::Worker]),
    ("Database", &[NodeKind::Db]),
];

/// A node's place on the diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    /// Centre, x.
    pub x: f64,
    /// Centre, y.
    pub y: f64,
    /// Glyph radius: smaller when a column is crowded.
    pub r: f64,
}

/// The column a kind of node belongs to.
pub fn column_of(kind: NodeKind) -> usize {
    COLUMNS
        .iter()
        .position(|(_, kinds)| kinds.contains(&kind))
        .unwrap_or(0)
}

/// The x coordinate of each column's centre, for the columns that have
/// nodes (empty columns take no room).
pub fn column_xs(kinds: &[NodeKind]) -> [Option<f64>; COLUMNS.len()] {
    let mut used = [false; COLUMNS.len()];
    for &k in kinds {
        used[column_of(k)] = true;
    }
    let n = used.iter().filter(|u| **u).count().max(1) as f64;
    let step = WIDTH / n;
    let mut xs = [None; COLUMNS.len()];
    let mut i = 0.0;
    for (c, u) in used.iter().enumerate() {
        if *u {
            xs[c] = Some(step * (i + 0.5));
            i += 1.0;
        }
    }
    xs
}

/// Places every node: each column spreads its nodes evenly from top to
/// bottom, in the order given (which is the simulation's node order).
pub fn layout(kinds: &[NodeKind]) -> Vec<Place> {
    let xs = column_xs(kinds);
    let columns = xs.iter().filter(|x| x.is_some()).count().max(1);
    let column_width = WIDTH / columns as f64;
    slots(kinds)
        .into_iter()
        .map(|(col, i, n)| {
            // A crowded column becomes a grid of narrow sub-columns.
            let subs = n.div_ceil(MAX_ROWS);
            let rows = n.div_ceil(subs);
            let (row, sub) = (i % rows, i / rows);
            let usable = HEIGHT - TOP - BOTTOM;
            let gap_y = usable / rows as f64;
            let gap_x = column_width * 0.9 / subs as f64;
            let r = (gap_y * 0.36).min(gap_x * 0.4).clamp(2.0, 26.0);
            Place {
                x: xs[col].unwrap_or(0.0) + (sub as f64 - (subs as f64 - 1.0) / 2.0) * gap_x,
                y: TOP + gap_y * (row as f64 + 0.5),
                r,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_request_path_and_nodes_do_not_overlap() {
        let kinds = [
            NodeKind::Client,
            NodeKind::Client,
            NodeKind::Resolver,
            NodeKind::DnsAuthority,
            NodeKind::Cdn,
            NodeKind::Lb,
            NodeKind::Lb,
            NodeKind::App,
            NodeKind::App,
            NodeKind::App,
            NodeKind::Cache,
            NodeKind::Db,
            NodeKind::Db,
        ];
        let p = layout(&kinds);
        // No queue here: its column takes no room.
        assert!(column_xs(&kinds)[6].is_none());
        assert!(p[0].x < p[2].x && p[2].x < p[4].x && p[4].x < p[5].x && p[5].x < p[7].x);
        assert!(p[7].x < p[10].x && p[10].x < p[11].x);
        // Same column, stacked with room between glyphs.
        assert_eq!(p[7].x, p[8].x);
        assert!(p[8].y - p[7].y > p[7].r + p[8].r);
        for q in &p {
            assert!(q.y - q.r > 0.0 && q.y + q.r < HEIGHT);
        }
    }

    #[test]
    fn down_a_narrow_screen_tiers_are_rows_in_path_order_with_room_to_tap() {
        let kinds = [
            NodeKind::Client,
            NodeKind::Client,
            NodeKind::Client,
            NodeKind::Resolver,
            NodeKind::Lb,
            NodeKind::Lb,
            NodeKind::App,
            NodeKind::App,
            NodeKind::App,
            NodeKind::App,
            NodeKind::Cache,
            NodeKind::Db,
            NodeKind::Db,
            NodeKind::Db,
        ];
        let p = layout_for(&kinds, Orientation::Down);
        // Users on top, the database at the bottom; a tier shares a row.
        assert!(p[0].y < p[3].y && p[3].y < p[4].y && p[4].y < p[6].y && p[6].y < p[11].y);
        assert_eq!(p[6].y, p[9].y);
        for q in &p {
            assert!(q.x - q.r > 0.0 && q.x + q.r < DOWN_WIDTH);
            assert!(q.y - q.r > 0.0 && q.y + q.r < DOWN_HEIGHT);
            // At 390 px wide the diagram is drawn at 0.65 of these units:
            // a glyph and its label are a target of at least 40 px.
            assert!(q.r * 2.0 * 390.0 / DOWN_WIDTH >= 26.0, "{q:?}");
        }
    }

    #[test]
    fn a_crowded_column_shrinks_its_glyphs_but_keeps_them_apart() {
        let kinds: Vec<NodeKind> = std::iter::repeat_n(NodeKind::App, 184).collect();
        let p = layout(&kinds);
        assert!(p[0].r < 10.0);
        for (i, a) in p.iter().enumerate() {
            for b in &p[i + 1..] {
                let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
                assert!(d > a.r + b.r, "glyphs overlap: {a:?} {b:?}");
            }
            // Still inside the app column.
            assert!((a.x - column_xs(&kinds)[4].unwrap()).abs() < WIDTH / 2.0);
        }
    }
}
