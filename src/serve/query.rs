//! What a request's query asks for: flags (`?debug=1`), the reject option's level
//! (`?min_confidence=0.8`, else the server's `--min-confidence`) and the number of digits a
//! number has (`?digits=5`).

use super::error::ApiError;
use super::state::AppState;
use crate::vision::expect::Expected;
use crate::vision::reject::parse_probability;

/// The value of `name` in the query (the last one given), if any.
pub fn param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .next_back()
}

/// Whether the query holds `name=1` or `name=true`.
pub fn flag(query: Option<&str>, name: &str) -> bool {
    matches!(param(query, name), Some("1" | "true"))
}

/// The level answers are accepted from: the query's `min_confidence`, else the server's; None
/// when neither asks for one. A value that is not a probability is a 400 naming it.
pub fn min_confidence(state: &AppState, query: Option<&str>) -> Result<Option<f32>, ApiError> {
    match param(query, "min_confidence") {
        Some(v) => parse_probability(v)
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("min_confidence: {e}"))),
        None => Ok(state.min_confidence),
    }
}

/// The number of digits the query's `digits` says a number has (N or N-M); None when it does
/// not say. A value that is not one is a 400 naming it.
pub fn expected_digits(query: Option<&str>) -> Result<Option<Expected>, ApiError> {
    param(query, "digits")
        .map(|v| {
            v.parse()
                .map_err(|e| ApiError::bad_request(format!("digits: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_flags_are_found_by_name() {
        let q = Some("debug=1&min_confidence=0.8&second_opinion=true");
        assert_eq!(param(q, "min_confidence"), Some("0.8"));
        assert_eq!(param(q, "confidence"), None);
        assert_eq!(param(None, "debug"), None);
        assert!(flag(q, "debug") && flag(q, "second_opinion"));
        assert!(!flag(Some("debug=0"), "debug") && !flag(Some("debug"), "debug"));
        assert_eq!(param(Some("a=1&a=2"), "a"), Some("2"));
    }

    #[test]
    fn digits_are_a_count_or_a_range_and_others_are_refused() {
        assert_eq!(expected_digits(None).unwrap(), None);
        let zip = expected_digits(Some("digits=5")).unwrap().unwrap();
        assert_eq!(zip.range(), 5..=5);
        let e = expected_digits(Some("min_confidence=0.5&digits=five")).unwrap_err();
        assert!(format!("{e:?}").contains("digits"), "{e:?}");
    }
}
