//! Links that carry an experiment: the preset and its design changes, the seed, the commands applied by hand in their exact places, the moment shown, the speed and the view — as versioned JSON, deflated and base64url-encoded into the address's fragment (`#run=…`). The core's worker makes and reads them, so the page's bundle holds none of this.

use crate::action::Redesign;
use base64::Engine as _;
use pathlab_sim::runfile::RunFile;
use pathlab_sim::{Applied, SimTime, Timeline};
use serde::{Deserialize, Serialize};

/// The version of the link format this build writes and opens.
pub const LINK_VERSION: u32 = 1;

/// Longest link fragment opened, in characters.
pub const MAX_LINK_CHARS: usize = 64 * 1024;

/// Most bytes a link's JSON may inflate to.
const MAX_LINK_JSON: usize = 1024 * 1024;

/// What a link holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkData {
    /// The format's version ([`LINK_VERSION`]).
    pub v: u32,
    /// The preset the run started from…
    pub preset: String,
    /// …with these design changes, in order.
    #[serde(default)]
    pub designs: Vec<Redesign>,
    /// The seed.
    pub seed: u64,
    /// Commands applied by hand, in their places.
    #[serde(default)]
    pub commands: Vec<Applied>,
    /// The moment shown (µs) and the events run by then.
    pub t: SimTime,
    pub events: u64,
    /// Playback speed.
    #[serde(default = "one")]
    pub speed: f64,
    /// Whether it plays when opened (otherwise it opens paused).
    #[serde(default)]
    pub play: bool,
    /// Presenter mode.
    #[serde(default)]
    pub present: bool,
    /// Run B, when the link shows a compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<crate::link::Against>,
}

fn one() -> f64 {
    1.0
}

impl LinkData {
    /// The link's fragment text (after `#run=`).
    pub fn encode(&self) -> String {
        // Plain data always serialises.
        let json = serde_json::to_vec(self).unwrap_or_default();
        let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)
    }

    /// Reads a link's fragment text, naming what is wrong with a bad one.
    pub fn decode(text: &str) -> Result<LinkData, String> {
        if text.len() > MAX_LINK_CHARS {
            return Err(format!(
                "it is {} characters long, more than the {MAX_LINK_CHARS} a link may have",
                text.len()
            ));
        }
        let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| "it is garbled (not base64url text)".to_string())?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_LINK_JSON)
            .map_err(|_| "it is cut short or garbled (its data does not unpack)".to_string())?;
        let raw: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| format!("its data is not readable: {e}"))?;
        match raw.get("v").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(LINK_VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "it is a version {v} link; this PathLab opens version {LINK_VERSION} links"
                ));
            }
            None => return Err("it has no version".into()),
        }
        let link: LinkData =
            serde_json::from_value(raw).map_err(|e| format!("its data is not readable: {e}"))?;
        if !(link.speed.is_finite() && link.speed > 0.0) {
            return Err(format!("its speed {} is not a positive number", link.speed));
        }
        Ok(link)
    }

    /// The run it describes, played to its moment.
    pub fn replay(&self) -> Result<Timeline, String> {
        let scenario = crate::live::scenario_of(&self.preset, &self.designs)?;
        let file = RunFile {
            pathlab_run: pathlab_sim::runfile::RUN_FILE_VERSION,
            scenario,
            seed: self.seed,
            commands: self.commands.clone(),
            until: self.t,
            events: self.events,
            fingerprint: None,
        };
        file.check_order()
            .map_err(|_| "its commands are not in order of time".to_string())?;
        file.replay().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathlab_sim::Command;

    fn sample() -> LinkData {
        let mut t =
            Timeline::new(&crate::live::scenario_of("leader-crash", &[]).unwrap(), 4).unwrap();
        t.advance(SimTime::from_secs_f64(21.0), 2_500);
        t.apply(&Command::Heal).unwrap();
        t.advance(SimTime::from_secs_f64(30.0), u64::MAX);
        LinkData {
            v: LINK_VERSION,
            preset: "leader-crash".into(),
            designs: vec![Redesign::DnsTtl(30.0)],
            seed: 4,
            commands: t.commands().cloned().collect(),
            t: t.cursor(),
            events: t.sim().events(),
            speed: 5.0,
            play: false,
            present: true,
            compare: None,
        }
    }

    #[test]
    fn a_link_reads_back_and_replays_to_its_moment() {
        let link = sample();
        let text = link.encode();
        assert!(text.len() < 600, "compact: {} characters", text.len());
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let back = LinkData::decode(&text).unwrap();
        assert_eq!(back, link);
        let run = back.replay().unwrap();
        assert_eq!((run.cursor(), run.sim().events()), (link.t, link.events));
        // The same run played by hand (designs included) has the same state.
        let mut by_hand = Timeline::new(
            &crate::live::scenario_of("leader-crash", &[Redesign::DnsTtl(30.0)]).unwrap(),
            4,
        )
        .unwrap();
        by_hand.advance(SimTime::from_secs_f64(21.0), 2_500);
        by_hand.apply(&Command::Heal).unwrap();
        by_hand.advance(SimTime::from_secs_f64(30.0), u64::MAX);
        assert_eq!(run.sim().fingerprint(), by_hand.sim().fingerprint());
    }

    #[test]
    fn bad_links_are_refused_by_what_is_wrong() {
        let good = sample().encode();
        assert!(LinkData::decode("%%%").unwrap_err().contains("garbled"));
        assert!(
            LinkData::decode(&good[..good.len() / 2])
                .unwrap_err()
                .contains("cut short")
        );
        assert!(
            LinkData::decode(&"A".repeat(MAX_LINK_CHARS + 1))
                .unwrap_err()
                .contains("more than")
        );
        let mut v2 = sample();
        v2.v = 2;
        assert!(
            LinkData::decode(&v2.encode())
                .unwrap_err()
                .contains("version 2")
        );
        let mut unknown = sample();
        unknown.preset = "no-such".into();
        assert!(
            LinkData::decode(&unknown.encode())
                .unwrap()
                .replay()
                .is_err()
        );
    }

    #[test]
    fn a_hundred_thousand_garbled_links_are_refused_without_a_panic() {
        // A fixed, portable sequence of bytes (a linear congruential
        // generator): garbage, and garbage made from a good link's pieces.
        let good = sample().encode().into_bytes();
        let alphabet: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as usize
        };
        let mut refused = 0;
        for i in 0..100_000 {
            let text: Vec<u8> = if i % 2 == 0 {
                (0..next() % 200)
                    .map(|_| alphabet[next() % alphabet.len()])
                    .collect()
            } else {
                let mut t = good.clone();
                for _ in 0..1 + next() % 3 {
                    let at = next() % t.len();
                    t[at] = alphabet[next() % alphabet.len()];
                }
                t
            };
            let text = String::from_utf8(text).unwrap();
            match LinkData::decode(&text) {
                Err(_) => refused += 1,
                Ok(link) => {
                    // Whatever still reads is replayed or refused, never a panic.
                    let _ = link.replay();
                }
            }
        }
        assert!(refused > 90_000, "{refused} refused");
    }
}
