//! The links the diagram draws (who talks to whom on the request path) and the sides of a partition, derived from plain snapshot data.

use pathlab_sim::{NodeKind, NodeView};
use std::collections::BTreeMap;

/// Index pairs of nodes that talk to each other on the request path.
pub fn links(nodes: &[NodeView]) -> Vec<(usize, usize)> {
    let of = |k: NodeKind| -> Vec<usize> {
        nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == k)
            .map(|(i, _)| i)
            .collect()
    };
    let (queues, workers) = (of(NodeKind::Queue), of(NodeKind::Worker));
    let (clients, resolvers, auth, cdns, lbs, apps, caches, dbs) = (
        of(NodeKind::Client),
        of(NodeKind::Resolver),
        of(NodeKind::DnsAuthority),
        of(NodeKind::Cdn),
        of(NodeKind::Lb),
        of(NodeKind::App),
        of(NodeKind::Cache),
        of(NodeKind::Db),
    );
    let same_region = |a: usize, list: &[usize]| -> Vec<usize> {
        list.iter()
            .copied()
            .filter(|&b| nodes[b].region == nodes[a].region)
            .collect()
    };
    // With a site in several regions, users, balancers, app servers and
    // caches talk within their region (the node's own region's site, or
    // every one when its region has none).
    let local = |a: usize, list: &[usize]| -> Vec<usize> {
        let near = same_region(a, list);
        if near.is_empty() { list.to_vec() } else { near }
    };
    // The CDN's misses go to the origin: the first site.
    let origin: Vec<usize> = lbs.first().map_or(Vec::new(), |&l| same_region(l, &lbs));
    let mut out = Vec::new();
    for &c in &clients {
        for r in same_region(c, &resolvers) {
            out.push((c, r));
        }
        for e in same_region(c, &cdns) {
            out.push((c, e));
        }
        for l in local(c, &lbs) {
            out.push((c, l));
        }
    }
    for &r in &resolvers {
        for &a in &auth {
            out.push((r, a));
        }
    }
    for &e in &cdns {
        for &l in &origin {
            out.push((e, l));
        }
    }
    for &l in &lbs {
        for a in local(l, &apps) {
            out.push((l, a));
        }
    }
    for &q in &queues {
        for &a in &apps {
            out.push((a, q));
        }
        for &w in &workers {
            out.push((q, w));
        }
    }
    for &a in &apps {
        for c in local(a, &caches) {
            out.push((a, c));
        }
        for &d in &dbs {
            out.push((a, d));
        }
    }
    for (i, &a) in dbs.iter().enumerate() {
        for &b in &dbs[i + 1..] {
            out.push((a, b));
        }
    }
    out
}

/// Whether messages between `a` and `b` are cut in either direction.
pub fn is_cut(cut: &[(u16, u16)], a: usize, b: usize) -> bool {
    cut.iter()
        .any(|&(x, y)| (x as usize == a && y as usize == b) || (x as usize == b && y as usize == a))
}

/// Names the sides of a partition: nodes cut off from the same set of nodes
/// share a side, lettered A, B, … in diagram order. Nodes untouched by any
/// cut have no side.
pub fn sides(n: usize, cut: &[(u16, u16)]) -> Vec<Option<char>> {
    let mut cut_from: Vec<Vec<u16>> = vec![Vec::new(); n];
    for &(a, b) in cut {
        if (a as usize) < n && (b as usize) < n {
            cut_from[a as usize].push(b);
            cut_from[b as usize].push(a);
        }
    }
    let mut letters: BTreeMap<Vec<u16>, char> = BTreeMap::new();
    let mut next = b'A';
    cut_from
        .into_iter()
        .map(|mut set| {
            if set.is_empty() {
                return None;
            }
            set.sort_unstable();
            set.dedup();
            Some(*letters.entry(set).or_insert_with(|| {
                let c = next as char;
                next = next.saturating_add(1).min(b'Z');
                c
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathlab_sim::{Command, Scenario, Simulation};

    #[test]
    fn the_request_path_is_linked_tier_to_tier() {
        let sim = Simulation::new(&Scenario::default(), 1).unwrap();
        let snap = sim.snapshot(0);
        let l = links(&snap.nodes);
        let idx = |name: &str| snap.nodes.iter().position(|n| n.id == name).unwrap();
        assert!(l.contains(&(idx("client-eu-west"), idx("dns-eu-west"))));
        assert!(l.contains(&(idx("client-eu-west"), idx("cdn-eu-west"))));
        assert!(!l.contains(&(idx("client-eu-west"), idx("cdn-us-east"))));
        assert!(l.contains(&(idx("lb-b"), idx("app-4"))));
        assert!(l.contains(&(idx("app-1"), idx("db-0-2"))));
        assert!(l.contains(&(idx("db-0-0"), idx("db-0-1"))));
    }

    #[test]
    fn a_two_way_partition_has_two_sides() {
        let mut sim = Simulation::new(&Scenario::default(), 1).unwrap();
        sim.apply(&Command::Partition {
            groups: vec![
                vec!["db-0-0".into(), "app-1".into()],
                vec!["db-0-1".into(), "db-0-2".into()],
            ],
        })
        .unwrap();
        let snap = sim.snapshot(0);
        let s = sides(snap.nodes.len(), &snap.cut);
        let side = |name: &str| s[snap.nodes.iter().position(|n| n.id == name).unwrap()];
        assert_eq!(side("db-0-0"), side("app-1"));
        assert_eq!(side("db-0-1"), side("db-0-2"));
        assert_ne!(side("db-0-0"), side("db-0-1"));
        assert_eq!(side("cache-1"), None);
        let (a, b) = (
            snap.nodes.iter().position(|n| n.id == "app-1").unwrap(),
            snap.nodes.iter().position(|n| n.id == "db-0-2").unwrap(),
        );
        assert!(is_cut(&snap.cut, a, b));
    }
}
