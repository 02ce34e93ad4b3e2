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
    let mut per_column = [0usize; COLUMNS.len()];
    for &k in kinds {
        per_column[column_of(k)] += 1;
    }
    let mut seen = [0usize; COLUMNS.len()];
    let xs = column_xs(kinds);
    let columns = xs.iter().filter(|x| x.is_some()).count().max(1);
    let column_width = WIDTH / columns as f64;
    kinds
        .iter()
        .map(|&k| {
            let col = column_of(k);
            let n = per_column[col].max(1);
            // A crowded column becomes a grid of narrow sub-columns.
            let subs = n.div_ceil(MAX_ROWS);
            let rows = n.div_ceil(subs);
            let i = seen[col];
            seen[col] += 1;
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
