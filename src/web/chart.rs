//! The trends chart: monthly counts in questions and answers drawn as an SVG line chart on the
//! server, so the page needs no script.

use maud::{Markup, html};

use crate::search::TrendSeries;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;

/// The smallest "round" axis maximum (1, 2, 5 × 10ⁿ) at or above `value`.
pub fn nice_ceiling(value: u32) -> u32 {
    if value <= 1 {
        return 1;
    }
    let mut step = 1u32;
    loop {
        for factor in [1, 2, 5] {
            let candidate = step.saturating_mul(factor);
            if candidate >= value {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

fn x_of(index: usize, count: usize) -> f64 {
    let span = WIDTH - LEFT - RIGHT;
    if count <= 1 {
        return LEFT + span / 2.0;
    }
    LEFT + span * index as f64 / (count - 1) as f64
}

fn y_of(value: u32, max: u32) -> f64 {
    let span = HEIGHT - TOP - BOTTOM;
    TOP + span * (1.0 - f64::from(value) / f64::from(max.max(1)))
}

fn points(values: impl Iterator<Item = u32>, count: usize, max: u32) -> String {
    values
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x_of(i, count), y_of(v, max)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One chart for one term. Every chart of a page uses the same months, and `shared_max` so that
/// terms side by side compare at a glance.
pub fn trend_chart(series: &TrendSeries, shared_max: u32) -> Markup {
    let count = series.months.len();
    let max = nice_ceiling(shared_max);
    let questions = points(series.months.iter().map(|m| m.1), count, max);
    let answers = points(series.months.iter().map(|m| m.2), count, max);
    let label = format!(
        "Exchanges mentioning {} per month: {} in questions, {} in answers",
        series.term, series.total_questions, series.total_answers
    );
    html! {
        svg class="chart" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label)
            xmlns="http://www.w3.org/2000/svg" {
            title { (label) }
            @for tick in [0, max / 2, max] {
                line class="grid" x1=(LEFT) x2=(WIDTH - RIGHT)
                    y1=(format!("{:.1}", y_of(tick, max))) y2=(format!("{:.1}", y_of(tick, max))) {}
                text class="tick" x=(LEFT - 6.0) y=(format!("{:.1}", y_of(tick, max) + 4.0))
                    text-anchor="end" { (tick) }
            }
            @for (i, (month, _, _)) in series.months.iter().enumerate() {
                @if count <= 12 || i == 0 || month.ends_with("-01") {
                    line class="axis" x1=(format!("{:.1}", x_of(i, count))) x2=(format!("{:.1}", x_of(i, count)))
                        y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM + 5.0) {}
                    text class="tick" x=(format!("{:.1}", x_of(i, count))) y=(HEIGHT - BOTTOM + 18.0)
                        text-anchor="middle" { (month) }
                }
            }
            line class="axis" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
            @if count > 0 {
                polyline class="questions" points=(questions) {}
                polyline class="answers" points=(answers) {}
            }
            // Dots keep short series (a single month) visible and each month hoverable.
            @if count <= 36 {
                @for (i, (month, q, a)) in series.months.iter().enumerate() {
                    circle class="questions" r="2.5" cx=(format!("{:.1}", x_of(i, count))) cy=(format!("{:.1}", y_of(*q, max))) {
                        title { (month) ": " (q) " in questions" }
                    }
                    circle class="answers" r="2.5" cx=(format!("{:.1}", x_of(i, count))) cy=(format!("{:.1}", y_of(*a, max))) {
                        title { (month) ": " (a) " in answers" }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maximum_is_round() {
        assert_eq!(
            [0, 1, 2, 3, 7, 10, 11, 49, 51, 120].map(nice_ceiling),
            [1, 1, 2, 5, 10, 10, 20, 50, 100, 200]
        );
    }

    #[test]
    fn chart_has_a_point_per_month_and_escapes_the_term() {
        let series = TrendSeries {
            term: "<script>".into(),
            months: vec![
                ("2019-12".into(), 1, 4),
                ("2020-01".into(), 0, 2),
                ("2020-02".into(), 3, 0),
            ],
            total_questions: 4,
            total_answers: 6,
        };
        let svg = trend_chart(&series, 4).into_string();
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        let answers = svg.split("class=\"answers\" points=\"").nth(1).unwrap();
        let answers = answers.split('"').next().unwrap();
        assert_eq!(answers.split(' ').count(), 3);
        // 4 answers is the top of the axis (max 5 → y at 4/5 of the height).
        assert!(
            svg.contains(">2020-01<") && svg.contains(">2020-02<"),
            "few months: each labelled"
        );
        assert_eq!(
            svg.matches("<circle").count(),
            6,
            "a dot per month and series"
        );

        let long = TrendSeries {
            months: crate::search::months_between(
                "2018-11-01".parse().unwrap(),
                "2020-07-01".parse().unwrap(),
            )
            .into_iter()
            .map(|m| (m, 1, 1))
            .collect(),
            ..series
        };
        let svg = trend_chart(&long, 1).into_string();
        let labels: Vec<&str> = svg
            .split("text-anchor=\"middle\">")
            .skip(1)
            .map(|t| t.split('<').next().unwrap())
            .collect();
        assert_eq!(labels, ["2018-11", "2019-01", "2020-01"]);
    }
}
