//! Lessons in the app: the lesson files the core's worker carries, the lesson a student is in (its run, played step by step in the worker), and what the page is told of it — the index, each step's words and question, and the reveal with the run's own figures.

use pathlab_sim::lesson::{Figures, Lesson, WhyKind};
use pathlab_sim::{Command, SimTime, Timeline};

include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// A lesson in the index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Card {
    pub id: String,
    pub order: u32,
    pub title: String,
    pub topic: String,
    pub minutes: u32,
    pub you_will_see: String,
    pub steps: u32,
}

/// What the page shows of one step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepView {
    pub title: String,
    pub text: String,
    pub highlight: Vec<String>,
    /// What the student is asked to do, in words, and the command that
    /// does it.
    pub ask: Option<(String, Command)>,
    /// The prediction question, its choices, or the number to guess: its
    /// unit and bounds.
    pub question: Option<String>,
    pub choices: Vec<String>,
    pub guess: Option<(String, f64, f64)>,
    /// Where the step stops playing.
    pub play_to: SimTime,
    /// The kind of anomaly whose story the reveal offers.
    pub why: Option<WhyKind>,
}

/// What the page shows of a lesson.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LessonView {
    pub id: String,
    pub title: String,
    pub topic: String,
    pub steps: Vec<StepView>,
}

/// A step's reveal, once it has played.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Revealed {
    /// The reveal's text with the run's figures.
    pub text: String,
    /// The right choice (from 0), when the question has choices.
    pub right_choice: Option<u32>,
    /// The measured figure and how close counts as right, when the
    /// question asks for a number.
    pub figure: Option<(f64, f64)>,
    /// Claims of the step that held in this run, of how many.
    pub held: u32,
    pub claims: u32,
}

/// The lesson the student is in: which step, and its reveal once played.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LessonState {
    pub lesson: LessonView,
    /// The step, from 0.
    pub step: u32,
    pub revealed: Option<Revealed>,
}

/// Every built-in lesson, read (a file that does not read is left out: a
/// test keeps them all readable).
pub fn all() -> Vec<Lesson> {
    let mut lessons: Vec<Lesson> = LESSON_FILES
        .iter()
        .filter_map(|(_, text)| Lesson::from_json(text).ok())
        .collect();
    lessons.sort_by_key(|l| l.order);
    lessons
}

/// The index's cards, in order.
pub fn cards() -> Vec<Card> {
    all()
        .iter()
        .map(|l| Card {
            id: l.id.clone(),
            order: l.order,
            title: l.title.clone(),
            topic: l.topic.clone(),
            minutes: l.minutes,
            you_will_see: l.you_will_see.clone(),
            steps: l.steps.len() as u32,
        })
        .collect()
}

/// The built-in lesson called `id`.
pub fn find(id: &str) -> Result<Lesson, String> {
    all().into_iter().find(|l| l.id == id).ok_or_else(|| {
        format!(
            "there is no lesson {id:?} (the lessons are {})",
            all()
                .iter()
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// What the page shows of `lesson`.
pub fn view_of(lesson: &Lesson) -> LessonView {
    LessonView {
        id: lesson.id.clone(),
        title: lesson.title.clone(),
        topic: lesson.topic.clone(),
        steps: lesson
            .steps
            .iter()
            .map(|s| StepView {
                title: s.title.clone(),
                text: s.text.clone(),
                highlight: s.highlight.clone(),
                ask: s.ask.as_ref().map(|a| (a.text.clone(), a.command.clone())),
                question: s.predict.as_ref().map(|p| p.question.clone()),
                choices: s
                    .predict
                    .as_ref()
                    .map(|p| p.choices.iter().map(|c| c.text.clone()).collect())
                    .unwrap_or_default(),
                guess: s
                    .predict
                    .as_ref()
                    .and_then(|p| p.number.as_ref())
                    .map(|g| (g.unit.clone(), g.min, g.max)),
                play_to: SimTime::from_secs_f64(s.play_to),
                why: s.why,
            })
            .collect(),
    }
}

/// A lesson under way in the core: the lesson, its step, and the run's
/// figures where the step started.
#[derive(Debug)]
pub struct Active {
    pub lesson: Lesson,
    pub step: usize,
    start: Figures,
    revealed: Option<Revealed>,
}

impl Active {
    /// Plays `lesson` from its start to the beginning of step `step` (from
    /// 0): each earlier step's commands and request done as it starts, and
    /// played to its end; then this step's commands. The student does the
    /// step's request (or asks for it done).
    pub fn open(lesson: Lesson, step: usize) -> Result<(Timeline, Active), String> {
        lesson.validate().map_err(|e| e.to_string())?;
        let step = step.min(lesson.steps.len().saturating_sub(1));
        let scenario = lesson.scenario().map_err(|e| e.to_string())?;
        let mut run = Timeline::new(&scenario, lesson.seed).map_err(|e| e.to_string())?;
        let fail = |i: usize, e: pathlab_sim::error::Error| {
            format!("lesson {}, step {}: {e}", lesson.id, i + 1)
        };
        for (i, s) in lesson.steps.iter().enumerate().take(step) {
            for c in s.commands.iter().chain(s.ask.as_ref().map(|a| &a.command)) {
                run.apply(c).map_err(|e| fail(i, e))?;
            }
            run.advance(SimTime::from_secs_f64(s.play_to), u64::MAX);
        }
        let start = Figures::start(run.sim());
        for c in &lesson.steps[step].commands {
            run.apply(c).map_err(|e| fail(step, e))?;
        }
        Ok((
            run,
            Active {
                lesson,
                step,
                start,
                revealed: None,
            },
        ))
    }

    /// Whether `run` stands where this step ends, untouched since it was
    /// revealed (so the next step can go on from here).
    pub fn at_end(&self, run: &Timeline) -> bool {
        self.revealed.is_some()
            && !run.in_past()
            && run.cursor() == SimTime::from_secs_f64(self.lesson.steps[self.step].play_to)
    }

    /// Goes on to the next step from the end of this one.
    pub fn next(&mut self, run: &mut Timeline) -> Result<(), String> {
        let step = self.step + 1;
        let s = self
            .lesson
            .steps
            .get(step)
            .ok_or("this is the lesson's last step")?;
        self.start = Figures::start(run.sim());
        for c in &s.commands {
            run.apply(c)
                .map_err(|e| format!("lesson {}, step {}: {e}", self.lesson.id, step + 1))?;
        }
        self.step = step;
        self.revealed = None;
        Ok(())
    }

    /// The step's reveal from the run as it is now: its text filled with
    /// the run's figures, the question's right answer, the claims that held.
    pub fn reveal(&mut self, run: &Timeline) -> Revealed {
        let s = &self.lesson.steps[self.step];
        let mut figures = self.start.clone();
        figures.update(run.sim());
        let holds = |claim: &str| figures.judge(claim).is_ok_and(|(_, held)| held);
        let right_choice = s.predict.as_ref().and_then(|p| {
            p.choices
                .iter()
                .position(|c| holds(&c.claim))
                .map(|k| k as u32)
        });
        let figure = s
            .predict
            .as_ref()
            .and_then(|p| p.number.as_ref())
            .and_then(|g| figures.get(&g.figure).ok().map(|x| (x, g.within)));
        let held = s.claims.iter().filter(|c| holds(c)).count() as u32;
        let text = s
            .reveal
            .as_ref()
            .map(|r| figures.fill(r).unwrap_or_else(|e| format!("({e})")))
            .unwrap_or_default();
        let r = Revealed {
            text,
            right_choice,
            figure,
            held,
            claims: s.claims.len() as u32,
        };
        self.revealed = Some(r.clone());
        r
    }

    /// What the page is told.
    pub fn state(&self) -> LessonState {
        LessonState {
            lesson: view_of(&self.lesson),
            step: self.step as u32,
            revealed: self.revealed.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_file_is_built_in_and_reads() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lessons");
        let on_disk = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
                })
                .count()
            })
            .unwrap_or(0);
        assert_eq!(LESSON_FILES.len(), on_disk);
        for (name, text) in LESSON_FILES {
            assert!(Lesson::from_json(text).is_ok(), "{name} does not read");
        }
        assert_eq!(all().len(), LESSON_FILES.len());
    }
}
