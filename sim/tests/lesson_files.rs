//! Every lesson in `lessons/` played at its seed: each claim its steps make about the run holds, each question has exactly one right answer, and the lessons together cover the topics in order.

use pathlab_sim::lesson::Lesson;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn lesson_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../lessons");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_claim_of_every_lesson_holds_in_its_run() {
    let mut failed = Vec::new();
    let mut ids = BTreeSet::new();
    let mut orders = BTreeSet::new();
    let files = lesson_files();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let lesson = Lesson::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let report = lesson
            .check()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            ids.insert(lesson.id.clone()),
            "two lessons are called {}",
            lesson.id
        );
        assert!(
            orders.insert(lesson.order),
            "two lessons have order {}",
            lesson.order
        );
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            name.starts_with(&format!("{:02}-{}", lesson.order, lesson.id)),
            "{name} should be named {:02}-{}.json",
            lesson.order,
            lesson.id
        );
        let asks = lesson.steps.iter().filter(|s| s.predict.is_some()).count();
        assert!(
            asks >= 1,
            "{}: no step asks the student to predict",
            lesson.id
        );
        let claims: usize = report.steps.iter().map(|s| s.claims.len()).sum();
        assert!(
            claims >= 2,
            "{}: only {claims} claims are checked",
            lesson.id
        );
        for s in &report.steps {
            for c in s.claims.iter().filter(|c| !c.held) {
                failed.push(format!(
                    "{} step {} {:?}: {} (it is {})",
                    lesson.id, s.step, s.title, c.claim, c.value
                ));
            }
        }
    }
    assert!(
        files.len() >= 18,
        "{} lessons; the topics need at least 18",
        files.len()
    );
    assert!(
        failed.is_empty(),
        "claims that do not hold:\n{}",
        failed.join("\n")
    );
}
