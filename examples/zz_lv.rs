use digits::vision::line::slant::{level, Levelling};
use digits::vision::line::turn::most_level_turn;
use digits::vision::preprocess;
fn main() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    for f in std::env::args().skip(2) {
        let ink = preprocess::ink_from_path(&dir.join(&f))?;
        let d = match level(&ink) {
            None => "none".to_string(),
            Some(Levelling::Shear(s)) => format!("shear {}", s.slope),
            Some(Levelling::Turn(t)) => format!("turn {}", t.degrees),
        };
        let p = most_level_turn(&ink, 1.0)
            .map(|(t, g, a)| format!("{} g{:.2} a{:.2}", t.degrees, g, a))
            .unwrap_or("-".into());
        let n = most_level_turn(&ink, -1.0)
            .map(|(t, g, a)| format!("{} g{:.2} a{:.2}", t.degrees, g, a))
            .unwrap_or("-".into());
        println!("{f} {d} | + {p} | - {n} | w {} h {}", ink.w, ink.h);
    }
    Ok(())
}
